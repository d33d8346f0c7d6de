package tlsd

import (
	"bytes"
	"net"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// HSTSValue is the Strict-Transport-Security header HTTPS answers carry for
// hosts whose policy asks for it: one year, this host only (a domain opts
// its subdomains in by itself, never by linkd's default).
const HSTSValue = "max-age=31536000"

var (
	acmeChallengePath = []byte("/.well-known/acme-challenge/")
	internalPath      = []byte("/_/")
)

// Front wraps the HTTP handler for both listeners. On plain HTTP it
// answers ACME HTTP-01 challenges (from storage: any node answers for an
// order the leader started) and redirects allowed hosts that ask for it to
// HTTPS with a 308, except challenges and the /_/ health paths a load
// balancer probes. On HTTPS it adds HSTS where the policy asks.
func (s *Server) Front(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	challenge := s.challengeHandler()
	return func(ctx *fasthttp.RequestCtx) {
		host := requestHost(ctx)
		if ctx.IsTLS() {
			next(ctx)
			if s.cfg.Policy.HSTS(host) {
				ctx.Response.Header.Set("Strict-Transport-Security", HSTSValue)
			}
			return
		}
		path := ctx.Path()
		if bytes.HasPrefix(path, acmeChallengePath) {
			if challenge != nil && s.cfg.Policy.Allowed(host) {
				challenge(ctx)
				return
			}
		} else if !bytes.HasPrefix(path, internalPath) && s.cfg.Policy.Redirect(host) {
			s.redirect(ctx, host)
			return
		}
		next(ctx)
	}
}

// redirect answers 308 to the same host, path and query over HTTPS.
func (s *Server) redirect(ctx *fasthttp.RequestCtx, host string) {
	target := "https://" + host
	if p := s.cfg.HTTPSPort; p != "" && p != "443" {
		target = "https://" + net.JoinHostPort(host, p)
	}
	ctx.Response.Header.Set("Location", target+string(ctx.RequestURI()))
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(fasthttp.StatusPermanentRedirect)
}

// challengeHandler answers HTTP-01 challenges with certmagic's distributed
// solver (the token is looked up in the replicated storage, after catching
// up with the leader if it is not there); 404 for anything else under the
// challenge path. nil without ACME.
func (s *Server) challengeHandler() fasthttp.RequestHandler {
	if s.issuer == nil {
		return nil
	}
	return fasthttpadaptor.NewFastHTTPHandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A miss (nothing written) may be a challenge this node has not
		// applied yet: catch up with the leader and look once more.
		if !s.issuer.HandleHTTPChallenge(w, r) && !(s.caughtUp() && s.issuer.HandleHTTPChallenge(w, r)) {
			http.NotFound(w, r)
		}
	})
}

// requestHost is the request's host name, lower case, without port.
func requestHost(ctx *fasthttp.RequestCtx) string {
	h := string(ctx.Host())
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	return strings.ToLower(h)
}
