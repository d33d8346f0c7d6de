package api

import (
	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
)

// addFeed serves POST /feeds (admins).
func (a *API) addFeed(ctx *fasthttp.RequestCtx, rq request) {
	var req ops.NewFeed
	if !readJSON(ctx, &req) {
		return
	}
	f, err := a.ops.AddFeed(rq.p, req)
	if err == nil {
		ctx.Response.Header.Set("Location", "/api/v1/feeds/"+f.ID)
	}
	a.answer(ctx, fasthttp.StatusCreated, f, err)
}

// listFeeds serves GET /feeds (admins): each feed with its last good
// version and its last fetch's time and error.
func (a *API) listFeeds(ctx *fasthttp.RequestCtx, rq request) {
	fs, err := a.ops.Feeds(rq.p)
	a.answer(ctx, fasthttp.StatusOK, struct {
		Items []ops.Feed `json:"items"`
	}{fs}, err)
}

// deleteFeed serves DELETE /feeds/{id} (admins).
func (a *API) deleteFeed(ctx *fasthttp.RequestCtx, rq request) {
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.DeleteFeed(rq.p, rq.ID))
}

// reviewQueue serves GET /review (admins): links held for review.
func (a *API) reviewQueue(ctx *fasthttp.RequestCtx, rq request) {
	ls, err := a.ops.ReviewQueue(rq.p)
	a.answer(ctx, fasthttp.StatusOK, struct {
		Items []ops.HeldLink `json:"items"`
	}{ls}, err)
}

// review serves POST /review/{code} (admins): approve or reject.
func (a *API) review(ctx *fasthttp.RequestCtx, rq request) {
	var req ops.ReviewReq
	if !readJSON(ctx, &req) {
		return
	}
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.Review(rq.p, rq.Code, req))
}

// eraseMe serves DELETE /me {"confirm": email}: the caller's account and
// data are erased.
func (a *API) eraseMe(ctx *fasthttp.RequestCtx, rq request) {
	var req struct {
		Confirm string `json:"confirm"`
	}
	if !readJSON(ctx, &req) {
		return
	}
	a.answer(ctx, fasthttp.StatusNoContent, nil, a.ops.EraseSelf(rq.p, req.Confirm))
}
