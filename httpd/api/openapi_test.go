package api_test

import (
	"sort"
	"testing"

	"github.com/linkd/linkd/httpd/api"
	"github.com/linkd/linkd/httpd/api/apispec"
)

// TestOpenAPICoversRoutes walks the API route table: every route is
// described in openapi.json, and every described operation is a route.
// Adding a row to the table without describing it fails here.
func TestOpenAPICoversRoutes(t *testing.T) {
	spec, err := apispec.Load()
	if err != nil {
		t.Fatal(err)
	}
	if v := spec.Doc.OpenAPI; v != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", v)
	}
	described := spec.Operations()
	routes := map[string]bool{}
	for _, r := range api.New(nil, nil, nil).Routes() {
		op := r.Method + " /" + r.Pattern
		routes[op] = true
		if !described[op] {
			t.Errorf("route %s is not described in httpd/api/openapi.json", op)
			continue
		}
		sec := spec.Doc.Paths.Find("/" + r.Pattern).GetOperation(r.Method).Security
		if noToken := sec != nil && len(*sec) == 0; noToken != r.Public {
			t.Errorf("route %s: Public is %v in the table, but the description says no token: %v", op, r.Public, noToken)
		}
	}
	var extra []string
	for op := range described {
		if !routes[op] {
			extra = append(extra, op)
		}
	}
	sort.Strings(extra)
	for _, op := range extra {
		t.Errorf("openapi.json describes %s, which is not a route", op)
	}
	if len(routes) < 25 {
		t.Fatalf("only %d routes: the table was not walked", len(routes))
	}
}
