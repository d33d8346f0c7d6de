package httpd_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// A create's answer is the link as a read of it answers (the answer skips
// the reads of clicks, visits and imported totals that a new link cannot
// have yet), for single and bulk creates; an idempotent replay reads them,
// so it shows the clicks the link has had since.
func TestCreateAnswerIsTheStoredLink(t *testing.T) {
	n := httpdtest.Start(t, "")
	asMap := func(b []byte) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("decoding %s: %v", b, err)
		}
		return m
	}
	do := func(what string, want int, method, path string, body []byte, header ...string) httpdtest.Response {
		t.Helper()
		r := n.Do(method, path, body, header...)
		mustStatus(t, what, r, want)
		return r
	}
	read := func(code string) map[string]any {
		t.Helper()
		return asMap(do("read", 200, "GET", "/api/v1/links/"+code, nil).Body)
	}
	body := []byte(`{"url":"https://e.test/one","alias":"answer-one","title":"T","tags":["a"],"maxVisits":5}`)
	r := do("create", 201, "POST", "/api/v1/links", body, "Idempotency-Key", "answer-1")
	if got, want := asMap(r.Body), read("answer-one"); !reflect.DeepEqual(got, want) {
		t.Fatalf("create answered %v, a read answers %v", got, want)
	}
	bulk := mustJSON[struct {
		Items []struct{ Link json.RawMessage }
	}](t,
		n.Do("POST", "/api/v1/links/bulk", []byte(`{"links":[{"url":"https://e.test/b1","maxVisits":3},{"url":"https://e.test/b2"}]}`)), 200)
	for _, it := range bulk.Items {
		got := asMap(it.Link)
		if want := read(got["code"].(string)); !reflect.DeepEqual(got, want) {
			t.Fatalf("bulk create answered %v, a read answers %v", got, want)
		}
	}
	do("redirect", 302, "GET", "/answer-one", nil, "Authorization", "",
		"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")
	httpdtest.Eventually(t, 10*time.Second, "the click in the link's count", func() bool { return read("answer-one")["clicks"] == 1.0 })
	again := do("replay", 201, "POST", "/api/v1/links", body, "Idempotency-Key", "answer-1")
	if m := asMap(again.Body); again.Header.Get("Idempotent-Replayed") != "true" || m["clicks"] != 1.0 || m["visits"] != 1.0 {
		t.Fatalf("replay answered (replayed %q) clicks %v visits %v, want 1 and 1", again.Header.Get("Idempotent-Replayed"), m["clicks"], m["visits"])
	}
}
