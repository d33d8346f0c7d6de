package api

import (
	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
)

// userTrust serves GET /users/{uid}/trust (admins): the user's daily link
// quota override and approval.
func (a *API) userTrust(ctx *fasthttp.RequestCtx, rq request) {
	t, err := a.ops.UserTrust(rq.p, rq.UID)
	a.answer(ctx, fasthttp.StatusOK, t, err)
}

// patchUserTrust serves PATCH /users/{uid}/trust (admins; audited).
func (a *API) patchUserTrust(ctx *fasthttp.RequestCtx, rq request) {
	var req ops.TrustPatch
	if !readJSON(ctx, &req) {
		return
	}
	t, err := a.ops.SetUserTrust(rq.p, rq.UID, req)
	a.answer(ctx, fasthttp.StatusOK, t, err)
}
