package httpd

import (
	"fmt"
	"testing"

	"github.com/linkd/linkd/httpd/destination"
	"github.com/linkd/linkd/store"
)

// BenchmarkRedirectRules measures a hit on a link with 10 rules that the
// visitor fails one by one (device, OS, language, country and query
// conditions), falling through to a weighted A/B split: the worst case of
// matching, with the visitor classified from real headers, its hash and
// country computed, and the visitor's query forwarded. The target is at
// most 1 alloc/op and under 1 µs.
func BenchmarkRedirectRules(b *testing.B) {
	b.Run("analytics=off", func(b *testing.B) { benchRules(b, false) })
	b.Run("analytics=on", func(b *testing.B) { benchRules(b, true) })
}

func benchRules(b *testing.B, analytics bool) {
	var o destination.Options
	conds := []destination.Cond{
		{Device: []string{"tablet"}}, {OS: []string{"android"}}, {OS: []string{"windows", "linux"}},
		{Language: []string{"fr", "es", "it"}}, {Country: []string{"FR", "ES", "IT", "PT"}},
		{Query: map[string][]string{"ref": {"news"}}}, {OS: []string{"ios"}, Language: []string{"ja"}},
		{Device: []string{"desktop"}, Country: []string{"DE"}}, {Language: []string{"pt-br"}},
		{OS: []string{"chromeos"}, Query: map[string][]string{"x": nil}},
	}
	for i, c := range conds {
		o.Rules = append(o.Rules, destination.Rule{If: c, URL: fmt.Sprintf("https://example.com/rule/%d", i)})
	}
	o.Variants = []destination.Variant{{URL: "https://example.com/a", Weight: 50}, {URL: "https://example.com/b", Weight: 50}}
	norm, errs := destination.Normalize(o, func(s string) (string, error) { return s, nil })
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	st := benchStore(b, &store.Link{Code: "aZ3kP9q", URL: "https://example.com/landing", Owner: 1, CreatedAt: 1,
		RedirectStatus: 302, Status: store.StatusActive, LinkOptions: store.LinkOptions{Program: destination.Compile(norm)}})
	s, _ := benchServer(b, st, analytics, Limits{})
	ctx := benchRequest("/aZ3kP9q?utm_source=bench")
	ctx.Request.Header.Set("Accept-Language", "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7")
	s.Handle(ctx)
	loc := string(ctx.Response.Header.Peek("Location"))
	if ctx.Response.StatusCode() != 302 || (loc != "https://example.com/a?utm_source=bench" && loc != "https://example.com/b?utm_source=bench") {
		b.Fatalf("status %d, Location %q", ctx.Response.StatusCode(), loc)
	}
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		s.Handle(ctx)
	}
	b.StopTimer()
	if st.Hot().Stats().Misses != 1 {
		b.Fatalf("hot set missed %d times", st.Hot().Stats().Misses)
	}
}
