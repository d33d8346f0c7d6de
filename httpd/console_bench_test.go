package httpd_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// BenchmarkConsolePages renders the main console pages for a user with
// 1,000 links (each with a title and tags), over loopback HTTP with
// keep-alive, one request at a time. ns/op is the server's render time plus
// a loopback round trip; html-bytes and gzip-bytes are the page's size
// without and with Accept-Encoding: gzip (the console compresses).
//
//	go test -run '^$' -bench BenchmarkConsolePages -benchtime 50x ./httpd/
func BenchmarkConsolePages(b *testing.B) {
	n := httpdtest.Start(b, "")
	c, tok := n.User(b, "bench@example.com", pw)
	var code string
	for i := 0; i < 1000; i++ {
		body := fmt.Sprintf(`{"url":"https://example.com/products/%d?utm_source=newsletter","title":"Product page %d","tags":["shop","n%d"]}`, i, i, i%10)
		r := n.Do("POST", "/api/v1/links", []byte(body), httpdtest.As(tok)...)
		if r.Status != http.StatusCreated {
			b.Fatalf("create: %d %s", r.Status, r.Body)
		}
		code = string(r.Body[9:16])
	}
	for _, p := range []struct{ name, path string }{
		{"links-50", "/app/links"},
		{"links-1000", "/app/links?limit=1000"},
		{"links-search", "/app/links?q=product+page+99"},
		{"link", "/app/links/" + code},
		{"analytics", "/app/links/" + code + "/analytics"},
		{"keys", "/app/keys"},
		{"login", "/app/login"},
	} {
		c := c
		if p.name == "login" {
			c = n.NewConsole(b) // logged out
		}
		b.Run(p.name, func(b *testing.B) {
			raw := fetch(b, c, p.path, "")
			gz := fetch(b, c, p.path, "gzip")
			for b.Loop() {
				fetch(b, c, p.path, "")
			}
			b.ReportMetric(float64(raw), "html-bytes")
			b.ReportMetric(float64(gz), "gzip-bytes")
		})
	}
}

func fetch(b *testing.B, c *httpdtest.Console, path, enc string) int {
	req, _ := http.NewRequest("GET", c.URL()+path, nil)
	if enc != "" {
		req.Header.Set("Accept-Encoding", enc) // set by hand: the client then does not decompress
	}
	resp, err := c.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || (enc != "" && resp.Header.Get("Content-Encoding") != enc) {
		b.Fatalf("GET %s (%s): %d %q", path, enc, resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	return len(body)
}
