//go:build proxy

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// A profile page Varnish serves from its cache is still counted: the page
// (s-maxage=60) comes from the cache the second time, its view beacon
// (no-store) reaches a node every time, and two page loads are two views.
func TestProxyBeaconCountsCachedViews(t *testing.T) {
	procs := startCluster(t, 3, "--analytics-lag", "500ms")
	var addrs []string
	for _, p := range procs {
		addrs = append(addrs, p.httpAddr)
	}
	base := startVarnishOn(t, httpdtest.FreeAddr(t), addrs, cacheRecv)
	leader := leaderOf(t, procs)
	mustAPI(t, 200, "PUT", leader.URL+"/api/v1/profile", testToken, `{"handle":"cached","theme":"classic","links":[{"title":"Blog","url":"https://blog.test/"}]}`)
	for _, p := range procs {
		eventually(t, 10*time.Second, "the profile on "+p.URL, func() bool {
			st, _ := apiDo(t, "GET", p.URL+"/@cached", "", "")
			return st == 200
		})
	}
	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b), resp.Header.Get("X-Varnish")
	}
	views := func() uint64 {
		var p struct{ Views *uint64 }
		json.Unmarshal(mustAPI(t, 200, "GET", leader.URL+"/api/v1/profile", testToken, ""), &p)
		if p.Views == nil {
			return 0
		}
		return *p.Views
	}
	for i := 0; i < 2; i++ {
		st, body, xv := get("/@cached")
		if st != 200 || !strings.Contains(body, `src="/_/v/cached.gif"`) {
			t.Fatalf("page %d through Varnish: %d, beacon missing", i+1, st)
		}
		if i == 1 && len(strings.Fields(xv)) != 2 {
			t.Fatalf("second page load: X-Varnish %q, want a cache hit", xv)
		}
		st, _, xv = get("/_/v/cached.gif")
		if st != 200 || len(strings.Fields(xv)) != 1 {
			t.Fatalf("beacon %d through Varnish: %d X-Varnish %q, want a miss each time", i+1, st, xv)
		}
	}
	eventually(t, 15*time.Second, "two views", func() bool { return views() >= 2 })
	// Nothing more arrives within four analytics lags: the page loads
	// themselves counted nothing.
	time.Sleep(2 * time.Second)
	if v := views(); v != 2 {
		t.Fatalf("views = %d, want 2 (one per beacon)", v)
	}
}
