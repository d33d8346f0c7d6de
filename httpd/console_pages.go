package httpd

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/password"
	"github.com/linkd/linkd/httpd/validate"
	"github.com/linkd/linkd/internal/textlist"
	"github.com/linkd/linkd/store"
)

// Console list limits.
const (
	consolePageSize    = 50
	consoleMaxPageSize = 1000
)

// route dispatches a console path (after /app).
func (c *console) route(ctx *fasthttp.RequestCtx, se session, p string) {
	switch p {
	case "", "/":
		ctx.Redirect("/app/links", fasthttp.StatusFound)
		return
	case "/login":
		c.loginPage(ctx, se)
		return
	case "/signup":
		c.signupPage(ctx, se)
		return
	case "/logout":
		c.logout(ctx, se)
		return
	}
	if !se.loggedIn() {
		ctx.Redirect("/app/login?next="+url.QueryEscape(p), fasthttp.StatusSeeOther)
		return
	}
	if !c.routeLoggedIn(ctx, se, p) {
		c.errorPage(ctx, se, fasthttp.StatusNotFound, "Not found", "There is no such page, or it is not yours.")
	}
}

// routeLoggedIn serves the pages that need a session; false means 404.
func (c *console) routeLoggedIn(ctx *fasthttp.RequestCtx, se session, p string) bool {
	post := ctx.IsPost()
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case p == "/links" && !post:
		c.linksPage(ctx, se, view{})
	case p == "/links" && post:
		c.createLink(ctx, se)
	case parts[0] == "links" && len(parts) >= 2 && validCode([]byte(parts[1])):
		return c.linkRoutes(ctx, se, parts[1], strings.Join(parts[2:], "/"), post)
	case p == "/profile":
		c.profileEditor(ctx, se)
	case p == "/keys" && !post:
		c.keysPage(ctx, se, view{})
	case p == "/keys" && post:
		c.createKey(ctx, se)
	case len(parts) == 3 && parts[0] == "keys" && parts[2] == "delete" && post:
		c.deleteKey(ctx, se, parts[1])
	case parts[0] == "admin" && se.p.isAdmin():
		return c.adminRoutes(ctx, se, parts[1:], post)
	default:
		return false
	}
	return true
}

func (c *console) linkRoutes(ctx *fasthttp.RequestCtx, se session, code, rest string, post bool) bool {
	l, err := c.s.st.Link(code)
	if err != nil || l.Status == store.StatusDeleted || (!se.p.isAdmin() && l.Owner != se.p.owner()) {
		return false // other users' links are "not found", never "forbidden"
	}
	switch {
	case rest == "" && !post:
		c.linkPage(ctx, se, l, view{})
	case rest == "" && post:
		c.updateLink(ctx, se, l)
	case rest == "delete" && !post:
		c.render(ctx, se, fasthttp.StatusOK, "delete", view{Title: "Delete " + code, Nav: "links",
			Data: map[string]any{"Link": c.s.linkView(l, time.Now().UnixMilli())}})
	case rest == "delete" && post:
		c.deleteLink(ctx, se, l)
	case rest == "analytics" && !post:
		c.analyticsPage(ctx, se, l)
	case (rest == "qr.svg" || rest == "qr.png") && !post:
		c.qrFile(ctx, l, rest)
	default:
		return false
	}
	return true
}

// ---- login, sign-up, logout ----

