package console

import (
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
)

func (c *Console) keysPage(ctx *fasthttp.RequestCtx, rq request) {
	c.renderKeys(ctx, rq, view{}, keysPage{})
}

func (c *Console) renderKeys(ctx *fasthttp.RequestCtx, rq request, v view, data keysPage) {
	keys, err := c.ops.Keys(rq.se.p)
	if err != nil {
		c.log.Error("listing keys", "err", err)
	}
	checked := map[string]bool{"links:read": true, "links:write": true, "analytics:read": true}
	if v.Form != nil {
		checked = map[string]bool{}
		for _, sc := range strings.Split(v.Form["scopes"], ",") {
			checked[sc] = true
		}
	}
	for _, sn := range ops.ScopeNames {
		if rq.se.p.Can(sn.Scope) {
			data.Scopes = append(data.Scopes, scopeChoice{sn.Name, sn.Help, checked[sn.Name]})
		}
	}
	data.Keys = keys
	v.Data = &data
	c.renderForm(ctx, rq.se, "keys", "API keys", v)
}

func (c *Console) createKey(ctx *fasthttp.RequestCtx, rq request) {
	var scopes []string
	for _, b := range ctx.PostArgs().PeekMulti("scopes") {
		scopes = append(scopes, string(b))
	}
	form := formValues(ctx, "name", "expiresAt")
	form["scopes"] = strings.Join(scopes, ",")
	req := ops.NewKey{Name: form["name"], Scopes: scopes}
	var k ops.Key
	exp, err := formExpiry(form["expiresAt"])
	if err != nil {
		err = ops.Fail(ops.KindValidation, "The expiry is not a date and time.",
			ops.FieldError{Field: "expiresAt", Message: "must be a date and time"})
	} else {
		if exp != "" {
			req.ExpiresAt = &exp
		}
		k, err = c.ops.CreateKey(rq.se.p, req)
	}
	if err != nil {
		v := view{Form: form}
		c.show(&v, err)
		c.renderKeys(ctx, rq, v, keysPage{})
		return
	}
	// The token is shown on this response only; reloading cannot show it again.
	c.renderKeys(ctx, rq, view{}, keysPage{NewToken: k.Token, NewName: k.Name})
}

func (c *Console) deleteKey(ctx *fasthttp.RequestCtx, rq request) {
	if err := c.ops.DeleteKey(rq.se.p, rq.ID); err != nil {
		c.failPage(ctx, rq.se, "Not revoked", err)
		return
	}
	seeOther(ctx, "/app/keys?done=revoked")
}
