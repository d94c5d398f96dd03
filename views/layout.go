// Package views renders convdesk's pages and fragments with templ. Components
// take view models built by the handlers and make no calls of their own.
package views

// HTMXConfig is the htmx configuration the layout puts in its
// <meta name="htmx-config">:
//   - no indicator styles and no eval or inline scripts, as the strict CSP
//     forbids inline code anyway;
//   - no implicit attribute inheritance, so every hx- attribute is stated
//     where it applies (which also keeps a move to htmx 4 cheap);
//   - a history restore is not sent as an htmx request, since the server
//     answers htmx requests with fragments;
//   - 422 (validation) and 409 (conflict) responses are swapped like 2xx,
//     because they carry the re-rendered form or the fresh board; other 4xx
//     and 5xx are not swapped and raise htmx's error events.
const HTMXConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"disableInheritance":true,"historyRestoreAsHxRequest":false,"responseHandling":[` +
	`{"code":"204","swap":false},` +
	`{"code":"[23]..","swap":true},` +
	`{"code":"409","swap":true,"error":false},` +
	`{"code":"422","swap":true,"error":false},` +
	`{"code":"[45]..","swap":false,"error":true},` +
	`{"code":"...","swap":false}]}`

// LayoutVM is what every full page needs around its content.
type LayoutVM struct {
	Lang  string // BCP 47 tag of the page's language
	Title string // page title, without the application name
	// Staff is the signed-in staff member, nil when nobody is signed in.
	Staff     *StaffVM
	CSRFToken string
	Demo      bool
	Nav       []NavItemVM
	// Flash is a message carried over from the previous request, if any.
	Flash  *ToastVM
	Assets AssetsVM
}

// StaffVM is the signed-in staff member as the top bar shows them.
type StaffVM struct {
	DisplayName    string
	Role           string // role key: viewer, agent, auditor or admin
	AccountURL     string
	LogoutURL      string
	PreferencesURL string // where the language switcher posts
}

// NavItemVM is one entry of the main navigation.
type NavItemVM struct {
	Label   string
	URL     string
	Current bool
	TestID  string
}

// AssetsVM holds the URLs of the static files a page loads, each carrying a
// content hash so browsers may cache them for good.
type AssetsVM struct {
	CSS      string
	BoardCSS string
	AuditCSS string
	HTMX     string
	Sortable string
	AppJS    string
	BoardJS  string
	AuditJS  string
	Favicon  string
}

// ToastLevel says how a toast looks and how urgently it is announced.
type ToastLevel string

// The toast levels.
const (
	ToastInfo    ToastLevel = "info"
	ToastSuccess ToastLevel = "success"
	ToastWarning ToastLevel = "warning"
	ToastError   ToastLevel = "error"
)

// ToastVM is a short message shown in the toast region.
type ToastVM struct {
	Level   ToastLevel
	Message string
}

// role returns the ARIA role a toast of this level is announced with:
// errors interrupt, everything else waits its turn.
func (t ToastVM) role() string {
	if t.Level == ToastError {
		return "alert"
	}
	return "status"
}

// ErrorPageVM is an error shown as a full page.
type ErrorPageVM struct {
	Layout    LayoutVM
	Status    int
	Message   string
	RequestID string
	HomeURL   string
}

// AvatarVM is an initials avatar: the text, its colours and size.
type AvatarVM struct {
	Initials   string
	Label      string // the full name, for assistive technology
	Background string // #rrggbb
	Foreground string // #rrggbb
	FontSize   string // in SVG user units
}