func (c *console) loginPage(ctx *fasthttp.RequestCtx, se session) {
	if se.loggedIn() && !ctx.IsPost() {
		ctx.Redirect("/app/links", fasthttp.StatusFound)
		return
	}
	v := view{Title: "Log in", Form: map[string]string{}, Fields: map[string]string{},
		Data: map[string]any{"CanSignUp": c.s.cfg.Registration == RegistrationOpen}}
	if !ctx.IsPost() {
		c.render(ctx, se, fasthttp.StatusOK, "login", v)
		return
	}
	email, pw := string(ctx.PostArgs().Peek("email")), string(ctx.PostArgs().Peek("password"))
	v.Form["email"] = email
	if d := c.s.allowLogin(ctx, email); d != nil {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(max(ceilSeconds(d.RetryAfter), 1)))
		v.Error = fmt.Sprintf("Too many attempts. Please wait %d seconds before trying again.", max(ceilSeconds(d.RetryAfter), 1))
		c.render(ctx, se, fasthttp.StatusTooManyRequests, "login", v)
		return
	}
	u, err := c.checkPassword(email, pw)
	if err == nil {
		err = c.login(ctx, u)
	}
	if err != nil {
		f := c.formError(err)
		v.Error = f.msg
		c.render(ctx, se, f.status, "login", v)
		return
	}
	seeOther(ctx, safeNext(string(ctx.QueryArgs().Peek("next"))))
}

// errBadLogin is the one answer for an unknown email, a wrong password
// and a disabled account, so the form does not tell which emails exist.
var errBadLogin = fail(probUnauthorized, "The email or password is not correct.")

func (c *console) checkPassword(email, pw string) (*store.User, error) {
	u, err := c.s.st.UserByEmail(strings.TrimSpace(email))
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.PasswordHash == "") {
		password.VerifyNone(pw)
		return nil, errBadLogin
	}
	if err != nil {
		return nil, err
	}
	ok, err := password.Verify(u.PasswordHash, pw)
	if err != nil || !ok || u.Disabled {
		return nil, errors.Join(err, errBadLogin)
	}
	return u, nil
}

// safeNext keeps post-login redirects inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/app/links"
	}
	return "/app" + next
}

func (c *console) signupPage(ctx *fasthttp.RequestCtx, se session) {
	invite := string(ctx.QueryArgs().Peek("invite"))
	if ctx.IsPost() {
		invite = string(ctx.PostArgs().Peek("invite"))
	}
	mode := c.s.cfg.Registration
	v := view{Title: "Sign up", Form: map[string]string{}, Fields: map[string]string{},
		Data: map[string]any{"Invite": invite, "Mode": string(mode), "Closed": invite == "" && mode != RegistrationOpen}}
	if !ctx.IsPost() {
		c.render(ctx, se, fasthttp.StatusOK, "signup", v)
		return
	}
	email := string(ctx.PostArgs().Peek("email"))
	v.Form["email"] = email
	if d := c.s.allowLogin(ctx, email); d != nil {
		v.Error = fmt.Sprintf("Too many attempts. Please wait %d seconds before trying again.", max(ceilSeconds(d.RetryAfter), 1))
		c.render(ctx, se, fasthttp.StatusTooManyRequests, "signup", v)
		return
	}
	if invite == "" && mode != RegistrationOpen {
		c.render(ctx, se, fasthttp.StatusForbidden, "signup", v)
		return
	}
	res, err := c.s.proposeValid(newUser(userRequest{Email: email, Password: string(ctx.PostArgs().Peek("password"))}, invite))
	if err == nil {
		err = c.login(ctx, res.User)
	}
	if err != nil {
		f := c.formError(err)
		v.Error, v.Fields = f.text()
		c.render(ctx, se, f.status, "signup", v)
		return
	}
	seeOther(ctx, "/app/links?done=welcome")
}

func (c *console) logout(ctx *fasthttp.RequestCtx, se session) {
	if !ctx.IsPost() {
		c.errorPage(ctx, se, fasthttp.StatusMethodNotAllowed, "Log out", "Use the “Log out” button.")
		return
	}
	if se.loggedIn() {
		if _, err := c.s.propose(&fsm.DeleteSession{Now: time.Now().UnixMilli(), Hash: store.TokenHash(se.token)}); err != nil {
			c.failPage(ctx, se, "Not logged out", err)
			return
		}
	}
	c.setCookie(ctx, c.cookies.session, "", 0)
	seeOther(ctx, "/app/login")
}

// ---- links ----

// redirectChoice is one option of the redirect-type select.
type redirectChoice struct{ Code, Label string }

