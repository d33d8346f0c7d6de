package console

import (
	"errors"
	"html/template"
	"io"
	"maps"
	"mime/multipart"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/imaging"
	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/httpd/social"
	"github.com/linkd/linkd/httpd/theme"
	"github.com/linkd/linkd/httpd/validate"
	"github.com/linkd/linkd/store"
)

// newRowKey is the row number of the editor's row template, which its
// script copies for "Add link" (replacing the key with a fresh number).
const newRowKey = "__n__"

// editorRow is one link row of the profile editor.
type editorRow struct {
	N, Order                                     int
	Code, Title, URL, StartsAt, EndsAt, Platform string
	Enabled, Social, Sensitive, Remove, Held     bool
	Clicks                                       uint64
	Errs                                         map[string]string
}

// K is the row's key in field names (l{K}_title): its number, or the
// template row's placeholder.
func (r editorRow) K() string {
	if r.N < 0 {
		return newRowKey
	}
	return strconv.Itoa(r.N)
}

// rowErrLabels names a row's fields in its error messages.
var rowErrLabels = map[string]string{"title": "Title", "url": "URL", "startsAt": "Show from", "endsAt": "Until", "code": "Link", "thumbnail": "Thumbnail"}

// ErrLines are the row's errors, one line each, in field order.
func (r editorRow) ErrLines() []string {
	var out []string
	for _, k := range []string{"title", "url", "startsAt", "endsAt", "code", "thumbnail"} {
		if m, ok := r.Errs[k]; ok {
			out = append(out, rowErrLabels[k]+": "+m)
		}
	}
	return out
}

type colorField struct{ Name, Label, Var, Value, Err string }

// customColors are the editable colors: form name, label, CSS variable.
var customColors = []struct{ name, label, cssVar string }{
	{"background", "Background", "--bg"}, {"gradient", "Gradient to", "--bg"}, {"text", "Text", "--text"},
	{"button", "Buttons", "--btn"}, {"buttonText", "Button text", "--btn-text"}, {"accent", "Accent", "--accent"},
}

type themeChoice struct {
	ID, Name string
	Swatch   template.CSS
}

func (c *Console) profileEditor(ctx *fasthttp.RequestCtx, rq request) {
	se := rq.se
	p, err := c.ops.Store().Profile(se.p.Owner())
	if errors.Is(err, store.ErrNotFound) {
		p = &store.Profile{Handle: suggestHandle(se.p.User.Email), Theme: theme.Builtin[0].ID}
	} else if err != nil {
		c.log.Error("reading profile", "err", err)
		c.errorPage(ctx, se, fasthttp.StatusInternalServerError, "Something went wrong", "The profile could not be read.")
		return
	}
	c.renderEditor(ctx, se, p, profileForm(p), c.rowsOf(p), nil)
}

// suggestHandle proposes a handle from an email's local part, or "" when
// that would not be a valid handle.
func suggestHandle(email string) string {
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	h, err := validate.Handle(nonHandleChars.ReplaceAllString(local, ""))
	if err != nil {
		return ""
	}
	return h
}

var nonHandleChars = regexp.MustCompile(`[^a-z0-9_.]`)

func profileForm(p *store.Profile) map[string]string {
	f := map[string]string{"handle": p.Handle, "displayName": p.DisplayName, "bio": p.Bio, "theme": p.Theme,
		"avatarId": p.Avatar, "backgroundId": p.Custom.BackgroundImage, "c_font": p.Custom.Font, "c_shape": p.Custom.Shape}
	cust := map[string]string{"background": p.Custom.Background, "gradient": p.Custom.Gradient, "text": p.Custom.Text,
		"button": p.Custom.Button, "buttonText": p.Custom.ButtonText, "accent": p.Custom.Accent}
	for k, v := range cust {
		f["c_"+k] = v
	}
	return f
}

func (c *Console) rowsOf(p *store.Profile) []editorRow {
	rows := make([]editorRow, 0, len(p.Links)+1)
	for i, l := range p.Links {
		n, _ := c.ops.Store().Clicks(l.Code)
		rows = append(rows, editorRow{N: i, Order: i, Code: l.Code, Title: l.Title, URL: l.URL, Enabled: l.Enabled,
			Social: l.Social, Sensitive: l.Sensitive, StartsAt: localTime(l.StartsAt), EndsAt: localTime(l.EndsAt),
			Platform: social.Detect(l.URL).Name, Clicks: n, Held: c.ops.IsHeld(l.Code)})
	}
	return withEmptyRows(rows)
}

// addRow appends one blank row (up to the profile's link limit).
func addRow(rows []editorRow) []editorRow {
	next := 0
	for i := range rows {
		next = max(next, rows[i].N+1)
		rows[i].Order = i
	}
	if len(rows) < store.MaxProfileLinks {
		rows = append(rows, editorRow{N: next, Order: len(rows), Enabled: true})
	}
	return rows
}

