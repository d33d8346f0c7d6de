//go:build proxy

package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// With --redirect-max-age 300s a Varnish in front of three nodes caches
// redirects for five minutes; the leader's purges make an edit and a
// takedown show through Varnish within a second.
func TestProxyPurgeEditAndTakedown(t *testing.T) {
	procs, base, leader := cachingCluster(t, "varnish")
	code := mustCreateOn(t, leader, "https://before.test/")
	for _, p := range procs {
		redirectsTo(t, p, code, "https://before.test/")
	}
	get := func() (int, string, string) {
		resp, err := noRedirect.Get(base + "/" + code)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("X-Varnish")
	}
	get()
	if st, loc, xv := get(); st != 302 || loc != "https://before.test/" || len(strings.Fields(xv)) != 2 {
		t.Fatalf("second GET through Varnish: %d %q X-Varnish %q, want a cache hit", st, loc, xv)
	}
	// servedWithin changes the link and measures until Varnish answers want.
	servedWithin := func(what, method, path, body string, want func(int, string) bool) time.Duration {
		t.Helper()
		if st, b := apiDo(t, method, leader.URL+path, testToken, body); st >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, st, b)
		}
		start := time.Now()
		for {
			st, loc, _ := get()
			if want(st, loc) {
				return time.Since(start)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: Varnish still answers %d %q after 5 s", what, st, loc)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	edit := servedWithin("edit", "PATCH", "/api/v1/links/"+code, `{"url":"https://after.test/"}`,
		func(st int, loc string) bool { return st == 302 && loc == "https://after.test/" })
	if _, _, xv := get(); len(strings.Fields(xv)) != 2 {
		t.Fatalf("the edited redirect is not cached again (X-Varnish %q)", xv)
	}
	takedown := servedWithin("takedown", "PUT", "/api/v1/links/"+code+"/takedown", `{"reason":"malware"}`,
		func(st int, _ string) bool { return st == http.StatusUnavailableForLegalReasons })
	t.Logf("through Varnish (redirects cached 300 s): edit served after %s, takedown after %s", edit, takedown)
	if edit > time.Second || takedown > time.Second {
		t.Fatalf("purge too slow: edit %s, takedown %s (want ≤ 1 s)", edit, takedown)
	}
}

// cachingCluster starts three nodes that let caches keep redirects for 300
// s, behind a Varnish (on a free address, which is also the public URL)
// that the leader purges through target ("varnish": PURGE, "ban": BAN); it
// returns the nodes, Varnish's base URL and the leader.
func cachingCluster(t *testing.T, target string) (procs []*proc, base string, leader *proc) {
	t.Helper()
	listen := httpdtest.FreeAddr(t)
	procs = startCluster(t, 3, "--redirect-max-age", "300s", "--purge", target+"=http://"+listen,
		"--public-url", "http://"+listen)
	var addrs []string
	for _, p := range procs {
		addrs = append(addrs, p.httpAddr)
	}
	return procs, startVarnishOn(t, listen, addrs, cacheRecv), leaderOf(t, procs)
}