var redirectChoices = []redirectChoice{
	{"302", "302 Found (default: edits reach everyone)"},
	{"301", "301 Moved permanently (browsers cache it)"},
	{"307", "307 Temporary, keeps the method"},
	{"308", "308 Permanent, keeps the method"},
}

// linkFilter builds the search and tag filter of the link list.
func linkFilter(q, tag string) func(*store.Link) bool {
	if q == "" && tag == "" {
		return nil
	}
	q = strings.ToLower(q)
	return func(l *store.Link) bool {
		if q != "" && !strings.Contains(strings.ToLower(l.Code+" "+l.URL+" "+l.Title), q) {
			return false
		}
		if tag == "" {
			return true
		}
		for _, t := range l.Tags {
			if strings.EqualFold(t, tag) {
				return true
			}
		}
		return false
	}
}

func (c *console) linksPage(ctx *fasthttp.RequestCtx, se session, v view) {
	args := ctx.QueryArgs()
	q, tag := strings.TrimSpace(string(args.Peek("q"))), strings.TrimSpace(string(args.Peek("tag")))
	limit, err := strconv.Atoi(string(args.Peek("limit")))
	if err != nil || limit < 1 || limit > consoleMaxPageSize {
		limit = consolePageSize
	}
	cursor, _ := decodeCursor(string(args.Peek("cursor")))
	page, err := c.s.st.ListLinks(store.ListQuery{Owner: se.p.owner(), All: se.p.isAdmin() && args.Has("all"),
		After: cursor, Limit: limit, Match: linkFilter(q, tag)})
	if err != nil {
		c.s.log.Error("listing links", "err", err)
		c.errorPage(ctx, se, fasthttp.StatusInternalServerError, "Something went wrong", "The links could not be listed.")
		return
	}
	now := time.Now().UnixMilli()
	links := make([]linkJSON, 0, len(page.Links))
	for _, l := range page.Links {
		links = append(links, c.s.linkView(l, now))
	}
	keep := url.Values{}
	for k, val := range map[string]string{"q": q, "tag": tag} {
		if val != "" {
			keep.Set(k, val)
		}
	}
	if limit != consolePageSize {
		keep.Set("limit", strconv.Itoa(limit))
	}
	data := map[string]any{"Links": links, "Q": q, "Tag": tag, "Statuses": redirectChoices,
		"First": cursor == nil, "FirstQuery": keep.Encode(), "OpenCreate": args.Has("new") || (len(links) == 0 && cursor == nil && q == "" && tag == "")}
	if page.Next != nil {
		next := url.Values{}
		for k, vs := range keep {
			next[k] = vs
		}
		next.Set("cursor", encodeCursor(page.Next))
		data["Next"] = next.Encode()
	}
	if v.Form == nil {
		v.Form = map[string]string{"redirectStatus": "302"}
	}
	c.renderForm(ctx, se, "links", "Links", data, v)
}

// formValues copies the named form fields.
func formValues(ctx *fasthttp.RequestCtx, names ...string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		out[n] = string(ctx.PostArgs().Peek(n))
	}
	return out
}

// formExpiry turns a datetime-local value (UTC) into RFC 3339.
func formExpiry(v string) (*string, error) {
	if v == "" {
		return nil, nil
	}
	if s, ok := localToRFC3339(v); ok {
		return &s, nil
	}
	return nil, fail(probValidation, "The expiry is not a date and time.",
		fieldError{Field: "expiresAt", Message: "must be a date and time"})
}

// localToRFC3339 reads a datetime-local form value (the console's times
// are UTC) as RFC 3339.
func localToRFC3339(v string) (string, bool) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.RFC3339), true
		}
	}
	return "", false
}

