package httpx

import (
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/httpd/ratelimit"
	"github.com/linkd/linkd/internal/clientaddr"
)

// Limits are the request budgets, each a token bucket kept per node (see
// package ratelimit). A zero Rate turns one off.
type Limits struct {
	// WritesPerKey bounds API writes per API key (console writes per user).
	WritesPerKey ratelimit.Limit
	// WritesPerIP bounds API and console writes per client address.
	WritesPerIP ratelimit.Limit
	// LoginsPerIP bounds login and sign-up attempts from one client
	// address. LoginsPerEmail bounds attempts at one email from one
	// address: it is kept per (email, address), so a stranger who spends
	// it locks out only themselves, never the owner at their own address.
	LoginsPerIP    ratelimit.Limit
	LoginsPerEmail ratelimit.Limit
	// LoginFailuresPerEmail is the global slowdown: failed logins at one
	// email from every address together. Past it, each further failure at
	// that email is answered only after LoginSlowdown, which slows a
	// distributed guesser (who holds a connection per guess, and the
	// per-address connection cap bounds those) without ever refusing the
	// right password.
	LoginFailuresPerEmail ratelimit.Limit
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
		// a dozen addresses' worth of per-pair budgets before slowing down
		LoginFailuresPerEmail: ratelimit.PerMinute(30, 60),
		RedirectsPerIP:        ratelimit.Limit{Rate: 1000, Burst: 5000},
	}
}

// Limiters holds the live buckets of a server, and the trusted proxies
// that say which client a request is from.
type Limiters struct {
	proxies    clientaddr.Proxies
	writesKey  *ratelimit.Limiter[string]
	writesIP   *ratelimit.Limiter[netip.Addr]
	loginIP    *ratelimit.Limiter[netip.Addr]
	loginEmail *ratelimit.Limiter[emailFrom]
	loginFails *ratelimit.Limiter[string]
	redirectIP *ratelimit.Limiter[netip.Addr]
}

// emailFrom keys the per-email login budget: one email from one address.
type emailFrom struct {
	email string
	from  netip.Addr
}

// LoginSlowdown is how long a failed login waits for its answer once its
// email's global failure budget (LoginFailuresPerEmail) is spent.
const LoginSlowdown = time.Second

// NewLimiters starts empty buckets for l.
func NewLimiters(l Limits, proxies clientaddr.Proxies) *Limiters {
	return &Limiters{
		proxies:    proxies,
		writesKey:  ratelimit.New[string](l.WritesPerKey),
		writesIP:   ratelimit.New[netip.Addr](l.WritesPerIP),
		loginIP:    ratelimit.New[netip.Addr](l.LoginsPerIP),
		loginEmail: ratelimit.New[emailFrom](l.LoginsPerEmail),
		loginFails: ratelimit.New[string](l.LoginFailuresPerEmail),
		redirectIP: ratelimit.New[netip.Addr](l.RedirectsPerIP),
	}
}

// SetRateHeaders reports a bucket in the IETF RateLimit header fields.
func SetRateHeaders(ctx *fasthttp.RequestCtx, d ratelimit.Decision) {
	if d.Limit == 0 {
		return
	}
	h := &ctx.Response.Header
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(CeilSeconds(d.Reset)))
}

// RetryAfter is how many whole seconds (at least 1) a refusal asks to wait.
func RetryAfter(d ratelimit.Decision) int { return max(CeilSeconds(d.RetryAfter), 1) }

// CeilSeconds rounds d up to whole seconds.
func CeilSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// Refuse answers a problem+json 429 for a spent bucket, with when to come
// back.
func Refuse(ctx *fasthttp.RequestCtx, d ratelimit.Decision, what string) {
	WriteProblem(ctx, ops.KindRateLimited, "Too many "+what+"; retry in "+strconv.Itoa(RetryAfter(d))+" s.")
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(RetryAfter(d)))
	SetRateHeaders(ctx, d)
}

// WriteRefusal spends one write from the client address's and the
// principal's budgets. It returns the refusal, or nil and sets the
// RateLimit headers of the principal's budget.
func (l *Limiters) WriteRefusal(ctx *fasthttp.RequestCtx, p ops.Principal) *ratelimit.Decision {
	if p.IsAdmin() {
		return nil
	}
	now := time.Now()
	if d := l.writesIP.Allow(ClientKey(ctx, l.proxies), now); !d.OK {
		return &d
	}
	if p.User == nil {
		return nil // logged out (the console's logout): the address's budget only
	}
	d := l.writesKey.Allow(p.LimiterKey(), now)
	if !d.OK {
		return &d
	}
	SetRateHeaders(ctx, d)
	return nil
}

// LoginRefusal spends one login attempt from the address's budget and the
// (email, address) pair's; it returns the refusal to show, or nil.
func (l *Limiters) LoginRefusal(ctx *fasthttp.RequestCtx, email string) *ratelimit.Decision {
	now := time.Now()
	from := ClientKey(ctx, l.proxies)
	if d := l.loginIP.Allow(from, now); !d.OK {
		return &d
	}
	if d := l.loginEmail.Allow(emailFrom{ops.NormEmail(email), from}, now); !d.OK {
		return &d
	}
	return nil
}

// LoginFailed counts a failed login at email against the global failure
// budget and reports how long its answer should wait: LoginSlowdown once
// that budget is spent, else nothing.
func (l *Limiters) LoginFailed(email string) time.Duration {
	if ok, _ := l.loginFails.Take(ops.NormEmail(email), time.Now()); !ok {
		return LoginSlowdown
	}
	return 0
}

// RedirectRefusal takes one redirect from the client address's budget; it
// returns false and how long to wait when the budget is spent. It
// allocates nothing for a direct client.
func (l *Limiters) RedirectRefusal(ctx *fasthttp.RequestCtx, now time.Time) (ok bool, wait time.Duration) {
	if !l.redirectIP.Enabled() {
		return true, 0
	}
	return l.redirectIP.Take(ClientKey(ctx, l.proxies), now)
}

// Client is the request's client address as the budgets key it (trusted
// proxies resolved, IPv6 by /64).
func (l *Limiters) Client(ctx *fasthttp.RequestCtx) netip.Addr { return ClientKey(ctx, l.proxies) }
