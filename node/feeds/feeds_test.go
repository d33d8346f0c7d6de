package feeds

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/store"
)

func entry(k store.BlockKind, v string) string { return string(rune(k)) + v }

func TestParseFormats(t *testing.T) {
	for _, tc := range []struct {
		f    store.FeedFormat
		body string
		want []string
	}{
		{store.FeedHosts, "# hosts\n127.0.0.1 localhost\n0.0.0.0 Evil.TEST bad.test # trailing\n::1 ip6-localhost\n0.0.0.0 1.2.3.4\n0.0.0.0 evil.test\n",
			[]string{entry(store.BlockHost, "bad.test"), entry(store.BlockHost, "evil.test")}},
		{store.FeedList, "! adblock-style comment\n# comment\nsites.example.test\ncom\nhttps://phish.test/login/?x=1\nbad host\nnot_a url://\n",
			[]string{entry(store.BlockURL, "phish.test/login"), entry(store.BlockDomain, "sites.example.test")}},
		{store.FeedURLhaus, "################\n# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n" +
			`"1","2024-01-01 00:00:00","http://198.51.100.7:8080/bins/x.sh","online","2024-01-01","malware_download","elf","https://urlhaus.test/1/","r"` + "\n" +
			`"2","2024-01-01 00:00:00","https://mal.test/a/b/","offline","","malware_download","","https://urlhaus.test/2/","r"` + "\n",
			[]string{entry(store.BlockURL, "198.51.100.7/bins/x.sh"), entry(store.BlockURL, "mal.test/a/b")}},
	} {
		got, err := Parse(tc.f, strings.NewReader(tc.body), 100)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, %v; want %q", tc.f, got, err, tc.want)
		}
	}
	// "bad host" yields "bad" (first field), which has no dot: skipped, so
	// the want above must not list it.
}

// The entry cap: exactly maxEntries distinct entries parse, one more
// fails; duplicates do not count; an empty list fails.
func TestParseEntryLimit(t *testing.T) {
	var b strings.Builder
	for i := range 10 {
		fmt.Fprintf(&b, "0.0.0.0 h%d.test h%d.test\n", i, i)
	}
	if got, err := Parse(store.FeedHosts, strings.NewReader(b.String()), 10); err != nil || len(got) != 10 {
		t.Fatalf("at the limit: %d entries, %v", len(got), err)
	}
	b.WriteString("0.0.0.0 h10.test\n")
	if _, err := Parse(store.FeedHosts, strings.NewReader(b.String()), 10); err == nil || !strings.Contains(err.Error(), "more than 10") {
		t.Fatalf("past the limit: %v", err)
	}
	if _, err := Parse(store.FeedList, strings.NewReader("# nothing\n"), 10); err == nil {
		t.Fatal("an empty list parsed")
	}
	if _, err := Parse(store.FeedList, strings.NewReader(strings.Repeat("a", maxLine+1)), 10); err == nil {
		t.Fatal("an over-long line parsed")
	}
}

func serve(t *testing.T, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// The body cap (at and past it), the timeout, HTTP errors, and the refusal
// of private addresses (redirects included) unless allowed.
func TestFetchBounds(t *testing.T) {
	body := "0.0.0.0 a.test\n" // 15 bytes
	base := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			fmt.Fprint(w, body)
		case "/chunked": // no Content-Length: the cap is enforced while reading
			w.(http.Flusher).Flush()
			fmt.Fprint(w, body)
		case "/slow":
			time.Sleep(time.Second)
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			http.Error(w, "gone", http.StatusNotFound)
		}
	})
	ctx := context.Background()
	at := newFetcher(Limits{MaxBytes: int64(len(body)), MaxEntries: 5, Timeout: 500 * time.Millisecond, AllowPrivate: true})
	past := newFetcher(Limits{MaxBytes: int64(len(body)) - 1, MaxEntries: 5, Timeout: time.Second, AllowPrivate: true})
	for _, p := range []string{"/ok", "/chunked", "/redirect"} {
		if got, err := at.fetch(ctx, base+p, store.FeedHosts); err != nil || len(got) != 1 {
			t.Errorf("%s at the byte limit: %q, %v", p, got, err)
		}
		if _, err := past.fetch(ctx, base+p, store.FeedHosts); err == nil || !strings.Contains(err.Error(), "longer than") {
			t.Errorf("%s past the byte limit: %v", p, err)
		}
	}
	start := time.Now()
	if _, err := at.fetch(ctx, base+"/slow", store.FeedHosts); err == nil || time.Since(start) > 1500*time.Millisecond {
		t.Errorf("slow feed: %v after %v", err, time.Since(start))
	}
	if _, err := at.fetch(ctx, base+"/missing", store.FeedHosts); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	strict := newFetcher(Limits{Timeout: time.Second})
	for _, u := range []string{base + "/ok", strings.Replace(base, "127.0.0.1", "localhost", 1) + "/ok",
		"http://[::1]:1/", "http://10.0.0.1:1/", "http://169.254.169.254/latest/meta-data"} {
		if _, err := strict.fetch(ctx, u, store.FeedHosts); !errors.Is(err, errPrivate) {
			t.Errorf("%s without AllowPrivate: %v", u, err)
		}
	}
}
