package httpd_test

import (
	"bytes"
	"encoding/json"
	"image/gif"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// views waits until the profile's views satisfy ok, within the analytics lag.
func views(t *testing.T, n *httpdtest.Node, tok string, ok func(uint64) bool) uint64 {
	t.Helper()
	deadline := time.Now().Add(20 * httpdtest.AnalyticsLag)
	for {
		var p profileResp
		json.Unmarshal(n.Do("GET", "/api/v1/profile", nil, httpdtest.As(tok)...).Body, &p)
		var v uint64
		if p.Views != nil {
			v = *p.Views
		}
		if ok(v) || time.Now().After(deadline) {
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A profile view is counted by the page's beacon, exactly once: a page
// fetched without loading its beacon counts nothing (shown by a later
// click on a link, recorded after it, arriving first), the beacon counts
// one; the beacon is a no-store 1×1 GIF under the page's own CSP; the
// console's preview carries none; an unknown handle counts nothing.
func TestViewBeacon(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, tok := n.User(t, "bea@example.com", pw)
	mustPutProfile(t, n, tok, `{"handle":"bea","theme":"classic","links":[{"title":"One","url":"https://one.example/"}]}`)
	anon := []string{"Authorization", "", "User-Agent", firefox}

	page := n.Do("GET", "/@bea", nil, anon...)
	mustStatus(t, "page", page, http.StatusOK)
	if !strings.Contains(string(page.Body), `<img class="vb" src="/_/v/bea.gif" alt="" width="1" height="1">`) {
		t.Fatal("the page carries no view beacon")
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self'") {
		t.Fatalf("CSP %q does not allow the same-origin beacon", csp)
	}
	// A link clicked after the page load is recorded after it: once that
	// click is counted, the page load would have been too.
	marker := mustCreate(t, n, `{"url":"https://marker.example/"}`)
	mustStatus(t, "marker click", n.Do("GET", "/"+marker.Code, nil, anon...), http.StatusFound)
	deadline := time.Now().Add(20 * httpdtest.AnalyticsLag)
	for mustJSON[report](t, n.Do("GET", "/api/v1/links/"+marker.Code+"/analytics?interval=hour", nil), 200).Total != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the marker click was not counted")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v := views(t, n, tok, func(uint64) bool { return true }); v != 0 {
		t.Fatalf("a page load without its beacon counted %d views", v)
	}

	b := n.Do("GET", "/_/v/bea.gif", nil, append(anon, "Referer", "http://sho.rt/@bea")...)
	mustStatus(t, "beacon", b, http.StatusOK)
	if b.Header.Get("Cache-Control") != "no-store" || b.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("beacon headers: %v", b.Header)
	}
	if img, err := gif.Decode(bytes.NewReader(b.Body)); err != nil || img.Bounds().Dx() != 1 || img.Bounds().Dy() != 1 {
		t.Fatalf("beacon image: %v %v", err, img)
	}
	for _, path := range []string{"/_/v/nobody.gif", "/_/v/bea.png", "/_/v/"} {
		r := n.Do("GET", path, nil, anon...)
		mustStatus(t, path, r, http.StatusNotFound)
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: Cache-Control %q", path, r.Header.Get("Cache-Control"))
		}
	}
	if v := views(t, n, tok, func(v uint64) bool { return v >= 1 }); v != 1 {
		t.Fatalf("views after one beacon = %d, want 1", v)
	}

	mustStatus(t, "preview", c.Get("/app/profile/preview"), http.StatusOK)
	if p := c.Get("/app/profile/preview"); strings.Contains(string(p.Body), "/_/v/") {
		t.Fatal("the console's preview carries a counting beacon")
	}
}
