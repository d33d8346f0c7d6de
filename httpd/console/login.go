package console

import (
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
)

func (c *Console) loginView(ctx *fasthttp.RequestCtx) view {
	v := view{Title: "Log in", Form: map[string]string{}, Fields: map[string]string{},
		Data: &loginPage{CanSignUp: c.ops.Registration() == ops.RegistrationOpen}}
	if ctx.IsPost() {
		v.Form["email"] = string(ctx.PostArgs().Peek("email"))
	}
	return v
}

func (c *Console) loginPage(ctx *fasthttp.RequestCtx, rq request) {
	if rq.se.loggedIn() {
		ctx.Redirect("/app/links", fasthttp.StatusFound)
		return
	}
	c.render(ctx, rq.se, fasthttp.StatusOK, "login", c.loginView(ctx))
}

// loginPost checks the password (the route spent the login budgets) and
// starts a session.
func (c *Console) loginPost(ctx *fasthttp.RequestCtx, rq request) {
	v := c.loginView(ctx)
	u, err := c.ops.CheckPassword(string(ctx.PostArgs().Peek("email")), string(ctx.PostArgs().Peek("password")))
	var tok string
	if err == nil {
		tok, err = c.ops.StartSession(u)
	}
	if err != nil {
		f := c.formError(err)
		if f.status == fasthttp.StatusUnauthorized {
			time.Sleep(c.lim.LoginFailed(string(ctx.PostArgs().Peek("email"))))
		}
		v.Error = f.msg
		c.render(ctx, rq.se, f.status, "login", v)
		return
	}
	c.login(ctx, tok)
	seeOther(ctx, safeNext(string(ctx.QueryArgs().Peek("next"))))
}

// safeNext keeps post-login redirects inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/app/links"
	}
	return "/app" + next
}

func (c *Console) signupView(ctx *fasthttp.RequestCtx, rq request) view {
	invite := string(ctx.QueryArgs().Peek("invite"))
	if ctx.IsPost() {
		invite = string(ctx.PostArgs().Peek("invite"))
	}
	mode := c.ops.Registration()
	v := view{Title: "Sign up", Form: map[string]string{}, Fields: map[string]string{},
		Data: &signupPage{Invite: invite, Mode: string(mode), Closed: invite == "" && mode != ops.RegistrationOpen}}
	if ctx.IsPost() {
		v.Form["email"] = string(ctx.PostArgs().Peek("email"))
	}
	return v
}

func (c *Console) signupPage(ctx *fasthttp.RequestCtx, rq request) {
	c.render(ctx, rq.se, fasthttp.StatusOK, "signup", c.signupView(ctx, rq))
}

// signupPost creates the account (the route spent the login budgets) and
// logs it in.
func (c *Console) signupPost(ctx *fasthttp.RequestCtx, rq request) {
	v := c.signupView(ctx, rq)
	invite := string(ctx.PostArgs().Peek("invite"))
	if invite == "" && c.ops.Registration() != ops.RegistrationOpen {
		c.render(ctx, rq.se, fasthttp.StatusForbidden, "signup", v)
		return
	}
	u, err := c.ops.SignUp(string(ctx.PostArgs().Peek("email")), string(ctx.PostArgs().Peek("password")), invite)
	var tok string
	if err == nil {
		tok, err = c.ops.StartSession(u)
	}
	if err != nil {
		f := c.formError(err)
		v.Error, v.Fields = f.msg, f.fields
		c.render(ctx, rq.se, f.status, "signup", v)
		return
	}
	c.login(ctx, tok)
	seeOther(ctx, "/app/links?done=welcome")
}

func (c *Console) logoutGet(ctx *fasthttp.RequestCtx, rq request) {
	c.errorPage(ctx, rq.se, fasthttp.StatusMethodNotAllowed, "Log out", "Use the “Log out” button.")
}

func (c *Console) logout(ctx *fasthttp.RequestCtx, rq request) {
	if rq.se.loggedIn() {
		if err := c.ops.EndSession(rq.se.token); err != nil {
			c.failPage(ctx, rq.se, "Not logged out", err)
			return
		}
	}
	c.setCookie(ctx, c.cookies.session, "", 0)
	seeOther(ctx, "/app/login")
}
