package httpd

import (
	"math"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ratelimit"
)

// Limits are the request budgets, each a token bucket kept per node (see
// package ratelimit). A zero Rate turns one off.
type Limits struct {
	// WritesPerKey bounds API writes per API key (console writes per user).
	WritesPerKey ratelimit.Limit
	// WritesPerIP bounds API and console writes per client address.
	WritesPerIP ratelimit.Limit
	// LoginsPerIP and LoginsPerEmail bound login and sign-up attempts, so
	// passwords cannot be guessed quickly from one address or against one
	// account from many.
	LoginsPerIP    ratelimit.Limit
	LoginsPerEmail ratelimit.Limit
	// RedirectsPerIP is a generous budget that stops one client from
	// flooding the redirect path; it is checked in memory, never in raft.
	RedirectsPerIP ratelimit.Limit
}

// DefaultLimits are generous for people and tight for scripts that guess.
// Keys with the admin scope are not limited on writes: operators bulk-load.
func DefaultLimits() Limits {
	return Limits{
		WritesPerKey:   ratelimit.Limit{Rate: 20, Burst: 100},
		WritesPerIP:    ratelimit.Limit{Rate: 50, Burst: 200},
		LoginsPerIP:    ratelimit.PerMinute(10, 20),
		LoginsPerEmail: ratelimit.PerMinute(5, 10),
		RedirectsPerIP: ratelimit.Limit{Rate: 1000, Burst: 5000},
	}
}

// limiters holds the live buckets of a Server.
type limiters struct {
	writesKey  *ratelimit.Limiter[string]
	writesIP   *ratelimit.Limiter[netip.Addr]
	loginIP    *ratelimit.Limiter[netip.Addr]
	loginEmail *ratelimit.Limiter[string]
	redirectIP *ratelimit.Limiter[netip.Addr]
}

func newLimiters(l Limits) limiters {
	return limiters{
		writesKey:  ratelimit.New[string](l.WritesPerKey),
		writesIP:   ratelimit.New[netip.Addr](l.WritesPerIP),
		loginIP:    ratelimit.New[netip.Addr](l.LoginsPerIP),
		loginEmail: ratelimit.New[string](l.LoginsPerEmail),
		redirectIP: ratelimit.New[netip.Addr](l.RedirectsPerIP),
	}
}

// clientIP is the address a request comes from: the peer, or, when the
// peer is a trusted proxy, the last untrusted hop it forwarded. IPv6
// clients are keyed by their /64, which one subscriber usually holds whole.
func (s *Server) clientIP(ctx *fasthttp.RequestCtx) netip.Addr {
	var a netip.Addr
	if ta, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		a, _ = netip.AddrFromSlice(ta.IP)
		a = a.Unmap()
	}
	if s.cfg.TrustedProxies.Trusted(a) {
		h := ctx.Request.Header.PeekBytes(hdrCFConnecting)
		if len(h) == 0 {
			h = ctx.Request.Header.PeekBytes(hdrXFF)
		}
		a = s.cfg.TrustedProxies.Resolve(a, string(h))
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	return a
}

// setRateHeaders reports a bucket in the IETF RateLimit header fields.
func setRateHeaders(ctx *fasthttp.RequestCtx, d ratelimit.Decision) {
	if d.Limit == 0 {
		return
	}
	h := &ctx.Response.Header
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(d.Reset)))
}

func ceilSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// refuse answers 429 for a spent bucket, with when to come back.
func refuse(ctx *fasthttp.RequestCtx, d ratelimit.Decision, what string) {
	writeProblem(ctx, probRateLimited, "Too many "+what+"; retry in "+strconv.Itoa(max(ceilSeconds(d.RetryAfter), 1))+" s.")
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(max(ceilSeconds(d.RetryAfter), 1)))
	setRateHeaders(ctx, d)
}

// allowWrite spends one API write, answering 429 itself when refused.
func (s *Server) allowWrite(ctx *fasthttp.RequestCtx, p principal) bool {
	if d := s.writeRefusal(ctx, p); d != nil {
		refuse(ctx, *d, "writes")
		return false
	}
	return true
}

// writeRefusal spends one write from the client address's and the
// principal's budgets. It returns the refusal, or nil and sets the
// RateLimit headers of the principal's budget.
func (s *Server) writeRefusal(ctx *fasthttp.RequestCtx, p principal) *ratelimit.Decision {
	if p.isAdmin() {
		return nil
	}
	now := time.Now()
	if d := s.lim.writesIP.Allow(s.clientIP(ctx), now); !d.OK {
		return &d
	}
	d := s.lim.writesKey.Allow(p.limiterKey(), now)
	if !d.OK {
		return &d
	}
	setRateHeaders(ctx, d)
	return nil
}

// allowLogin spends one login attempt from the address's and the email's
// budgets; it returns the refusal to show, or nil.
func (s *Server) allowLogin(ctx *fasthttp.RequestCtx, email string) *ratelimit.Decision {
	now := time.Now()
	if d := s.lim.loginIP.Allow(s.clientIP(ctx), now); !d.OK {
		return &d
	}
	if d := s.lim.loginEmail.Allow(normEmail(email), now); !d.OK {
		return &d
	}
	return nil
}
