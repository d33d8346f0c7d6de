package httpd

import (
	"io"
	"log/slog"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/store"
)

// BenchmarkRedirectHit measures the redirect handler for a code that is in
// the hot set: routing, lookup, status and headers, with the response reset
// between requests as fasthttp does. No sockets, so this is the handler's
// own cost; bench/redirect.sh measures the server end to end.
func BenchmarkRedirectHit(b *testing.B) {
	st, err := store.Open(b.TempDir(), store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	txn := st.Begin()
	txn.CreateLink(&store.Link{Code: "aZ3kP9q", URL: "https://example.com/landing?utm_source=bench&utm_medium=link",
		Owner: 1, CreatedAt: 1, RedirectStatus: 302, Status: store.StatusActive})
	if err := txn.Commit(1); err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Store: st, PublicURL: "https://sho.rt", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/aZ3kP9q")
	ctx.Request.Header.SetMethod("GET")
	s.Handle(&ctx) // first request fills the hot set
	if ctx.Response.StatusCode() != 302 {
		b.Fatalf("status %d", ctx.Response.StatusCode())
	}
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		s.Handle(&ctx)
	}
	if string(ctx.Response.Header.Peek("Location")) != "https://example.com/landing?utm_source=bench&utm_medium=link" {
		b.Fatalf("Location %q", ctx.Response.Header.Peek("Location"))
	}
	if st.Hot().Stats().Misses != 1 {
		b.Fatalf("hot set missed %d times; the hit path touched Pebble", st.Hot().Stats().Misses)
	}
}
