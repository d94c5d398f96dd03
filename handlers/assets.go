package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// Cache policies for static files.
const (
	// cacheForever suits files whose URL changes with their content: vendored
	// libraries (the version is in the folder name) and app files requested
	// with their current content hash.
	cacheForever = "public, max-age=31536000, immutable"
	// cacheBriefly suits app files requested without their current hash.
	cacheBriefly = "public, max-age=300"
	cacheFavicon = "public, max-age=86400"
)

// The asset paths the layout loads, relative to static/.
const (
	assetCSS      = "css/app.css"
	assetBoardCSS = "css/board.css"
	assetAuditCSS = "css/audit.css"
	assetBoardJS  = "js/board.js"
	assetAuditJS  = "js/audit.js"
	assetAppJS    = "js/app.js"
	assetHTMX     = "vendor/htmx-2.0.11/htmx.min.js"
	assetSortable = "vendor/sortablejs-1.15.7/Sortable.min.js"
	assetFavicon  = "favicon.svg"
)

// asset is one embedded file, read and hashed once at start-up.
type asset struct {
	data        []byte
	etag        string // strong ETag: quoted content hash
	version     string // short content hash for ?v=
	contentType string
}

// assets serves the embedded static files.
type assets struct {
	files map[string]*asset // by path relative to static/
}

// contentTypes fixes the types of the file kinds we ship, rather than
// depending on the host's MIME tables.
var contentTypes = map[string]string{
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".svg":   "image/svg+xml",
	".md":    "text/markdown; charset=utf-8",
	".txt":   "text/plain; charset=utf-8",
	"":       "text/plain; charset=utf-8", // LICENSE
	".ico":   "image/x-icon",
	".png":   "image/png",
	".woff2": "font/woff2",
}

// loadAssets reads and hashes every file of fsys.
func loadAssets(fsys fs.FS) (*assets, error) {
	a := &assets{files: map[string]*asset{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		hash := hex.EncodeToString(sum[:])
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		a.files[p] = &asset{data: data, etag: `"` + hash[:32] + `"`, version: hash[:12], contentType: ct}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range []string{assetCSS, assetBoardCSS, assetAuditCSS, assetAppJS, assetBoardJS, assetAuditJS, assetHTMX, assetSortable, assetFavicon} {
		if a.files[p] == nil {
			return nil, &fs.PathError{Op: "load asset", Path: p, Err: fs.ErrNotExist}
		}
	}
	return a, nil
}

// Routes declares the static file routes.
func (a *assets) Routes(r *Router) {
	r.GET("/static/*", "static", AccessPublic, a.serve, Stateless())
	r.GET("/favicon.ico", "favicon", AccessPublic, a.favicon, Stateless())
}

// url returns the URL of the file at p with its content hash, so it can be
// cached for good.
func (a *assets) url(e *echo.Echo, p string) string {
	u := e.Reverse("static", p)
	if f := a.files[p]; f != nil {
		u += "?v=" + f.version
	}
	return u
}

// vm returns the asset URLs for the layout.
func (a *assets) vm(e *echo.Echo) views.AssetsVM {
	return views.AssetsVM{
		CSS:      a.url(e, assetCSS),
		BoardCSS: a.url(e, assetBoardCSS),
		AuditCSS: a.url(e, assetAuditCSS),
		BoardJS:  a.url(e, assetBoardJS),
		AuditJS:  a.url(e, assetAuditJS),
		AppJS:    a.url(e, assetAppJS),
		HTMX:     a.url(e, assetHTMX),
		Sortable: a.url(e, assetSortable),
		Favicon:  a.url(e, assetFavicon),
	}
}

// serve answers GET /static/<path>.
func (a *assets) serve(c echo.Context) error {
	p := c.Param("*")
	f := a.files[p]
	if f == nil {
		return echo.ErrNotFound
	}
	policy := cacheBriefly
	if strings.HasPrefix(p, "vendor/") || c.QueryParam("v") == f.version {
		policy = cacheForever
	}
	a.write(c, f, policy)
	return nil
}

// favicon answers GET /favicon.ico with the SVG icon, which browsers accept
// whatever the name.
func (a *assets) favicon(c echo.Context) error {
	a.write(c, a.files[assetFavicon], cacheFavicon)
	return nil
}

// write sends f, answering conditional and range requests.
func (a *assets) write(c echo.Context, f *asset, policy string) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, f.contentType)
	h.Set(echo.HeaderCacheControl, policy)
	h.Set("ETag", f.etag)
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(f.data))
}
