package httpd_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/linkd/linkd/httpd/httpdtest"
)

type bulkAnswer struct {
	Items []struct {
		Status  int
		Code    string
		Link    *link
		Problem *problem
	}
}

// TestBulkCreate: 1,000 creates in one request, per-item results in
// request order with the single request's problem types; the batch is one
// raft entry; an Idempotency-Key replays the same links; 1,001 is refused.
func TestBulkCreate(t *testing.T) {
	n := httpdtest.Start(t, "")
	mustCreate(t, n, `{"url":"https://e.test/taken","alias":"taken-one"}`)
	mustCreate(t, n, `{"url":"https://e.test/minted"}`) // the node takes its id range (4,096 codes) now
	items := []string{`{"url":"https://e.test/a","alias":"bulk-a","tags":["x"]}`, `{"url":"nope"}`,
		`{"url":"https://e.test/t","alias":"taken-one"}`, `{"url":"https://e.test/b","alias":"bulk-a"}`, `{"url":5}`,
		`{"url":"https://e.test/c","bogus":1}`}
	for len(items) < 1000 {
		items = append(items, fmt.Sprintf(`{"url":"https://e.test/%d"}`, len(items)))
	}
	body := []byte(`{"links":[` + strings.Join(items, ",") + `]}`)
	before := n.Node.Status().LastIndex
	ans := mustJSON[bulkAnswer](t, n.Do("POST", "/api/v1/links/bulk", body, "Idempotency-Key", "bulk-1"), 200)
	// One entry for the batch (994 creates); the node's own entries (a
	// visitor salt, a click segment) may interleave on a loaded machine.
	if d := n.Node.Status().LastIndex - before; d < 1 || d > 3 {
		t.Errorf("the batch took %d raft entries, want 1 (up to 3 with the node's own)", d)
	}
	if len(ans.Items) != 1000 {
		t.Fatalf("%d items", len(ans.Items))
	}
	want := []struct {
		status int
		typ    string
	}{{201, ""}, {422, "validation"}, {409, "alias-taken"}, {409, "alias-taken"}, {422, "validation"}, {422, "validation"}}
	for i, w := range want {
		it := ans.Items[i]
		if it.Status != w.status || (w.typ == "") != (it.Problem == nil) || (it.Problem != nil && it.Problem.Type != "/_/problems/"+w.typ) {
			t.Errorf("item %d: %+v (problem %+v), want %d %s", i, it, it.Problem, w.status, w.typ)
		}
	}
	codes := map[string]bool{}
	for i, it := range ans.Items[6:] {
		if it.Status != 201 || it.Link == nil || it.Link.URL != fmt.Sprintf("https://e.test/%d", i+6) || codes[it.Link.Code] {
			t.Fatalf("item %d: %+v", i+6, it)
		}
		codes[it.Link.Code] = true
	}
	// The same key and body: the same links, nothing new.
	again := mustJSON[bulkAnswer](t, n.Do("POST", "/api/v1/links/bulk", body, "Idempotency-Key", "bulk-1"), 200)
	for i := range again.Items {
		if a, b := again.Items[i], ans.Items[i]; a.Status != b.Status || (b.Link != nil && (a.Link == nil || a.Link.Code != b.Link.Code)) {
			t.Fatalf("replay item %d: %+v, first %+v", i, a, b)
		}
	}
	other := mustJSON[bulkAnswer](t, n.Do("POST", "/api/v1/links/bulk", []byte(`{"links":[{"url":"https://e.test/z"}]}`), "Idempotency-Key", "bulk-1"), 200)
	if p := other.Items[0].Problem; p == nil || p.Type != "/_/problems/idempotency-key-reused" {
		t.Fatalf("the key with another body: %+v", other.Items[0])
	}
	mustProblem(t, n.Do("POST", "/api/v1/links/bulk", []byte(`{"links":[]}`)), 422, "links")
	over := []byte(`{"links":[` + strings.Repeat(`{"url":"https://e.test/"},`, 1000) + `{"url":"https://e.test/"}]}`)
	mustProblem(t, n.Do("POST", "/api/v1/links/bulk", over), 422, "links")
}

// TestBulkPatchDelete: by codes and by tag, with per-item results.
func TestBulkPatchDelete(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, other := n.User(t, "ann@example.com", "correct horse battery")
	theirs := mustCreate(t, n, `{"url":"https://e.test/ann"}`, httpdtest.As(other)...)
	a := mustCreate(t, n, `{"url":"https://e.test/a","tags":["old"]}`)
	b := mustCreate(t, n, `{"url":"https://e.test/b","tags":["old"]}`)
	c := mustCreate(t, n, `{"url":"https://e.test/c"}`)
	ans := mustJSON[bulkAnswer](t, n.Do("PATCH", "/api/v1/links/bulk",
		[]byte(`{"codes":["`+a.Code+`","`+c.Code+`","nosuch1"],"set":{"title":"Batch"}}`), httpdtest.As(other)...), 200)
	if ans.Items[0].Status != 404 || ans.Items[2].Status != 404 {
		t.Fatalf("another user's links are not found: %+v", ans.Items)
	}
	ans = mustJSON[bulkAnswer](t, n.Do("PATCH", "/api/v1/links/bulk", []byte(`{"tag":"old","set":{"title":"Batch","tags":["new"]}}`)), 200)
	if len(ans.Items) != 2 || ans.Items[0].Link.Title != "Batch" || ans.Items[1].Link.Tags[0] != "new" {
		t.Fatalf("patch by tag: %+v", ans.Items)
	}
	bad := mustJSON[bulkAnswer](t, n.Do("PATCH", "/api/v1/links/bulk", []byte(`{"codes":["`+a.Code+`"],"set":{"url":"nope"}}`)), 200)
	if p := bad.Items[0].Problem; p == nil || p.Status != 422 || !hasField(*p, "url") {
		t.Fatalf("invalid patch: %+v", bad.Items[0])
	}
	ans = mustJSON[bulkAnswer](t, n.Do("DELETE", "/api/v1/links/bulk", []byte(`{"codes":["`+a.Code+`","`+b.Code+`","`+a.Code+`"]}`)), 200)
	for _, it := range ans.Items {
		if it.Status != 204 {
			t.Fatalf("delete items: %+v", ans.Items)
		}
	}
	if r := n.Do("GET", "/api/v1/links/"+b.Code, nil); r.Status != 410 {
		t.Fatalf("deleted link: %d", r.Status)
	}
	ans = mustJSON[bulkAnswer](t, n.Do("DELETE", "/api/v1/links/bulk", []byte(`{"codes":["`+theirs.Code+`"]}`), httpdtest.As(other)...), 200)
	if ans.Items[0].Status != 204 {
		t.Fatalf("own delete: %+v", ans.Items)
	}
	mustProblem(t, n.Do("DELETE", "/api/v1/links/bulk", []byte(`{"codes":["`+c.Code+`"],"tag":"x"}`)), 422, "tag")
	mustProblem(t, n.Do("DELETE", "/api/v1/links/bulk", []byte(`{"codes":["bad.code"]}`)), 422, "codes[0]")
	var raw map[string]any
	json.Unmarshal(n.Do("GET", "/api/v1/links/"+c.Code, nil).Body, &raw)
	if raw["status"] != "active" {
		t.Fatalf("untouched link: %v", raw)
	}
}
