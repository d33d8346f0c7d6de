package httpd_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

type link struct {
	Code           string   `json:"code"`
	Domain         string   `json:"domain"`
	ShortURL       string   `json:"shortUrl"`
	URL            string   `json:"url"`
	Title          string   `json:"title"`
	Tags           []string `json:"tags"`
	CreatedAt      string   `json:"createdAt"`
	ExpiresAt      *string  `json:"expiresAt"`
	RedirectStatus int      `json:"redirectStatus"`
	Status         string   `json:"status"`
	Clicks         uint64   `json:"clicks"`
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func mustJSON[T any](t *testing.T, r httpdtest.Response, status int) T {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
	return v
}

func mustCreate(t *testing.T, n *httpdtest.Node, body string, header ...string) link {
	t.Helper()
	return mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(body), header...), 201)
}

// mustProblem checks an RFC 9457 error and returns it.
func mustProblem(t *testing.T, r httpdtest.Response, status int, field string) problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q for status %d: %s", ct, r.Status, r.Body)
	}
	p := mustJSON[problem](t, r, status)
	if p.Status != status || p.Title == "" || !strings.HasPrefix(p.Type, "/_/problems/") {
		t.Fatalf("incomplete problem: %+v", p)
	}
	if field != "" && !hasField(p, field) {
		t.Fatalf("problem does not name field %q: %s", field, r.Body)
	}
	return p
}

func hasField(p problem, field string) bool {
	for _, e := range p.Errors {
		if e.Field == field && e.Message != "" {
			return true
		}
	}
	return false
}

