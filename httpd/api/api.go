// Package api serves the JSON API under /api/v1: links, analytics,
// accounts, keys, invites, profiles, images and cluster membership, with
// RFC 9457 problem+json for every failure.
//
// Every endpoint is one row of the route table (routes.go) declaring its
// method, path, scope, write budget and body limit. Handle applies them in
// one order for all: body size against the declared Content-Length, the
// bearer token, the scope, the budget, and only then reads the body
// (bounded) and calls the handler. Handlers parse JSON and query strings,
// call httpd/ops, and write its answer; they never check policy
// themselves, and every error leaves through ops.Classify.
package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
)

// request is what a handler gets besides the fasthttp context: who it acts
// for and the path's parameters.
type request struct {
	p ops.Principal
	httpx.Params
}

type handler func(ctx *fasthttp.RequestCtx, rq request)

// API serves /api/v1/...
type API struct {
	ops      *ops.Ops
	lim      *httpx.Limiters
	requests *prometheus.CounterVec // by method and status
	routes   httpx.Table[handler]
}

// New returns the API. requests counts answers by method and status.
func New(o *ops.Ops, lim *httpx.Limiters, requests *prometheus.CounterVec) *API {
	a := &API{ops: o, lim: lim, requests: requests}
	a.routes = a.table()
	return a
}

// Routes is the route table, for tests that enumerate policy.
func (a *API) Routes() httpx.Table[handler] { return a.routes }

// BodyLimit is the body limit of the route for method and path (the
// whole path, /api/v1/...); an unknown route gets the default, so that
// it is answered (401, 404) rather than refused for its body.
func (a *API) BodyLimit(method, path string) int {
	if r, _, _ := a.routes.Lookup(method, strings.TrimPrefix(path, "/api/v1/")); r != nil {
		return r.Body
	}
	return httpx.DefaultBodyLimit
}

// Handle serves one API request: policy from the route table first, then
// the handler.
func (a *API) Handle(ctx *fasthttp.RequestCtx) {
	defer func() {
		a.requests.WithLabelValues(string(ctx.Method()), strconv.Itoa(ctx.Response.StatusCode())).Inc()
	}()
	rest, ok := strings.CutPrefix(string(ctx.Path()), "/api/v1/")
	if !ok {
		httpx.Discard(ctx)
		httpx.WriteProblem(ctx, ops.KindNotFound, "Unknown API version or path.")
		return
	}
	r, ps, allowed := a.routes.Lookup(string(ctx.Method()), rest)
	if r != nil && httpx.TooLarge(ctx, r.Body) {
		httpx.Discard(ctx)
		httpx.WriteProblem(ctx, ops.KindTooLarge, httpx.TooLargeDetail(r.Body))
		return
	}
	rq := request{Params: ps}
	if d := ctx.QueryArgs().Peek("domain"); len(d) > 0 && ps.Code != "" {
		// links/{code}?domain=host: the link with that code on that domain.
		rq.Code = a.ops.LinkKey(string(d), ps.Code)
	}
	if r == nil || !r.Public {
		if rq.p, ok = a.authenticate(ctx); !ok {
			return
		}
	}
	switch {
	case r == nil && allowed == nil:
		httpx.Discard(ctx)
		httpx.WriteProblem(ctx, ops.KindNotFound, "No such API endpoint.")
		return
	case r == nil:
		httpx.Discard(ctx)
		httpx.WriteProblem(ctx, ops.KindMethod, "Allowed: "+strings.Join(allowed, ", ")+".")
		ctx.Response.Header.Set("Allow", strings.Join(allowed, ", "))
		return
	case !r.Public && !rq.p.Can(r.Scope):
		httpx.Discard(ctx)
		httpx.WriteProblem(ctx, ops.KindForbidden, "This request needs the scope "+strings.Join(ops.ScopeList(r.Scope), ", ")+
			", which the token does not grant.")
		return
	}
	if r.Budget == httpx.Writes {
		if d := a.lim.WriteRefusal(ctx, rq.p); d != nil {
			httpx.Discard(ctx)
			httpx.Refuse(ctx, *d, "writes")
			return
		}
	}
	if !httpx.ReadBody(ctx, r.Body) {
		httpx.WriteProblem(ctx, ops.KindTooLarge, httpx.TooLargeDetail(r.Body))
		return
	}
	r.Handle(ctx, rq)
}

// authenticate resolves the bearer token, answering 401 itself on failure.
func (a *API) authenticate(ctx *fasthttp.RequestCtx) (ops.Principal, bool) {
	token, ok := strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		httpx.Discard(ctx)
		httpx.WriteProblem(ctx, ops.KindUnauthorized, "No bearer token was sent.")
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="linkd"`)
		return ops.Principal{}, false
	}
	p, err := a.ops.ForToken(strings.TrimSpace(token), time.Now())
	if err != nil {
		if err != ops.ErrUnauthorized {
			a.ops.Classify(err) // logs it
		}
		httpx.Discard(ctx)
		httpx.WriteProblem(ctx, ops.KindUnauthorized, "The bearer token is not valid, has expired or belongs to a disabled account.")
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="linkd", error="invalid_token"`)
		return ops.Principal{}, false
	}
	return p, true
}

// fail answers the problem for err.
func (a *API) fail(ctx *fasthttp.RequestCtx, err error) { httpx.WriteError(ctx, a.ops.Classify(err)) }

// answer writes v with status, or the problem for err.
func (a *API) answer(ctx *fasthttp.RequestCtx, status int, v any, err error) {
	switch {
	case err != nil:
		a.fail(ctx, err)
	case v == nil:
		ctx.SetStatusCode(status)
	default:
		httpx.WriteJSON(ctx, status, v)
	}
}

// consistent honours ?consistency=linearizable (default: local, possibly
// slightly stale reads), answering the problem itself on failure.
func (a *API) consistent(ctx *fasthttp.RequestCtx) bool {
	switch string(ctx.QueryArgs().Peek("consistency")) {
	case "", "local":
		return true
	case "linearizable":
	default:
		httpx.WriteProblem(ctx, ops.KindValidation, "Unknown consistency level.",
			ops.FieldError{Field: "consistency", Message: `must be "local" or "linearizable"`})
		return false
	}
	if err := a.ops.Consistent(); err != nil {
		a.fail(ctx, err)
		return false
	}
	return true
}
