package httpx

import (
	"fmt"
	"io"

	"github.com/valyala/fasthttp"
)

// Prefetched is how much of a body fasthttp reads with the headers when it
// streams request bodies (Server.StreamRequestBody): a body this small is
// already off the connection when the handler runs.
const Prefetched = 8 << 10

// TooLarge reports whether the declared Content-Length exceeds limit. It
// costs an integer comparison and allocates nothing, so the redirect path
// calls it on every request. A chunked body (length unknown) is not too
// large by declaration; ReadBody bounds it while reading.
func TooLarge(ctx *fasthttp.RequestCtx, limit int) bool {
	return ctx.Request.Header.ContentLength() > limit
}

// ReadBody reads the request body, at most limit bytes, after the route's
// policy (authentication, scope, budget) allowed the request. Bodies are
// streamed (the server sets StreamRequestBody), so nothing but the small
// prefetch is in memory before this call, whatever the client declared.
// It returns false for a body over the limit; the caller answers 413
// after Discard.
func ReadBody(ctx *fasthttp.RequestCtx, limit int) bool {
	cl := ctx.Request.Header.ContentLength()
	if cl > limit {
		return false
	}
	if cl == 0 || !ctx.Request.IsBodyStream() {
		return true
	}
	b, err := io.ReadAll(io.LimitReader(ctx.RequestBodyStream(), int64(limit)+1))
	if err != nil || len(b) > limit {
		ctx.SetConnectionClose() // the rest of the body is still on the connection
		return false
	}
	ctx.Request.SetBodyRaw(b)
	return true
}

// DrainLimit is the largest unwanted body that is read and thrown away so
// that the connection can serve its next request; a larger one (or one of
// unknown length) ends the connection instead. Draining costs a small
// buffer, never the body's size.
const DrainLimit = 1 << 20

// Discard disposes of a body the handler will not read (a refused or
// unrouted request): drained when small, otherwise the connection is closed
// after the response. Call it before answering.
func Discard(ctx *fasthttp.RequestCtx) {
	cl := ctx.Request.Header.ContentLength()
	switch {
	case cl == 0 || !ctx.Request.IsBodyStream():
	case cl > 0 && cl <= DrainLimit:
		if _, err := io.Copy(io.Discard, ctx.RequestBodyStream()); err != nil {
			ctx.SetConnectionClose()
		}
	default:
		ctx.SetConnectionClose()
	}
}

// TooLargeDetail is the problem detail of a refused body.
func TooLargeDetail(limit int) string {
	if limit == 0 {
		return "This endpoint accepts no request body."
	}
	return fmt.Sprintf("The body exceeds %d bytes, the limit for this endpoint.", limit)
}