// withEmptyRows offers one blank row to a profile without links; "Add
// link" adds more.
func withEmptyRows(rows []editorRow) []editorRow {
	if len(rows) > 0 {
		return rows
	}
	return addRow(rows)
}

func (c *Console) renderEditor(ctx *fasthttp.RequestCtx, se session, p *store.Profile, form map[string]string, rows []editorRow, fields map[string]string) {
	themes := make([]themeChoice, len(theme.Builtin))
	for i, t := range theme.Builtin {
		themes[i] = themeChoice{ID: t.ID, Name: t.Name,
			Swatch: template.CSS("background:" + t.Background + ";border-color:" + t.Button)}
	}
	colors := make([]colorField, len(customColors))
	for i, cc := range customColors {
		colors[i] = colorField{cc.name, cc.label, cc.cssVar, form["c_"+cc.name], fields["customTheme."+cc.name]}
	}
	data := &profilePage{Rows: rows, NewRow: editorRow{N: -1, Enabled: true}, Themes: themes, Colors: colors,
		Fonts: slices.Sorted(maps.Keys(theme.Fonts)), Shapes: []string{"square", "rounded", "pill", "outline", "outline-pill"},
		Customised: form["c_font"] != "" || form["c_shape"] != "" || form["c_background"] != "" || form["backgroundId"] != ""}
	if p.PageCode != "" {
		url := c.ops.Public() + "/@" + p.Handle
		views, _ := c.ops.Store().Clicks(p.PageCode)
		data.URL, data.Views, data.QR = url, views, qrInline(url)
	}
	v := view{Title: "Profile", Nav: "profile", Form: form, Fields: fields, Data: data}
	status := fasthttp.StatusOK
	if len(fields) > 0 {
		v.Error = "The profile was not saved. Please correct the fields marked below."
		status = fasthttp.StatusUnprocessableEntity
	}
	c.render(ctx, se, status, "profile", v)
}

// profilePost is the editor's submitted form.
type profilePost struct {
	form  map[string]string
	rows  []editorRow
	files map[string]*multipart.FileHeader // "avatar", "background"
}

var rowField = regexp.MustCompile(`^l(\d+)_([a-zA-Z]+)$`)

