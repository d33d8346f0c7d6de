package httpd

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/cluster"
)

// internal serves /_/...: liveness, readiness, status and problem docs.
func (s *Server) internal(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	switch {
	case path == "/_/healthz":
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("ok\n")
	case path == "/_/readyz":
		s.readyz(ctx)
	case path == "/_/status":
		writeJSON(ctx, fasthttp.StatusOK, s.fullStatus())
	case path == "/_/metrics":
		s.metrics(ctx)
	case strings.HasPrefix(path, "/_/img/"):
		s.serveImage(ctx, strings.TrimPrefix(path, "/_/img/"))
	case strings.HasPrefix(path, "/_/problems/"):
		problemDocs(ctx, strings.TrimPrefix(path, "/_/problems/"))
	default:
		writeProblem(ctx, probNotFound, "No such endpoint.")
	}
}

// readyz is the load balancer's health check: 200 only when this node has a
// leader, is initialised, is caught up and has heard from the leader
// recently.
func (s *Server) readyz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if err := s.cfg.Cluster.Ready(); err != nil {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString("not ready: " + err.Error() + "\n")
		return
	}
	ctx.SetBodyString("ready\n")
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(ctx, probInternal, "Encoding the response failed.")
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBody(append(b, '\n'))
}

// fullStatus asks every member for its progress. The request context is not
// used as a context.Context: fasthttp's RequestCtx is only valid inside the
// handler and its Done races with server shutdown.
func (s *Server) fullStatus() cluster.Status {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return s.cfg.Cluster.FullStatus(ctx)
}
