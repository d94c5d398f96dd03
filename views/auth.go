package views

// LoginPageVM is the sign-in page.
type LoginPageVM struct {
	Layout   LayoutVM
	Action   string
	Username string
	Next     string
	Error    string
	// DemoAccounts are listed in demo mode only.
	DemoAccounts []DemoAccountVM
}

// DemoAccountVM is one demo staff account.
type DemoAccountVM struct {
	Username, Password, Role string
}

// AccountPageVM is the staff member's own account page.
type AccountPageVM struct {
	Layout         LayoutVM
	Username       string
	Role           string
	MustChange     bool
	PasswordURL    string
	PreferencesURL string
	PasswordError  string
	TimeZone       string
	TimeZones      []string
	Language       string // "" follows the browser
}

// StaffPageVM is the admin's staff management page.
type StaffPageVM struct {
	Layout    LayoutVM
	CreateURL string
	Roles     []string
	Members   []StaffRowVM
	Error     string
	// Form keeps what was typed when creating failed.
	Form NewStaffFormVM
}

// NewStaffFormVM is the create-account form's values.
type NewStaffFormVM struct {
	Username, DisplayName, Role string
}

// StaffRowVM is one account in the staff table.
type StaffRowVM struct {
	ID          int64
	Username    string
	DisplayName string
	Role        string
	Active      bool
	Self        bool
	MustChange  bool
	Created     string
	RoleURL     string
	DisableURL  string
	EnableURL   string
	PasswordURL string
}
