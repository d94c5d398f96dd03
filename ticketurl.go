package convdesk

import (
	"fmt"
	"net/url"
	"strings"
)

// TicketPlaceholder is what a ticket URL template holds where the ticket goes.
const TicketPlaceholder = "{ticket}"

// TicketURL turns a ticket into a link to the ticket system. The zero value
// links nothing.
type TicketURL struct {
	template string
}

// ParseTicketURL checks a ticket URL template: an absolute http or https URL
// holding {ticket}, such as https://desk.example.com/t/{ticket}. An empty
// template is the zero TicketURL.
func ParseTicketURL(template string) (TicketURL, error) {
	if template == "" {
		return TicketURL{}, nil
	}
	if !strings.Contains(template, TicketPlaceholder) {
		return TicketURL{}, fmt.Errorf("%q holds no %s", template, TicketPlaceholder)
	}
	u, err := url.Parse(strings.ReplaceAll(template, TicketPlaceholder, "T"))
	if err != nil {
		return TicketURL{}, fmt.Errorf("%q is not a URL: %w", template, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return TicketURL{}, fmt.Errorf("%q is not an absolute http or https URL", template)
	}
	return TicketURL{template: template}, nil
}

// Link returns the ticket's address, the ticket path-escaped in place of
// {ticket}, so a ticket holding "/", "?" or "#" stays one segment; "" when
// there is no template or no ticket.
func (t TicketURL) Link(ticket string) string {
	if t.template == "" || ticket == "" {
		return ""
	}
	return strings.ReplaceAll(t.template, TicketPlaceholder, url.PathEscape(ticket))
}

// String returns the template.
func (t TicketURL) String() string { return t.template }
