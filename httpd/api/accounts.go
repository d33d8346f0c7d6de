package api

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
)

// maxUsersPage bounds GET /users?limit=.
const maxUsersPage = 200

// me serves GET /me: the principal, its scopes and its key.
func (a *API) me(ctx *fasthttp.RequestCtx, rq request) {
	out := struct {
		ops.User
		Scopes []string `json:"scopes"`
		Key    *ops.Key `json:"key"`
	}{User: ops.UserView(rq.p.User), Scopes: ops.ScopeList(rq.p.Scopes)}
	if rq.p.Key != nil {
		k := ops.KeyView(rq.p.Key)
		out.Key = &k
	}
	httpx.WriteJSON(ctx, fasthttp.StatusOK, out)
}

type items[T any] struct {
	Items []T `json:"items"`
}

func (a *API) listKeys(ctx *fasthttp.RequestCtx, rq request) {
	ks, err := a.ops.Keys(rq.p)
	a.answer(ctx, fasthttp.StatusOK, items[ops.Key]{ks}, err)
}

func (a *API) createKey(ctx *fasthttp.RequestCtx, rq request) {
	var req ops.NewKey
	if !readJSON(ctx, &req) {
		return
	}
	k, err := a.ops.CreateKey(rq.p, req)
	if err == nil {
		ctx.Response.Header.Set("Location", "/api/v1/keys/"+k.ID)
	}
	a.answer(ctx, fasthttp.StatusCreated, k, err)
}

func (a *API) deleteKey(ctx *fasthttp.RequestCtx, rq request) {
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.DeleteKey(rq.p, rq.ID))
}

func (a *API) createUser(ctx *fasthttp.RequestCtx, _ request) {
	var req ops.NewUser
	if !readJSON(ctx, &req) {
		return
	}
	u, err := a.ops.CreateUser(req)
	if err != nil {
		a.fail(ctx, err)
		return
	}
	ctx.Response.Header.Set("Location", "/api/v1/users/"+strconv.FormatUint(u.ID, 10))
	httpx.WriteJSON(ctx, fasthttp.StatusCreated, ops.UserView(u))
}

func (a *API) listUsers(ctx *fasthttp.RequestCtx, _ request) {
	after, err1 := optUint(ctx, "after", 0)
	limit, err2 := optUint(ctx, "limit", 50)
	if err := errors.Join(err1, err2); err != nil || limit < 1 || limit > maxUsersPage {
		httpx.WriteProblem(ctx, ops.KindValidation, fmt.Sprintf("after must be a user id; limit 1 to %d.", maxUsersPage))
		return
	}
	us, err := a.ops.Users(after, int(limit))
	out := struct {
		Items []ops.User `json:"items"`
		Next  *uint64    `json:"nextAfter"`
	}{Items: us}
	if len(us) == int(limit) {
		out.Next = &us[len(us)-1].ID
	}
	a.answer(ctx, fasthttp.StatusOK, out, err)
}

func optUint(ctx *fasthttp.RequestCtx, name string, def uint64) (uint64, error) {
	v := ctx.QueryArgs().Peek(name)
	if len(v) == 0 {
		return def, nil
	}
	return strconv.ParseUint(string(v), 10, 64)
}

func (a *API) getUser(ctx *fasthttp.RequestCtx, rq request) {
	u, err := a.ops.User(rq.UID)
	a.answer(ctx, fasthttp.StatusOK, u, err)
}

func (a *API) patchUser(ctx *fasthttp.RequestCtx, rq request) {
	var req ops.UserPatch
	if !readJSON(ctx, &req) {
		return
	}
	u, err := a.ops.UpdateUser(rq.UID, req)
	if err != nil {
		a.fail(ctx, err)
		return
	}
	httpx.WriteJSON(ctx, fasthttp.StatusOK, ops.UserView(u))
}

func (a *API) deleteUser(ctx *fasthttp.RequestCtx, rq request) {
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.DeleteUser(rq.UID))
}

func (a *API) listInvites(ctx *fasthttp.RequestCtx, _ request) {
	is, err := a.ops.Invites()
	a.answer(ctx, fasthttp.StatusOK, items[ops.Invite]{is}, err)
}

func (a *API) createInvite(ctx *fasthttp.RequestCtx, rq request) {
	var req struct {
		Role string `json:"role"`
	}
	if !readJSON(ctx, &req) {
		return
	}
	v, err := a.ops.CreateInvite(rq.p, req.Role)
	a.answer(ctx, fasthttp.StatusCreated, v, err)
}

func (a *API) deleteInvite(ctx *fasthttp.RequestCtx, rq request) {
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.DeleteInvite(rq.ID))
}
