package console

import (
	"fmt"
	"html/template"
	"time"

	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/store"
)

// view is what every console template gets: the layout's fields, the
// form's values and errors, and Data, the page's own typed model (one of
// the *Page types below; a string for the error page; the cluster status).
type view struct {
	Title  string
	Nav    string
	User   *store.User
	Admin  bool
	CSRF   string
	Flash  string
	Error  string
	Fields map[string]string
	Form   map[string]string
	CSS    string
	JS     string
	Data   any
	page   string // for Input
}

// AdminNav reports whether the page is one of the Admin menu's, whose
// summary then shows as current.
func (v view) AdminNav() bool {
	switch v.Nav {
	case "users", "cluster", "moderation", "domains":
		return true
	}
	return false
}

// fieldArgs feeds the "field" template.
type fieldArgs struct {
	Name, Label, Type, Value, Err, Hint string
	Required                            bool
	Auto                                string
}

// fieldSpec is how one page shows one input; the value and error come from
// the view. Secret inputs (passwords) are never filled in again.
type fieldSpec struct {
	Label, Type, Hint string
	Required          bool
	Auto              string
	Secret            bool
}

// fieldSpecs are the text inputs of each page, by page and name.
var fieldSpecs = map[string]map[string]fieldSpec{
	"webhooks": {
		"url": {Label: "Endpoint URL", Type: "url", Hint: "receives signed POSTs", Required: true, Auto: "off", Secret: false},
	},
	"keys": {
		"name":      {Label: "Name", Type: "text", Hint: "what uses it", Required: true, Auto: "off", Secret: false},
		"expiresAt": {Label: "Expires", Type: "datetime-local", Hint: "optional, UTC", Required: false, Auto: "", Secret: false},
	},
	"link": {
		"url":       {Label: "Destination URL", Type: "url", Hint: "", Required: true, Auto: "", Secret: false},
		"title":     {Label: "Title", Type: "text", Hint: "optional", Required: false, Auto: "off", Secret: false},
		"tags":      {Label: "Tags", Type: "text", Hint: "comma separated", Required: false, Auto: "off", Secret: false},
		"expiresAt": {Label: "Expires", Type: "datetime-local", Hint: "optional, UTC; empty for never", Required: false, Auto: "", Secret: false},
	},
	"links": {
		"url":       {Label: "Destination URL", Type: "url", Hint: "", Required: true, Auto: "", Secret: false},
		"alias":     {Label: "Custom alias", Type: "text", Hint: "optional", Required: false, Auto: "off", Secret: false},
		"title":     {Label: "Title", Type: "text", Hint: "optional", Required: false, Auto: "off", Secret: false},
		"tags":      {Label: "Tags", Type: "text", Hint: "comma separated", Required: false, Auto: "off", Secret: false},
		"expiresAt": {Label: "Expires", Type: "datetime-local", Hint: "optional, UTC", Required: false, Auto: "", Secret: false},
	},
	"login": {
		"email":    {Label: "Email", Type: "email", Hint: "", Required: true, Auto: "username", Secret: false},
		"password": {Label: "Password", Type: "password", Hint: "", Required: true, Auto: "current-password", Secret: true},
	},
	"profile": {
		"handle":      {Label: "Handle", Type: "text", Hint: "your page is /@handle", Required: true, Auto: "off", Secret: false},
		"displayName": {Label: "Display name", Type: "text", Hint: "", Required: false, Auto: "name", Secret: false},
	},
	"signup": {
		"email":    {Label: "Email", Type: "email", Hint: "", Required: true, Auto: "username", Secret: false},
		"password": {Label: "Password", Type: "password", Hint: "at least 10 characters", Required: true, Auto: "new-password", Secret: true},
	},
	"users": {
		"email":    {Label: "Email", Type: "email", Hint: "", Required: true, Auto: "off", Secret: false},
		"password": {Label: "Password", Type: "password", Hint: "at least 10 characters", Required: true, Auto: "new-password", Secret: true},
	},
	"domains": {
		"host":        {Label: "Host", Type: "text", Hint: "e.g. go.example (no scheme or port)", Required: true, Auto: "off"},
		"delegate":    {Label: "Delegate to (email)", Type: "email", Hint: "may create links on it; empty: admins only", Auto: "off"},
		"rootUrl":     {Label: "Root redirect", Type: "url", Hint: "where / goes; empty: the home page"},
		"notFoundUrl": {Label: "Not-found redirect", Type: "url", Hint: "where unknown codes go; empty: the 404 page"},
	}}

