package console

import (
	"errors"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
)

func (c *Console) usersPage(ctx *fasthttp.RequestCtx, rq request) { c.renderUsers(ctx, rq, view{}, "") }

func (c *Console) renderUsers(ctx *fasthttp.RequestCtx, rq request, v view, inviteURL string) {
	after, _ := strconv.ParseUint(string(ctx.QueryArgs().Peek("after")), 10, 64)
	users, err := c.ops.Users(after, pageSize)
	invites, err2 := c.ops.Invites()
	if err := errors.Join(err, err2); err != nil {
		c.log.Error("listing users", "err", err)
	}
	data := &usersPage{Invites: invites, Mode: string(c.ops.Registration()), InviteURL: inviteURL}
	for _, u := range users {
		t, err := c.ops.UserTrust(rq.se.p, u.ID)
		if err != nil {
			c.log.Error("reading user trust", "user", u.ID, "err", err)
		}
		data.Users = append(data.Users, userRow{User: u, Trust: t})
	}
	if len(users) == pageSize {
		data.Next = users[len(users)-1].ID
	}
	v.Data = data
	c.renderForm(ctx, rq.se, "users", "Users", v)
}

func (c *Console) createUser(ctx *fasthttp.RequestCtx, rq request) {
	form := formValues(ctx, "email", "password", "role")
	if _, err := c.ops.CreateUser(ops.NewUser{Email: form["email"], Password: form["password"], Role: form["role"]}); err != nil {
		v := view{Form: map[string]string{"email": form["email"]}}
		c.show(&v, err)
		c.renderUsers(ctx, rq, v, "")
		return
	}
	seeOther(ctx, "/app/admin/users?done=user")
}

func (c *Console) changeUser(ctx *fasthttp.RequestCtx, rq request) {
	var patch ops.UserPatch
	if r := string(ctx.PostArgs().Peek("role")); r != "" {
		patch.Role = &r
	}
	if d := string(ctx.PostArgs().Peek("disabled")); d != "" {
		b := d == "true"
		patch.Disabled = &b
	}
	_, err := c.ops.UpdateUser(rq.UID, patch)
	c.afterAdminWrite(ctx, rq, err, "user")
}

// setTrust serves POST /app/admin/users/{uid}/trust: a quota override
// (dailyLinks: a number, "unlimited", or empty for the default; absent
// keeps it) and/or
// approval (approved: "true" or "false"; release: also release the user's
// held links). back=moderation returns to the review queue.
func (c *Console) setTrust(ctx *fasthttp.RequestCtx, rq request) {
	f := formValues(ctx, "dailyLinks", "approved", "release", "back")
	quota := strings.TrimSpace(f["dailyLinks"])
	if quota == "" && ctx.PostArgs().Has("dailyLinks") {
		quota = "default" // the quota form's field, emptied
	}
	patch := ops.TrustPatch{DailyLinks: ops.DailyLinksField(quota), ReleaseHeld: f["release"] != ""}
	if a := f["approved"]; a != "" {
		b := a == "true"
		patch.Approved = &b
	}
	_, err := c.ops.SetUserTrust(rq.se.p, rq.UID, patch)
	switch {
	case f["back"] == "moderation":
		c.afterModeration(ctx, rq, err)
	case err != nil:
		// The users page has one quota field per row: name the problem
		// in the page's message instead of beside a field.
		fe := c.formError(err)
		v := view{Error: fe.msg}
		if m, ok := fe.fields["dailyLinks"]; ok {
			v.Error = "Nothing was changed. The daily link quota " + strings.ToLower(m[:1]) + m[1:]
		}
		ctx.SetStatusCode(fe.status)
		c.renderUsers(ctx, rq, v, "")
	default:
		seeOther(ctx, "/app/admin/users?done=trust")
	}
}

func (c *Console) deleteUser(ctx *fasthttp.RequestCtx, rq request) {
	c.afterAdminWrite(ctx, rq, c.ops.DeleteUser(rq.UID), "userdeleted")
}

func (c *Console) createInvite(ctx *fasthttp.RequestCtx, rq request) {
	inv, err := c.ops.CreateInvite(rq.se.p, string(ctx.PostArgs().Peek("role")))
	v := view{}
	if err != nil {
		v.Error = c.formError(err).msg
	}
	c.renderUsers(ctx, rq, v, inv.URL)
}

func (c *Console) deleteInvite(ctx *fasthttp.RequestCtx, rq request) {
	c.afterAdminWrite(ctx, rq, c.ops.DeleteInvite(rq.ID), "invrevoked")
}

func (c *Console) afterAdminWrite(ctx *fasthttp.RequestCtx, rq request, err error, done string) {
	if err != nil {
		v := view{}
		v.Error = c.formError(err).msg
		c.renderUsers(ctx, rq, v, "")
		return
	}
	seeOther(ctx, "/app/admin/users?done="+done)
}

func (c *Console) clusterPage(ctx *fasthttp.RequestCtx, rq request) {
	c.render(ctx, rq.se, fasthttp.StatusOK, "cluster", view{Title: "Cluster", Nav: "cluster", Data: c.ops.FullStatus()})
}
