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
		s.status(ctx)
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

// publicStatus is what /_/status tells anyone: what a load balancer needs,
// and nothing an attacker could use (no member addresses, no indexes).
type publicStatus struct {
	NodeID string `json:"nodeId"`
	State  string `json:"state"`
	Ready  bool   `json:"ready"`
}

// status serves /_/status: the full cluster view to an admin API token,
// the public view to anyone else (a bad token is not an error here, so the
// endpoint stays a plain health probe).
func (s *Server) status(ctx *fasthttp.RequestCtx) {
	if token, ok := strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer "); ok {
		if p, err := s.principalForToken(strings.TrimSpace(token), time.Now()); err == nil && p.isAdmin() {
			writeJSON(ctx, fasthttp.StatusOK, s.fullStatus())
			return
		}
	}
	st := s.cfg.Cluster.Status()
	writeJSON(ctx, fasthttp.StatusOK, publicStatus{NodeID: st.NodeID, State: st.State, Ready: s.cfg.Cluster.Ready() == nil})
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