// readProfilePost reads the editor's multipart form; rows come back in
// their submitted order, with a ↑/↓ move applied.
func readProfilePost(mf *multipart.Form) profilePost {
	pp := profilePost{form: map[string]string{}, files: map[string]*multipart.FileHeader{}}
	byN := map[int]*editorRow{}
	for k, vs := range mf.Value {
		v := vs[0]
		m := rowField.FindStringSubmatch(k)
		if m == nil {
			pp.form[k] = v
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if n >= 4*store.MaxProfileLinks {
			continue // more rows than the editor ever shows
		}
		r := byN[n]
		if r == nil {
			r = &editorRow{N: n, Order: n}
			byN[n] = r
		}
		setRowField(r, m[2], v)
	}
	for _, r := range byN {
		pp.rows = append(pp.rows, *r)
	}
	sort.SliceStable(pp.rows, func(i, j int) bool { return pp.rows[i].Order < pp.rows[j].Order })
	pp.rows = applyMove(pp.rows, pp.form["move"])
	for _, name := range []string{"avatar", "background"} {
		if fs := mf.File[name]; len(fs) > 0 && fs[0].Size > 0 {
			pp.files[name] = fs[0]
		}
	}
	return pp
}

// setRowField sets one submitted field of a row: text fields take the
// value, checkboxes are set by being present.
func setRowField(r *editorRow, name, v string) {
	texts := map[string]*string{"code": &r.Code, "title": &r.Title, "url": &r.URL, "startsAt": &r.StartsAt, "endsAt": &r.EndsAt}
	flags := map[string]*bool{"enabled": &r.Enabled, "social": &r.Social, "sensitive": &r.Sensitive, "remove": &r.Remove}
	if p, ok := texts[name]; ok {
		*p = v
	} else if p, ok := flags[name]; ok {
		*p = true
	} else if o, err := strconv.Atoi(v); err == nil && name == "order" {
		r.Order = o
	}
}

// applyMove swaps the row named by "N:up" or "N:down" with its neighbour.
func applyMove(rows []editorRow, move string) []editorRow {
	ns, dir, ok := strings.Cut(move, ":")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil {
		return rows
	}
	for i := range rows {
		if rows[i].N != n {
			continue
		}
		j := i - 1
		if dir == "down" {
			j = i + 1
		}
		if j >= 0 && j < len(rows) && (rows[j].Title != "" || rows[j].URL != "") {
			rows[i], rows[j] = rows[j], rows[i]
		}
		break
	}
	return rows
}

func (c *Console) saveProfile(ctx *fasthttp.RequestCtx, rq request) {
	se := rq.se
	mf, err := ctx.MultipartForm()
	if err != nil {
		c.errorPage(ctx, se, fasthttp.StatusBadRequest, "Form not understood", "The form could not be read; reload the page and try again.")
		return
	}
	pp := readProfilePost(mf)
	if pp.form["add"] != "" {
		// "Add link" without script: the same form back, with one more
		// blank row, nothing saved (the script adds rows in place).
		prev, _ := c.ops.Store().Profile(se.p.Owner())
		if prev == nil {
			prev = &store.Profile{}
		}
		c.renderEditor(ctx, se, prev, pp.form, addRow(pp.rows), map[string]string{})
		return
	}
	req, kept := profileRequest(pp)
	fields := c.uploadProfileImages(se, pp, &req)
	var p *store.Profile
	if len(fields) == 0 {
		p, err = c.ops.SaveProfile(se.p, req)
	}
	if err != nil {
		f := c.formError(err)
		msg, fe := f.msg, f.fields
		fields = rowFieldErrors(fe, kept)
		if len(fields) == 0 {
			fields["links"] = msg
		}
	}
	if len(fields) > 0 {
		prev, _ := c.ops.Store().Profile(se.p.Owner())
		if prev == nil {
			prev = &store.Profile{}
		}
		c.renderEditor(ctx, se, prev, pp.form, withEmptyRows(kept), fields)
		return
	}
	seeOther(ctx, "/app/profile?done=profile&h="+p.Handle)
}

// profileRequest turns the form into the API's profile body; kept are the
// rows that became links, in order.
func profileRequest(pp profilePost) (ops.Profile, []editorRow) {
	f := pp.form
	req := ops.Profile{Handle: f["handle"], DisplayName: f["displayName"], Bio: f["bio"], Theme: f["theme"], Avatar: f["avatarId"]}
	if f["removeAvatar"] != "" {
		req.Avatar = ""
	}
	ct := ops.CustomTheme{Background: f["c_background"], Gradient: f["c_gradient"], Text: f["c_text"], Button: f["c_button"],
		ButtonText: f["c_buttonText"], Accent: f["c_accent"], Font: f["c_font"], Shape: f["c_shape"]}
	if f["removeBackground"] == "" {
		ct.BackgroundImage = f["backgroundId"]
	}
	if ct != (ops.CustomTheme{}) {
		req.CustomTheme = &ct
	}
	req.Links = []ops.ProfileLink{}
	var kept []editorRow
	for _, r := range pp.rows {
		if r.Remove || (r.Title == "" && r.URL == "" && r.Code == "") {
			continue
		}
		enabled := r.Enabled
		lj := ops.ProfileLink{Code: r.Code, Title: r.Title, URL: r.URL, Enabled: &enabled, Social: r.Social, Sensitive: r.Sensitive}
		lj.StartsAt, lj.EndsAt = formTime(r.StartsAt), formTime(r.EndsAt)
		req.Links = append(req.Links, lj)
		r.Order = len(kept)
		kept = append(kept, r)
	}
	return req, kept
}

// formTime turns a datetime-local value (UTC) into RFC 3339; a value that
// does not parse is passed on for the API's validation to reject.
func formTime(v string) *string {
	if v == "" {
		return nil
	}
	if s, ok := localToRFC3339(v); ok {
		return &s
	}
	return &v
}

var linkFieldErr = regexp.MustCompile(`^links\[(\d+)\]\.(\w+)$`)

// rowFieldErrors maps "links[i].url" errors onto the editor's rows and
// keeps the others by field name.
func rowFieldErrors(fe map[string]string, rows []editorRow) map[string]string {
	out := map[string]string{}
	for k, msg := range fe {
		m := linkFieldErr.FindStringSubmatch(k)
		if m == nil {
			out[k] = msg
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i < len(rows) {
			if rows[i].Errs == nil {
				rows[i].Errs = map[string]string{}
			}
			rows[i].Errs[m[2]] = msg
			out["links"] = "Some links need attention."
		}
	}
	return out
}

// uploadProfileImages stores the avatar and background files of the form
// and puts their ids into req (and the form, for a re-render); it returns
// the errors by field.
func (c *Console) uploadProfileImages(se session, pp profilePost, req *ops.Profile) map[string]string {
	fields := map[string]string{}
	for name, fh := range pp.files {
		kind := imaging.Avatar
		if name == "background" {
			kind = imaging.Background
		}
		id, err := c.uploadImage(se, fh, kind)
		if err != nil {
			fields[name] = c.formError(err).msg
			continue
		}
		if name == "avatar" {
			req.Avatar, pp.form["avatarId"] = id, id
		} else {
			if req.CustomTheme == nil {
				req.CustomTheme = &ops.CustomTheme{}
			}
			req.CustomTheme.BackgroundImage, pp.form["backgroundId"] = id, id
		}
	}
	return fields
}

// uploadImage processes and stores one uploaded file.
func (c *Console) uploadImage(se session, fh *multipart.FileHeader, kind imaging.Kind) (string, error) {
	f, err := fh.Open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, imaging.MaxUpload+1))
	if err != nil {
		return "", err
	}
	img, err := c.ops.StoreImage(se.p, data, kind)
	return img.ID, err
}
