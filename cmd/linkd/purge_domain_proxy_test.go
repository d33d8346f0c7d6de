//go:build proxy

package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// A domain change and a domain delete are seen through Varnish within a
// second although its links' redirects are cached for 300 s: the leader
// bans the whole host (ban= target, "X-Ban-Scope: host").
func TestProxyPurgeDomainChange(t *testing.T) {
	_, base, leader := cachingCluster(t, "ban")
	api := func(method, path, body string) {
		t.Helper()
		if st, b := apiDo(t, method, leader.URL+path, testToken, body); st >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, st, b)
		}
	}
	api("POST", "/api/v1/domains", `{"host":"go.test","kind":"links"}`)
	api("POST", "/api/v1/links", `{"url":"https://dom-before.test/","alias":"dom","domain":"go.test"}`)
	// The version gate admits UpdateDomain v2 once every node has said it
	// applies it: change the not-found URL until the leader purges a host.
	hostPurges := func() bool {
		text, err := metricsText(leader)
		if err != nil {
			return false
		}
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, "linkd_purge_hosts_total{") && !strings.HasSuffix(l, " 0") {
				return true
			}
		}
		return false
	}
	for i := 0; !hostPurges(); i++ {
		if i == 100 {
			t.Fatal("no host purge after 100 domain changes (10 s): the version gate never admitted UpdateDomain v2")
		}
		api("PATCH", "/api/v1/domains/go.test", `{"notFoundUrl":"https://nf`+strings.Repeat("x", i%2)+`.test/"}`)
		time.Sleep(100 * time.Millisecond)
	}
	get := func() (int, string, string) {
		req, _ := http.NewRequest("GET", base+"/dom", nil)
		req.Host = "go.test"
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("X-Varnish")
	}
	// cached waits until the link is a cache hit, after every purge sent
	// so far and its repeat (--purge-repeat, 500 ms) have reached Varnish:
	// a late repeat would otherwise evict it and pass for the purge under
	// test.
	cached := func(what string) {
		t.Helper()
		eventually(t, 10*time.Second, "an empty purge queue", func() bool { return metric(t, leader, "linkd_purge_queue") == "0" })
		time.Sleep(700 * time.Millisecond)
		eventually(t, 10*time.Second, what+" cached by Varnish", func() bool {
			st, _, xv := get()
			return st == 302 && len(strings.Fields(xv)) == 2
		})
	}
	cached("the link on go.test")
	servedWithin := func(what, method, path, body string, want func(int, string) bool) time.Duration {
		t.Helper()
		api(method, path, body)
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
	toProfiles := servedWithin("kind profiles", "PATCH", "/api/v1/domains/go.test", `{"kind":"profiles"}`,
		func(st int, _ string) bool { return st != 302 })
	api("PATCH", "/api/v1/domains/go.test", `{"kind":"links"}`)
	cached("the link on go.test again")
	deleted := servedWithin("delete", "DELETE", "/api/v1/domains/go.test", "",
		func(st int, _ string) bool { return st == 404 })
	t.Logf("through Varnish (redirects cached 300 s): kind change served after %s, domain delete after %s", toProfiles, deleted)
	if toProfiles > time.Second || deleted > time.Second {
		t.Fatalf("host purge too slow: kind change %s, delete %s (want ≤ 1 s)", toProfiles, deleted)
	}
}
