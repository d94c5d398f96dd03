package handlers

import (
	"net/http"

	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// Console serves the start page.
type Console struct {
	s *Server
}

// Routes declares the start page.
func (h *Console) Routes(r *Router) {
	r.GET("/", "home", AccessStaff, h.Home)
}

// consoleSection is one part of the console the start page describes; it
// links to route once that route exists.
type consoleSection struct {
	key, route string
}

var consoleSections = []consoleSection{
	{key: "search", route: "users.search"},
	{key: "board", route: "users.search"},
	{key: "audit", route: "audit.index"},
	{key: "staff", route: "staff.index"},
}

// Home renders the start page: what the console does, with links to the
// parts that exist.
func (h *Console) Home(c echo.Context) error {
	ctx := c.Request().Context()
	vm := views.ConsolePageVM{
		Layout: h.s.layout(c, views.T(ctx, "console.title")),
		Demo:   h.s.cfg.Demo,
	}
	for _, sec := range consoleSections {
		vm.Sections = append(vm.Sections, views.ConsoleSectionVM{
			Key:         sec.key,
			Title:       views.T(ctx, "console."+sec.key+".title"),
			Description: views.T(ctx, "console."+sec.key+".desc"),
			URL:         h.s.echo.Reverse(sec.route), // "" while the route does not exist
		})
	}
	return Render(c, http.StatusOK, views.ConsolePage(vm), views.ConsoleContent(vm))
}
