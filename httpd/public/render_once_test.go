package public

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/internal/clientaddr"
	"github.com/linkd/linkd/store"
)

// N concurrent requests for a profile page that is not rendered yet render
// it once; every request gets the page. The same holds for the share image.
func TestConcurrentProfileMissesRenderOnce(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(t.TempDir(), store.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	txn := st.Begin()
	txn.PutProfile(nil, &store.Profile{User: 2, Handle: "ada", DisplayName: "Ada", Theme: "midnight", PageCode: "pagecod",
		Links: []store.ProfileLink{{Code: "c000001", Title: "Engines", URL: "https://e.test/1", Enabled: true}}})
	if err := txn.Commit(1); err != nil {
		t.Fatal(err)
	}
	o, err := ops.New(ops.Config{Store: st, PublicURL: "https://sho.rt", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h := New(Config{Ops: o, Limiters: httpx.NewLimiters(httpx.Limits{}, clientaddr.Proxies{})}, quiet)
	for _, tc := range []struct {
		path, want string
		renders    func() uint64
		hook       func(rendering, joined func())
	}{
		{"ada", "text/html; charset=utf-8", h.profiles.renders.Load, func(r, j func()) { h.profiles.rendering, h.profiles.joined = r, j }},
		{"ada/og.png", "image/png", h.shares.renders.Load, func(r, j func()) { h.shares.rendering, h.shares.joined = r, j }},
	} {
		const n = 16
		release := make(chan struct{})
		var joined sync.WaitGroup
		joined.Add(n - 1)
		tc.hook(func() { <-release }, joined.Done) // the first miss renders once every other has joined it
		go func() {                                // or after a while: a cache that does not coalesce renders n times
			all := make(chan struct{})
			go func() { joined.Wait(); close(all) }()
			select {
			case <-all:
			case <-time.After(3 * time.Second):
			}
			close(release)
		}()
		var wg sync.WaitGroup
		types := make([]string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var ctx fasthttp.RequestCtx
				ctx.Request.SetRequestURI("/@" + tc.path)
				h.Profile(&ctx, tc.path)
				if ctx.Response.StatusCode() == fasthttp.StatusOK && len(ctx.Response.Body()) > 0 {
					types[i] = string(ctx.Response.Header.ContentType())
				}
			}()
		}
		wg.Wait()
		for i, ct := range types {
			if ct != tc.want {
				t.Fatalf("%s: request %d got %q, want a 200 %s", tc.path, i, ct, tc.want)
			}
		}
		if r := tc.renders(); r != 1 {
			t.Fatalf("%s: %d concurrent misses rendered %d times, want 1", tc.path, n, r)
		}
		tc.hook(nil, nil)
		var ctx fasthttp.RequestCtx
		h.Profile(&ctx, tc.path)
		if r := tc.renders(); r != 1 || ctx.Response.StatusCode() != fasthttp.StatusOK {
			t.Fatalf("%s: a later request rendered again (%d renders, status %d)", tc.path, r, ctx.Response.StatusCode())
		}
	}
}