func (c *console) createLink(ctx *fasthttp.RequestCtx, se session) {
	form := formValues(ctx, "url", "alias", "title", "tags", "expiresAt", "redirectStatus")
	if !c.allowWrite(ctx, se) {
		return
	}
	req := createRequest{URL: form["url"], Alias: strings.TrimSpace(form["alias"]), Title: form["title"], Tags: textlist.Split(form["tags"])}
	exp, err := formExpiry(form["expiresAt"])
	req.ExpiresAt = exp
	if rs, convErr := strconv.Atoi(form["redirectStatus"]); convErr == nil {
		req.RedirectStatus = &rs
	}
	now := time.Now()
	var cmd *fsm.CreateLink
	if err == nil {
		cmd, err = c.s.newCreate(req, se.p.owner(), now)
	}
	var res *fsm.Result
	if err == nil {
		res, err = c.s.commitCreate(cmd, now)
	}
	if err != nil {
		v := view{Form: form}
		v.Error, v.Fields = c.formError(err).text()
		c.linksPage(ctx, se, v)
		return
	}
	seeOther(ctx, "/app/links/"+res.Link.Code+"?done=created")
}

// linkForm is the edit form's values for l.
func linkForm(l *store.Link) map[string]string {
	f := map[string]string{"url": l.URL, "title": l.Title, "tags": strings.Join(l.Tags, ", "),
		"redirectStatus": strconv.Itoa(int(l.RedirectStatus))}
	if l.ExpiresAt != 0 {
		f["expiresAt"] = time.UnixMilli(l.ExpiresAt).UTC().Format("2006-01-02T15:04")
	}
	return f
}

func (c *console) linkPage(ctx *fasthttp.RequestCtx, se session, l *store.Link, v view) {
	lv := c.s.linkView(l, time.Now().UnixMilli())
	if v.Form == nil {
		v.Form = linkForm(l)
	}
	c.renderForm(ctx, se, "link", "Link "+l.Code,
		map[string]any{"Link": lv, "Statuses": redirectChoices, "QR": qrInline(lv.ShortURL)}, v)
}

// pageNav is the menu entry each form page belongs to.
var pageNav = map[string]string{"links": "links", "link": "links", "keys": "keys", "users": "users"}

// renderForm renders a page whose form may have failed: v.Data's entries
// (a map) are added to data, and a form error answers 422.
func (c *console) renderForm(ctx *fasthttp.RequestCtx, se session, page, title string, data map[string]any, v view) {
	if d, ok := v.Data.(map[string]any); ok {
		for k, val := range d {
			data[k] = val
		}
	}
	v.Title, v.Data, v.Nav = title, data, pageNav[page]
	status := fasthttp.StatusOK
	if v.Error != "" {
		status = fasthttp.StatusUnprocessableEntity
	}
	c.render(ctx, se, status, page, v)
}

func (c *console) updateLink(ctx *fasthttp.RequestCtx, se session, l *store.Link) {
	form := formValues(ctx, "url", "title", "tags", "expiresAt", "redirectStatus")
	if !c.allowWrite(ctx, se) {
		return
	}
	_, err := c.s.proposeValid(c.linkUpdate(se, l.Code, form))
	if err != nil {
		v := view{Form: form}
		v.Error, v.Fields = c.formError(err).text()
		c.linkPage(ctx, se, l, v)
		return
	}
	seeOther(ctx, "/app/links/"+l.Code+"?done=saved")
}

// linkUpdate validates the edit form into a command that sets every field.
func (c *console) linkUpdate(se session, code string, form map[string]string) (*fsm.UpdateLink, error) {
	now := time.Now()
	cmd := &fsm.UpdateLink{Now: now.UnixMilli(), Code: code, Actor: se.p.owner(), Admin: se.p.isAdmin()}
	var errs fields
	u, err := validate.URL(form["url"], c.s.selfHosts)
	errs.add("url", err)
	t, err := validate.Title(form["title"])
	errs.add("title", err)
	tags, err := validate.Tags(textlist.Split(form["tags"]))
	errs.add("tags", err)
	var exp int64
	if e, ferr := formExpiry(form["expiresAt"]); ferr != nil {
		errs.add("expiresAt", errors.New("must be a date and time"))
	} else if e != nil {
		exp, err = parseExpiry(*e, now)
		errs.add("expiresAt", err)
	}
	rs, err := strconv.Atoi(form["redirectStatus"])
	if err != nil || !validRedirectStatus(rs) {
		errs.add("redirectStatus", errors.New("must be one of 301, 302, 307, 308"))
	}
	if errs != nil {
		return nil, fail(probValidation, "The link was not changed.", errs...)
	}
	rs16 := uint16(rs)
	cmd.URL, cmd.Title, cmd.Tags, cmd.ExpiresAt, cmd.RedirectStatus = &u, &t, &tags, &exp, &rs16
	return cmd, nil
}

