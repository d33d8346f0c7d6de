package api

import (
	_ "embed"

	"github.com/valyala/fasthttp"
)

// OpenAPI is the OpenAPI 3.1 description of /api/v1, served verbatim at
// /api/v1/openapi.json. It is written by hand, beside the route table:
// TestOpenAPICoversRoutes fails when a route is added to table() without
// its description (or described without a route), and httpdtest validates
// every API response the test suites receive against it. Objects are open
// (no additionalProperties: false on responses) so a field added to a view
// is a compatible change that only needs its property written down.
//
//go:embed openapi.json
var OpenAPI []byte

// openAPI serves GET /openapi.json (no token needed).
func (a *API) openAPI(ctx *fasthttp.RequestCtx, _ request) {
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "public, max-age=300")
	ctx.SetBody(OpenAPI)
}
