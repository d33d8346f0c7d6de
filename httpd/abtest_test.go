package httpd

import (
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/destination"
	"github.com/linkd/linkd/store"
)

// An A/B split of 20/30/50 over 10,000 visitors (distinct addresses, one
// browser) lands within ±2 points of each weight, and each visitor sees
// the same variant on every visit that day.
func TestABSplitWeights(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(t.TempDir(), store.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	weights := []int{20, 30, 50}
	urls := []string{"https://e.test/a", "https://e.test/b", "https://e.test/c"}
	var o destination.Options
	for i, w := range weights {
		o.Variants = append(o.Variants, destination.Variant{URL: urls[i], Weight: w})
	}
	txn := st.Begin()
	txn.CreateLink(&store.Link{Code: "split01", URL: "https://e.test/", Owner: 1, CreatedAt: 1, RedirectStatus: 302,
		Status: store.StatusActive, LinkOptions: store.LinkOptions{Program: destination.Compile(o)}})
	if err := txn.Commit(1); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: st, PublicURL: "https://sho.rt", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	const visitors = 10000
	counts := map[string]int{}
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/split01")
	ctx.Request.Header.SetMethod("GET")
	ctx.Request.Header.SetUserAgent("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0")
	visit := func(i int) string {
		ctx.SetRemoteAddr(&net.TCPAddr{IP: net.IPv4(100, byte(i>>16), byte(i>>8), byte(i)), Port: 40000})
		ctx.Response.Reset()
		s.Handle(&ctx)
		return string(ctx.Response.Header.Peek("Location"))
	}
	for i := range visitors {
		loc := visit(i)
		counts[loc]++
		if i%100 == 0 && visit(i) != loc {
			t.Fatalf("visitor %d saw %s, then another variant", i, loc)
		}
	}
	for i, u := range urls {
		got := float64(counts[u]) * 100 / visitors
		if got < float64(weights[i])-2 || got > float64(weights[i])+2 {
			t.Errorf("variant %s: %.1f%% of visitors, weight %d", u, got, weights[i])
		}
	}
	t.Logf("split: %v", counts)
}