func TestCreateFollowPreview(t *testing.T) {
	n := httpdtest.Start(t, "")
	dest := "https://example.com/a%20b/Ünï?q=1&r=%2F#frag"
	l := mustCreate(t, n, `{"url":"`+dest+`","title":"Example","tags":["News","x"]}`)
	if len(l.Code) != 7 || l.ShortURL != "http://sho.rt/"+l.Code || l.URL != dest || l.Status != "active" ||
		l.RedirectStatus != 302 || l.ExpiresAt != nil || l.Title != "Example" || strings.Join(l.Tags, ",") != "news,x" {
		t.Fatalf("created link: %+v", l)
	}
	r := n.Do("GET", "/"+l.Code, nil)
	if r.Status != 302 || r.Header.Get("Location") != dest {
		t.Fatalf("redirect: %d Location %q", r.Status, r.Header.Get("Location"))
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("redirect Cache-Control %q", cc)
	}
	r = n.Do("HEAD", "/"+l.Code, nil)
	if r.Status != 302 || r.Header.Get("Location") != dest || len(r.Body) != 0 {
		t.Fatalf("HEAD: %d %q %d bytes", r.Status, r.Header.Get("Location"), len(r.Body))
	}
	r = n.Do("GET", "/"+l.Code+"+", nil)
	if r.Status != 200 || !bytes.Contains(r.Body, []byte("https://example.com/a%20b/")) || r.Header.Get("Location") != "" {
		t.Fatalf("preview: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatal("preview page without a strict CSP")
	}
	got := mustJSON[link](t, n.Do("GET", "/api/v1/links/"+l.Code, nil), 200)
	if got.Code != l.Code || got.URL != dest {
		t.Fatalf("GET link: %+v", got)
	}
}

func TestAliasAndRedirectStatuses(t *testing.T) {
	n := httpdtest.Start(t, "")
	for _, st := range []int{301, 302, 307, 308} {
		alias := fmt.Sprintf("my-Link_%d", st)
		l := mustCreate(t, n, fmt.Sprintf(`{"url":"https://e.test/%d","alias":%q,"redirectStatus":%d}`, st, alias, st))
		if l.Code != alias {
			t.Fatalf("alias %q became %q", alias, l.Code)
		}
		if r := n.Do("GET", "/"+alias, nil); r.Status != st {
			t.Fatalf("redirect status %d, want %d", r.Status, st)
		}
	}
	mustProblem(t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://e.test","alias":"my-Link_301"}`)), 409, "alias")
	if r := n.Do("GET", "/nosuchcode", nil); r.Status != 404 || !bytes.Contains(r.Body, []byte("not found")) {
		t.Fatalf("unknown code: %d", r.Status)
	}
	if r := n.Do("GET", "/bad.code", nil); r.Status != 404 {
		t.Fatalf("invalid code: %d", r.Status)
	}
}

func TestAPIErrors(t *testing.T) {
	n := httpdtest.Start(t, "")
	created := mustCreate(t, n, `{"url":"https://e.test"}`)
	mustProblem(t, n.Do("GET", "/api/v1/links", nil, "Authorization", ""), 401, "")
	mustProblem(t, n.Do("GET", "/api/v1/links", nil, "Authorization", "Bearer nope"), 401, "")
	mustProblem(t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://e.test"}`), "Authorization", "Basic eDp5"), 401, "")
	mustProblem(t, n.Do("GET", "/api/v1/links/abcdefg", nil), 404, "")
	mustProblem(t, n.Do("GET", "/api/v1/nothing", nil), 404, "")
	mustProblem(t, n.Do("PUT", "/api/v1/links", []byte(`{}`)), 405, "")
	mustProblem(t, n.Do("POST", "/api/v1/links", []byte(`{"url":`)), 400, "")
	mustProblem(t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://e.test"}`), "Content-Type", "text/plain"), 415, "")
	big := `{"url":"https://e.test","title":"` + strings.Repeat("x", 70<<10) + `"}`
	mustProblem(t, n.Do("POST", "/api/v1/links", []byte(big)), 413, "")
	if status := declareBody(t, n.URL, "/api/v1/links", 16<<20); status != "HTTP/1.1 413 Request Entity Too Large" {
		t.Fatalf("16 MiB body: %q", status)
	}
	for body, field := range map[string]string{
		`{"url":"javascript:alert(1)"}`:                               "url",
		`{"url":"ftp://e.test/x"}`:                                    "url",
		`{"url":"https://user:pw@e.test/"}`:                           "url",
		`{"url":"http://sho.rt/loop"}`:                                "url",
		`{"url":"https://e.test/` + strings.Repeat("a", 8200) + `"}`:  "url",
		`{"url":"https://e.test","alias":"ab"}`:                       "alias",
		`{"url":"https://e.test","alias":"a/b"}`:                      "alias",
		`{"url":"https://e.test","alias":"API"}`:                      "alias",
		`{"url":"https://e.test","expiresAt":"2001-01-01T00:00:00Z"}`: "expiresAt",
		`{"url":"https://e.test","expiresAt":"tomorrow"}`:             "expiresAt",
		`{"url":"https://e.test","redirectStatus":303}`:               "redirectStatus",
		`{"url":"https://e.test","bogus":1}`:                          "bogus",
		`{"url":42}`:                                                  "url",
	} {
		mustProblem(t, n.Do("POST", "/api/v1/links", []byte(body)), 422, field)
	}
	mustProblem(t, n.Do("GET", "/api/v1/links?limit=101", nil), 422, "limit")
	mustProblem(t, n.Do("GET", "/api/v1/links?cursor=%%%", nil), 422, "cursor")
	mustProblem(t, n.Do("PATCH", "/api/v1/links/"+created.Code, []byte(`{"code":"x"}`)), 422, "code")
	mustProblem(t, n.Do("PATCH", "/api/v1/links/"+created.Code, []byte(`{"url":"nope"}`)), 422, "url")
	// Nothing invalid changed anything.
	if p := mustJSON[struct{ Items []link }](t, n.Do("GET", "/api/v1/links", nil), 200); len(p.Items) != 1 {
		t.Fatalf("invalid requests created links: %d", len(p.Items))
	}
	if got := mustJSON[link](t, n.Do("GET", "/api/v1/links/"+created.Code, nil), 200); got.URL != "https://e.test" {
		t.Fatalf("invalid PATCH changed the link: %+v", got)
	}
}

// declareHugeBody announces a 2 MiB body and reads the status line before
// sending it: the server must refuse from the headers alone. (Sending the
// body races the server closing the connection, which a client sees as a
// reset.)
func declareBody(t *testing.T, base, path string, size int) string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, httpdtest.Token, size)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(line)
}

func TestIdempotencyKey(t *testing.T) {
	n := httpdtest.Start(t, "")
	body := `{"url":"https://e.test/idem"}`
	a := mustCreate(t, n, body, "Idempotency-Key", "k-1")
	r := n.Do("POST", "/api/v1/links", []byte(body), "Idempotency-Key", "k-1")
	b := mustJSON[link](t, r, 201)
	if a.Code != b.Code || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry gave %s (replayed %q), first %s", b.Code, r.Header.Get("Idempotent-Replayed"), a.Code)
	}
	mustProblem(t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://e.test/other"}`), "Idempotency-Key", "k-1"), 422, "")
	if c := mustCreate(t, n, body, "Idempotency-Key", "k-2"); c.Code == a.Code {
		t.Fatal("a new key returned the old link")
	}
	if c := mustCreate(t, n, body); c.Code == a.Code {
		t.Fatal("no key returned the old link")
	}
}

func TestPatchBlockDelete(t *testing.T) {
	n := httpdtest.Start(t, "")
	l := mustCreate(t, n, `{"url":"https://old.test","alias":"editme","expiresAt":"2099-01-01T00:00:00Z"}`)
	p := mustJSON[link](t, n.Do("PATCH", "/api/v1/links/editme", []byte(`{"url":"https://new.test/x","expiresAt":null,"title":"New","tags":["a"],"redirectStatus":307}`)), 200)
	if p.URL != "https://new.test/x" || p.ExpiresAt != nil || p.Title != "New" || p.RedirectStatus != 307 {
		t.Fatalf("patched: %+v", p)
	}
	if r := n.Do("GET", "/editme", nil); r.Status != 307 || r.Header.Get("Location") != "https://new.test/x" {
		t.Fatalf("after edit: %d %q", r.Status, r.Header.Get("Location"))
	}
	mustJSON[link](t, n.Do("PATCH", "/api/v1/links/editme", []byte(`{"status":"blocked"}`)), 200)
	if r := n.Do("GET", "/editme", nil); r.Status != 451 {
		t.Fatalf("blocked link: %d", r.Status)
	}
	mustJSON[link](t, n.Do("PATCH", "/api/v1/links/editme", []byte(`{"status":"active"}`)), 200)
	if r := n.Do("GET", "/editme", nil); r.Status != 307 {
		t.Fatalf("unblocked link: %d", r.Status)
	}
	if r := n.Do("DELETE", "/api/v1/links/"+l.Code, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := n.Do("GET", "/editme", nil); r.Status != 410 {
		t.Fatalf("deleted link redirect: %d", r.Status)
	}
	mustProblem(t, n.Do("GET", "/api/v1/links/editme", nil), 410, "")
	if r := n.Do("DELETE", "/api/v1/links/editme", nil); r.Status != 204 {
		t.Fatalf("deleting a deleted link: %d %s (deleting twice is deleting once)", r.Status, r.Body)
	}
	mustProblem(t, n.Do("PATCH", "/api/v1/links/editme", []byte(`{"title":"x"}`)), 410, "")
	mustProblem(t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://e.test","alias":"editme"}`)), 409, "alias")
}

func TestExpiry(t *testing.T) {
	n := httpdtest.Start(t, "")
	exp := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	l := mustCreate(t, n, `{"url":"https://soon.test","expiresAt":"`+exp+`"}`)
	if r := n.Do("GET", "/"+l.Code, nil); r.Status != 302 {
		t.Fatalf("before expiry: %d", r.Status)
	}
	time.Sleep(time.Until(time.Now().Add(1600 * time.Millisecond)))
	if r := n.Do("GET", "/"+l.Code, nil); r.Status != 410 || !bytes.Contains(r.Body, []byte("expired")) {
		t.Fatalf("after expiry: %d", r.Status)
	}
	if got := mustJSON[link](t, n.Do("GET", "/api/v1/links/"+l.Code, nil), 200); got.Status != "expired" {
		t.Fatalf("API status after expiry: %q", got.Status)
	}
}

func TestListPaging(t *testing.T) {
	n := httpdtest.Start(t, "")
	for i := 0; i < 25; i++ {
		mustCreate(t, n, fmt.Sprintf(`{"url":"https://e.test/%d"}`, i))
		// Listings order by creation time in milliseconds (ties by code):
		// keep the creates in distinct milliseconds, which a fast apply
		// path no longer does by itself.
		time.Sleep(2 * time.Millisecond)
	}
	var urls []string
	path := "/api/v1/links?limit=10"
	for pages := 0; ; pages++ {
		page := mustJSON[struct {
			Items      []link  `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}](t, n.Do("GET", path, nil), 200)
		for _, l := range page.Items {
			urls = append(urls, l.URL)
		}
		if page.NextCursor == nil {
			if pages != 2 {
				t.Fatalf("%d pages, want 3", pages+1)
			}
			break
		}
		path = "/api/v1/links?limit=10&cursor=" + *page.NextCursor
	}
	if len(urls) != 25 || urls[0] != "https://e.test/24" || urls[24] != "https://e.test/0" {
		t.Fatalf("listing is not all links newest first: %v", urls)
	}
}

// 64 clients race for one alias: exactly one wins, everyone else gets 409.
func TestAliasRace(t *testing.T) {
	n := httpdtest.Start(t, "")
	const clients = 64
	statuses := make([]int, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"url":"https://e.test/%d","alias":"contested"}`, i)
			req, _ := http.NewRequest("POST", n.URL+"/api/v1/links", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+httpdtest.Token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != clients-1 {
		t.Fatalf("statuses: %v", count)
	}
}

func TestHealthReadyStatus(t *testing.T) {
	n := httpdtest.Start(t, "")
	if r := n.Do("GET", "/_/healthz", nil); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := n.Do("GET", "/_/readyz", nil); r.Status != 200 {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	st := mustJSON[struct {
		NodeID string `json:"nodeId"`
		State  string `json:"state"`
		Leader struct {
			ID       string `json:"id"`
			HTTPAddr string `json:"httpAddr"`
		} `json:"leader"`
		AppliedIndex uint64 `json:"appliedIndex"`
		CommitIndex  uint64 `json:"commitIndex"`
		Members      []struct {
			ID, RaftAddr, HTTPAddr, Suffrage string
		} `json:"members"`
	}](t, n.Do("GET", "/_/status", nil), 200)
	if st.NodeID != "n1" || st.State != "Leader" || st.Leader.ID != "n1" || st.Leader.HTTPAddr == "" ||
		st.AppliedIndex == 0 || st.AppliedIndex < st.CommitIndex || len(st.Members) != 1 || st.Members[0].Suffrage != "Voter" {
		t.Fatalf("status: %+v", st)
	}
	// Without an admin token: what a load balancer needs, no member
	// addresses or raft internals.
	for _, opts := range [][]string{{"Authorization", ""}, httpdtest.As("lk_not_a_token")} {
		r := n.Do("GET", "/_/status", nil, opts...)
		if r.Status != 200 || string(r.Body) != `{"nodeId":"n1","state":"Leader","ready":true}`+"\n" {
			t.Fatalf("anonymous status: %d %s", r.Status, r.Body)
		}
	}
	r := n.Do("GET", "/_/metrics", nil)
	if r.Status != 200 || !bytes.Contains(r.Body, []byte("linkd_redirect_requests_total")) {
		t.Fatalf("metrics: %d", r.Status)
	}
	// The metrics are cluster-wide: anonymous clients and users' keys are
	// refused; a key with only metrics:read (what Prometheus holds) reads.
	_, user := n.User(t, "m@example.com", "correct horse battery")
	for _, c := range []struct {
		header []string
		status int
	}{{[]string{"Authorization", ""}, 401}, {httpdtest.As("lk_not_a_token"), 401}, {httpdtest.As(user), 403}} {
		if r := n.Do("GET", "/_/metrics", nil, c.header...); r.Status != c.status || bytes.Contains(r.Body, []byte("linkd_")) {
			t.Fatalf("metrics with %q: %d, want %d without figures", c.header, r.Status, c.status)
		}
	}
	r = n.Do("POST", "/api/v1/keys", []byte(`{"name":"prometheus","scopes":["metrics:read"]}`))
	var key struct{ Token string }
	if r.Status != 201 || json.Unmarshal(r.Body, &key) != nil {
		t.Fatalf("metrics key: %d %s", r.Status, r.Body)
	}
	scraper := key.Token
	if r := n.Do("GET", "/_/metrics", nil, httpdtest.As(scraper)...); r.Status != 200 || !bytes.Contains(r.Body, []byte("linkd_links")) {
		t.Fatalf("metrics with a metrics:read key: %d", r.Status)
	}
	if r := n.Do("GET", "/api/v1/links", nil, httpdtest.As(scraper)...); r.Status != 403 {
		t.Fatalf("a metrics:read key listed links: %d", r.Status)
	}
	if r := n.Do("GET", "/_/problems/validation", nil); r.Status != 200 {
		t.Fatalf("problem docs: %d", r.Status)
	}
}

// State survives a restart of the node on the same data directory.
func TestRestartKeepsLinks(t *testing.T) {
	dir := t.TempDir()
	n := httpdtest.Start(t, dir)
	l := mustCreate(t, n, `{"url":"https://persist.test"}`)
	n.Close()
	n = httpdtest.Start(t, dir)
	if r := n.Do("GET", "/"+l.Code, nil); r.Status != 302 || r.Header.Get("Location") != "https://persist.test" {
		t.Fatalf("after restart: %d", r.Status)
	}
	// The node took a new id range: new codes do not collide with old ones.
	if m := mustCreate(t, n, `{"url":"https://e.test"}`); m.Code == l.Code {
		t.Fatal("code reissued after restart")
	}
}
