package public

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/internal/clientaddr"
	"github.com/linkd/linkd/store"
)

// BenchmarkProfileRender renders a 50-link profile page from scratch (the
// rendered-page cache's miss path: template, icons, gzip, hashes), without
// sockets. bench/profile.sh measures serving end to end.
func BenchmarkProfileRender(b *testing.B) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(b.TempDir(), store.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	o, err := ops.New(ops.Config{Store: st, PublicURL: "https://sho.rt", Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	s := New(Config{Ops: o, Limiters: httpx.NewLimiters(httpx.Limits{}, clientaddr.Proxies{})}, quiet)
	hosts := []string{"instagram.com", "youtube.com", "tiktok.com", "x.com", "github.com", "twitch.tv"}
	p := &store.Profile{User: 2, Handle: "bench", DisplayName: "Ada Lovelace", Bio: "Mathematician.", Theme: "midnight", PageCode: "pagecod"}
	for i := 0; i < store.MaxProfileLinks; i++ {
		p.Links = append(p.Links, store.ProfileLink{Code: fmt.Sprintf("c%06d", i), Title: fmt.Sprintf("My link number %d", i),
			URL: fmt.Sprintf("https://%s/someone/%d", hosts[i%len(hosts)], i), Enabled: true, Social: i < 4})
	}
	b.ReportAllocs()
	var page *renderedPage
	for b.Loop() {
		if page, err = s.renderProfile(p, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(page.gzip)), "gzip-bytes")
	b.ReportMetric(float64(len(page.body)), "html-bytes")
}
