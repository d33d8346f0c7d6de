package httpd_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd"
	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ratelimit"
)

// TestClientIPHeaderOnlyConfigured: behind a proxy that maintains
// X-Forwarded-For (the configured header), a client that rotates
// CF-Connecting-IP is still one client to the per-address budgets.
func TestClientIPHeaderOnlyConfigured(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{Limits: httpd.Limits{RedirectsPerIP: ratelimit.Limit{Rate: 0.01, Burst: 5}}})
	code := mustCreateLink(t, n, httpdtest.Token, `{"url":"https://rl.example/"}`)
	for i := 0; i < 5; i++ {
		mustStatus(t, fmt.Sprint("redirect ", i), n.Do("GET", "/"+code, nil, "X-Forwarded-For", "198.51.100.1"), http.StatusFound)
	}
	for i := 0; i < 3; i++ {
		r := n.Do("GET", "/"+code, nil, "X-Forwarded-For", "198.51.100.1", "CF-Connecting-IP", fmt.Sprintf("203.0.113.%d", i+1),
			"X-Real-IP", fmt.Sprintf("192.0.2.%d", i+1))
		mustStatus(t, "rotated CF-Connecting-IP / X-Real-IP", r, http.StatusTooManyRequests)
	}
	mustStatus(t, "another client by the configured header", n.Do("GET", "/"+code, nil, "X-Forwarded-For", "198.51.100.2"), http.StatusFound)
}

// TestLoginLockoutByStranger: a stranger who spends the per-email budget
// from their own address does not lock the owner out at the owner's
// address, and past the global failure budget failures are answered late.
func TestLoginLockoutByStranger(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{Limits: httpd.Limits{
		LoginsPerEmail:        ratelimit.PerMinute(1, 3),
		LoginFailuresPerEmail: ratelimit.PerMinute(0.01, 4),
	}})
	n.Do("POST", "/api/v1/users", []byte(`{"email":"owner@example.com","password":"`+pw+`"}`))
	attacker := n.NewConsole(t)
	attacker.Header = http.Header{"X-Forwarded-For": {"203.0.113.66"}}
	attacker.Get("/app/login")
	for i := 0; i < 3; i++ {
		mustStatus(t, "attacker guesses", attacker.Post("/app/login", url.Values{"email": {"owner@example.com"}, "password": {"wrong password!"}}), http.StatusUnauthorized)
	}
	mustStatus(t, "attacker is throttled", attacker.Post("/app/login", url.Values{"email": {"Owner@example.com"}, "password": {"wrong password!"}}), http.StatusTooManyRequests)
	// A second attacker address spends the global failure budget.
	other := n.NewConsole(t)
	other.Header = http.Header{"X-Forwarded-For": {"203.0.113.67"}}
	other.Get("/app/login")
	mustStatus(t, "second address guesses", other.Post("/app/login", url.Values{"email": {"owner@example.com"}, "password": {"wrong password!"}}), http.StatusUnauthorized)
	start := time.Now()
	mustStatus(t, "guess past the global budget", other.Post("/app/login", url.Values{"email": {"owner@example.com"}, "password": {"wrong password!"}}), http.StatusUnauthorized)
	if d := time.Since(start); d < httpx.LoginSlowdown {
		t.Errorf("a failure past the global budget was answered in %v, want at least %v", d, httpx.LoginSlowdown)
	}
	owner := n.NewConsole(t)
	owner.Header = http.Header{"X-Forwarded-For": {"198.51.100.10"}}
	owner.Login("owner@example.com", pw)
	mustStatus(t, "owner is in", owner.Get("/app/links"), http.StatusOK)
}