// Input is the "field" template's data for the named input of this page.
func (v view) Input(name string) fieldArgs {
	s := fieldSpecs[v.page][name]
	f := fieldArgs{Name: name, Label: s.Label, Type: s.Type, Err: v.Fields[name], Hint: s.Hint, Required: s.Required, Auto: s.Auto}
	if !s.Secret {
		f.Value = v.Form[name]
	}
	return f
}

var templateFuncs = template.FuncMap{
	// day shows an RFC 3339 time as a short UTC date.
	"day": func(rfc string) string {
		t, err := time.Parse(time.RFC3339Nano, rfc)
		if err != nil {
			return rfc
		}
		return t.UTC().Format("2 Jan 2006")
	},
	// count writes a number with its noun in the singular or plural
	// ("1 bot", "3 bots"), so sentences built from counts read right.
	"count": func(n any, one, many string) string {
		if fmt.Sprint(n) == "1" {
			return "1 " + one
		}
		return fmt.Sprint(n) + " " + many
	},
	"deref": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
}

// redirectChoice is one option of the redirect-type select.
type redirectChoice struct{ Code, Label string }

var redirectChoices = []redirectChoice{
	{"302", "302 Found (default: edits reach everyone)"},
	{"301", "301 Moved permanently (browsers cache it)"},
	{"307", "307 Temporary, keeps the method"},
	{"308", "308 Permanent, keeps the method"},
}

// linksPage is the model of the link list.
type linksPage struct {
	Links      []ops.Link
	Q, Tag     string
	Statuses   []redirectChoice
	First      bool   // the first page
	FirstQuery string // the query of the first page
	Next       string // the query of the next page; "" for none
	OpenCreate bool   // open the create form
	// Domains are the hosts the user may create links on (the default
	// first); Domain is the listing's domain filter ("" for all).
	Domains []string
	Domain  string
}

// linkPage is the model of one link's page.
type linkPage struct {
	Link     ops.Link
	Statuses []redirectChoice
	QR       template.HTML
}

// deletePage is the model of the delete confirmation.
type deletePage struct{ Link ops.Link }

// scopeChoice is one checkbox of the new-key form.
type scopeChoice struct {
	Name, Help string
	Checked    bool
}

// keysPage is the model of the API keys page; NewToken is shown once,
// right after the key is made.
type keysPage struct {
	Keys              []ops.Key
	Scopes            []scopeChoice
	NewToken, NewName string
}

// usersPage is the model of the admin's users page.
type usersPage struct {
	Users     []userRow
	Invites   []ops.Invite
	Mode      string
	Next      uint64 // the after= of the next page; 0 for none
	InviteURL string // a new invite, shown once
}

// userRow is one user on the users page, with their trust settings.
type userRow struct {
	ops.User
	Trust ops.Trust
}

// QuotaText shows a daily link quota override for a form field: "" for
// the server default.
func (r userRow) QuotaText() string {
	if r.Trust.DailyLinks == nil {
		return ""
	}
	return fmt.Sprint(r.Trust.DailyLinks)
}

// loginPage is the model of the login form.
type loginPage struct{ CanSignUp bool }

// signupPage is the model of the sign-up form.
type signupPage struct {
	Invite, Mode string
	Closed       bool // no invite and registration is not open
}

// analyticsPage is the model of a link's analytics.
type analyticsPage struct {
	Code, Range string
	DomainQuery string // "?domain=<host>" off the default domain
	Ranges      []analyticsRange
	R           ops.Report
	// Requests is every request to the link: humans + bots + previews.
	Requests   uint64
	LagSeconds int
	// Imported is the click total the link had at the shortener it was
	// imported from (nil: none); it is in none of the figures above.
	Imported *ops.ImportedClicks
	// The wide charts, and their phone-sized drawings.
	SeriesChart, ClassChart, SeriesPhone, ClassPhone template.HTML
	Referrers, Countries, Devices, Browsers, OS      template.HTML
}

// profilePage is the model of the profile editor.
type profilePage struct {
	Rows       []editorRow
	NewRow     editorRow // the template row the script copies for "Add link"
	Themes     []themeChoice
	Colors     []colorField
	Fonts      []string
	Shapes     []string
	Customised bool
	URL        string // the public page, once it exists
	Views      uint64
	QR         template.HTML
}
