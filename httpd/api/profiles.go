package api

import (
	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/imaging"
	"github.com/linkd/linkd/httpd/ops"
)

// ownProfile serves GET /profile.
func (a *API) ownProfile(ctx *fasthttp.RequestCtx, rq request) {
	prof, err := a.ops.OwnProfile(rq.p)
	if err != nil {
		a.fail(ctx, err)
		return
	}
	httpx.WriteJSON(ctx, fasthttp.StatusOK, a.ops.ProfileView(prof, true))
}

// publicProfile serves GET /profiles/{handle}: what the page shows, no
// credential needed.
func (a *API) publicProfile(ctx *fasthttp.RequestCtx, rq request) {
	prof, err := a.ops.ProfileByHandle(rq.Handle)
	if err != nil {
		a.fail(ctx, err)
		return
	}
	httpx.WriteJSON(ctx, fasthttp.StatusOK, a.ops.ProfileView(prof, false))
	ctx.Response.Header.Set("Cache-Control", httpx.ProfileCacheControl)
}

// putProfile serves PUT /profile.
func (a *API) putProfile(ctx *fasthttp.RequestCtx, rq request) {
	var req ops.Profile
	if !readJSON(ctx, &req) {
		return
	}
	res, err := a.ops.SaveProfile(rq.p, req)
	if err != nil {
		a.fail(ctx, err)
		return
	}
	httpx.WriteJSON(ctx, fasthttp.StatusOK, a.ops.ProfileView(res, true))
}

// uploadImage serves POST /images?kind=avatar|thumbnail|background with the
// image file as the body.
func (a *API) uploadImage(ctx *fasthttp.RequestCtx, rq request) {
	kind, ok := imaging.Kinds[string(ctx.QueryArgs().Peek("kind"))]
	if !ok {
		httpx.WriteProblem(ctx, ops.KindValidation, "Say what the image is for.",
			ops.FieldError{Field: "kind", Message: "must be avatar, thumbnail or background"})
		return
	}
	img, err := a.ops.StoreImage(rq.p, ctx.PostBody(), kind)
	a.answer(ctx, fasthttp.StatusCreated, img, err)
}