func (c *console) deleteLink(ctx *fasthttp.RequestCtx, se session, l *store.Link) {
	if !c.allowWrite(ctx, se) {
		return
	}
	_, err := c.s.propose(&fsm.DeleteLink{Now: time.Now().UnixMilli(), Code: l.Code, Actor: se.p.owner(), Admin: se.p.isAdmin()})
	if err != nil {
		c.failPage(ctx, se, "Not deleted", err)
		return
	}
	seeOther(ctx, "/app/links?done=deleted")
}

func (c *console) qrFile(ctx *fasthttp.RequestCtx, l *store.Link, name string) {
	short := c.s.public + "/" + l.Code
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="`+l.Code+"."+name[3:]+`"`)
	if name == "qr.svg" {
		ctx.SetContentType("image/svg+xml")
		ctx.SetBodyString(string(qrSVG(short)))
		return
	}
	b, err := qrPNG(short, 512)
	if err != nil {
		c.s.log.Error("making QR PNG", "err", err)
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetContentType("image/png")
	ctx.SetBody(b)
}

// ---- API keys ----

type scopeChoice struct {
	Name, Help string
	Checked    bool
}

func (c *console) keysPage(ctx *fasthttp.RequestCtx, se session, v view) {
	ks, err := c.s.st.APIKeys(se.p.owner())
	if err != nil {
		c.s.log.Error("listing keys", "err", err)
	}
	keys := make([]keyJSON, 0, len(ks))
	for _, k := range ks {
		keys = append(keys, keyView(k))
	}
	checked := map[string]bool{"links:read": true, "links:write": true, "analytics:read": true}
	if v.Form != nil {
		checked = map[string]bool{}
		for _, sc := range strings.Split(v.Form["scopes"], ",") {
			checked[sc] = true
		}
	}
	var scopes []scopeChoice
	for _, sn := range scopeNames {
		if se.p.can(sn.s) {
			scopes = append(scopes, scopeChoice{sn.name, sn.help, checked[sn.name]})
		}
	}
	c.renderForm(ctx, se, "keys", "API keys", map[string]any{"Keys": keys, "Scopes": scopes}, v)
}

func (c *console) createKey(ctx *fasthttp.RequestCtx, se session) {
	var scopes []string
	for _, b := range ctx.PostArgs().PeekMulti("scopes") {
		scopes = append(scopes, string(b))
	}
	form := formValues(ctx, "name", "expiresAt")
	form["scopes"] = strings.Join(scopes, ",")
	if !c.allowWrite(ctx, se) {
		return
	}
	exp, err := formExpiry(form["expiresAt"])
	var k keyJSON
	if err == nil {
		k, err = c.s.createKey(se.p, keyRequest{Name: form["name"], Scopes: scopes, ExpiresAt: exp})
	}
	if err != nil {
		v := view{Form: form}
		v.Error, v.Fields = c.formError(err).text()
		c.keysPage(ctx, se, v)
		return
	}
	// The token is shown on this response only; reloading cannot show it again.
	c.keysPage(ctx, se, view{Data: map[string]any{"NewToken": k.Token, "NewName": k.Name}})
}

func (c *console) deleteKey(ctx *fasthttp.RequestCtx, se session, id string) {
	if err := c.s.deleteKey(se.p, id); err != nil {
		c.failPage(ctx, se, "Not revoked", err)
		return
	}
	seeOther(ctx, "/app/keys?done=revoked")
}

// ---- admin ----

func (c *console) adminRoutes(ctx *fasthttp.RequestCtx, se session, parts []string, post bool) bool {
	switch {
	case len(parts) == 1 && parts[0] == "users" && !post:
		c.usersPage(ctx, se, view{})
	case len(parts) == 1 && parts[0] == "users" && post:
		c.adminCreateUser(ctx, se)
	case len(parts) >= 2 && parts[0] == "users" && post:
		id, err := strconv.ParseUint(parts[1], 10, 64)
		if err != nil || len(parts) > 3 || (len(parts) == 3 && parts[2] != "delete") {
			return false
		}
		c.adminChangeUser(ctx, se, id, len(parts) == 3)
	case len(parts) == 1 && parts[0] == "invites" && post:
		inv, err := c.s.createInvite(se.p, string(ctx.PostArgs().Peek("role")))
		v := view{Data: map[string]any{"InviteURL": inv.URL}}
		if err != nil {
			v.Error = c.formError(err).msg
		}
		c.usersPage(ctx, se, v)
	case len(parts) == 3 && parts[0] == "invites" && parts[2] == "delete" && post:
		c.afterAdminWrite(ctx, se, c.s.deleteInvite(parts[1]), "invrevoked")
	case len(parts) == 1 && parts[0] == "cluster" && !post:
		rctx, cancel := c.s.writeCtx()
		defer cancel()
		c.render(ctx, se, fasthttp.StatusOK, "cluster", view{Title: "Cluster", Nav: "cluster", Data: c.s.cfg.Cluster.FullStatus(rctx)})
	default:
		return false
	}
	return true
}

func (c *console) usersPage(ctx *fasthttp.RequestCtx, se session, v view) {
	after, _ := strconv.ParseUint(string(ctx.QueryArgs().Peek("after")), 10, 64)
	us, err := c.s.st.Users(after, consolePageSize)
	invs, err2 := c.s.st.Invites()
	if err := errors.Join(err, err2); err != nil {
		c.s.log.Error("listing users", "err", err)
	}
	users := make([]userJSON, 0, len(us))
	for _, u := range us {
		users = append(users, userView(u))
	}
	now := time.Now().UnixMilli()
	var invites []inviteJSON
	for _, i := range invs {
		if !i.Expired(now) {
			invites = append(invites, inviteView(i))
		}
	}
	data := map[string]any{"Users": users, "Invites": invites, "Mode": string(c.s.cfg.Registration)}
	if len(us) == consolePageSize {
		data["Next"] = us[len(us)-1].ID
	}
	c.renderForm(ctx, se, "users", "Users", data, v)
}

func (c *console) adminCreateUser(ctx *fasthttp.RequestCtx, se session) {
	form := formValues(ctx, "email", "password", "role")
	_, err := c.s.proposeValid(newUser(userRequest{Email: form["email"], Password: form["password"], Role: form["role"]}, ""))
	if err != nil {
		v := view{Form: map[string]string{"email": form["email"]}}
		v.Error, v.Fields = c.formError(err).text()
		c.usersPage(ctx, se, v)
		return
	}
	seeOther(ctx, "/app/admin/users?done=user")
}

func (c *console) adminChangeUser(ctx *fasthttp.RequestCtx, se session, id uint64, del bool) {
	if del {
		c.afterAdminWrite(ctx, se, c.s.deleteUser(id), "userdeleted")
		return
	}
	var patch userPatch
	if r := string(ctx.PostArgs().Peek("role")); r != "" {
		patch.Role = &r
	}
	if d := string(ctx.PostArgs().Peek("disabled")); d != "" {
		b := d == "true"
		patch.Disabled = &b
	}
	_, err := c.s.proposeValid(userUpdate(id, patch))
	c.afterAdminWrite(ctx, se, err, "user")
}

func (c *console) afterAdminWrite(ctx *fasthttp.RequestCtx, se session, err error, done string) {
	if err != nil {
		v := view{}
		v.Error = c.formError(err).msg
		c.usersPage(ctx, se, v)
		return
	}
	seeOther(ctx, "/app/admin/users?done="+done)
}

func encodeCursor(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func decodeCursor(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) <= 8 {
		return nil, errors.New("bad cursor")
	}
	return b, nil
}
