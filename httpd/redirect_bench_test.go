package httpd

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ratelimit"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/store"
)

// BenchmarkRedirectHit measures the redirect handler for a code that is in
// the hot set: routing, lookup, status and headers, with the response reset
// between requests as fasthttp does. No sockets, so this is the handler's
// own cost; bench/redirect.sh measures the server end to end.
//
// With analytics on, the handler also copies the visit into a click event
// and enqueues it; the recorder's writer runs concurrently, as in the
// server.
//
// With the per-address redirect budget on (a budget this loop never
// exhausts), the handler also takes a token from the client's bucket.
func BenchmarkRedirectHit(b *testing.B) {
	b.Run("analytics=off", func(b *testing.B) { benchRedirect(b, false, Limits{}) })
	b.Run("analytics=on", func(b *testing.B) { benchRedirect(b, true, Limits{}) })
	b.Run("analytics=off,ratelimit=on", func(b *testing.B) {
		benchRedirect(b, false, Limits{RedirectsPerIP: ratelimit.Limit{Rate: 1e12, Burst: 1 << 30}})
	})
	// A link on a configured domain, requested with a Host that needs
	// normalising (case, port): the host lookup and the "<host>/<code>"
	// key are on the hot path too.
	b.Run("analytics=on,domain=on", func(b *testing.B) { benchRedirectOn(b, true, Limits{}, "links.example") })
}

func benchRedirect(b *testing.B, analytics bool, lim Limits) { benchRedirectOn(b, analytics, lim, "") }

func benchRedirectOn(b *testing.B, analytics bool, lim Limits, domain string) {
	st := benchStore(b, &store.Link{Code: store.DomainCode(domain, "aZ3kP9q"), URL: "https://example.com/landing?utm_source=bench&utm_medium=link",
		Owner: 1, CreatedAt: 1, RedirectStatus: 302, Status: store.StatusActive})
	if domain != "" {
		txn := st.Begin()
		txn.PutDomain(&store.Domain{Host: domain, Kind: store.DomainLinks})
		if err := txn.Commit(2); err != nil {
			b.Fatal(err)
		}
	}
	s, rec := benchServer(b, st, analytics, lim)
	ctx := benchRequest("/aZ3kP9q")
	if domain != "" {
		ctx.Request.Header.SetHost(strings.ToUpper(domain) + ":443")
	}
	s.Handle(ctx) // first request fills the hot set
	if ctx.Response.StatusCode() != 302 {
		b.Fatalf("status %d", ctx.Response.StatusCode())
	}
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		s.Handle(ctx)
	}
	b.StopTimer()
	if analytics && rec.Written()+rec.Dropped()+uint64(rec.QueueLen()) == 0 {
		b.Fatal("no click was recorded")
	}
	if string(ctx.Response.Header.Peek("Location")) != "https://example.com/landing?utm_source=bench&utm_medium=link" {
		b.Fatalf("Location %q", ctx.Response.Header.Peek("Location"))
	}
	if st.Hot().Stats().Misses != 1 {
		b.Fatalf("hot set missed %d times; the hit path touched Pebble", st.Hot().Stats().Misses)
	}
}

// benchStore is a store holding l, closed when the benchmark ends.
func benchStore(b *testing.B, l *store.Link) *store.Store {
	st, err := store.Open(b.TempDir(), store.Options{Logger: benchLogger})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	txn := st.Begin()
	txn.CreateLink(l)
	if err := txn.Commit(1); err != nil {
		b.Fatal(err)
	}
	return st
}

// benchServer serves st as the redirect benchmarks do, with a click
// recorder (returned) when analytics is on.
func benchServer(b *testing.B, st *store.Store, analytics bool, lim Limits) (*Server, *clicks.Recorder) {
	cfg := Config{Store: st, PublicURL: "https://sho.rt", Logger: benchLogger, Limits: lim}
	if analytics {
		rec, err := clicks.NewRecorder(clicks.Config{Dir: b.TempDir(), Source: "bench/1", Store: st, Lag: time.Hour, Logger: benchLogger})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { rec.Close() })
		cfg.Clicks = rec
	}
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return s, cfg.Clicks
}

// benchRequest is a phone's GET of uri from one address, from a search
// result.
func benchRequest(uri string) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.SetRemoteAddr(&net.TCPAddr{IP: net.IPv4(198, 51, 100, 7), Port: 50000})
	ctx.Request.SetRequestURI(uri)
	ctx.Request.Header.SetMethod("GET")
	ctx.Request.Header.SetUserAgent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
	ctx.Request.Header.SetReferer("https://www.google.com/")
	return &ctx
}

var benchLogger = slog.New(slog.NewTextHandler(io.Discard, nil))
