package httpd

import (
	"io"
	"log/slog"
	"testing"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/store"
)

// policy is what the central dispatch applies to a route, whatever the
// front end's handler type.
type policy struct {
	method, pattern string
	public          bool
	scope           ops.Scope
	budget          httpx.Budget
	body            int
}

func policies[H any](t httpx.Table[H]) []policy {
	var out []policy
	for _, r := range t {
		out = append(out, policy{r.Method, r.Pattern, r.Public, r.Scope, r.Budget, r.Body})
	}
	return out
}

// TestRoutePolicy enumerates the route tables of every audience: each
// write route declares a budget, a scope (or is public by declaration) and
// a body limit; reads accept no body; only uploads accept more than the
// default.
func TestRoutePolicy(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := New(Config{Store: st, PublicURL: "https://sho.rt", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	uploads := map[string]bool{"api POST images": true, "console POST profile": true, "console POST profile/preview": true,
		"api POST links/bulk": true, "api PATCH links/bulk": true, "api DELETE links/bulk": true, "api POST imports": true, "console POST transfer/import": true,
		"api POST analytics/ingest": true}
	tables := map[string][]policy{"api": policies(s.api.Routes()), "console": policies(s.console.Routes()), "public": policies(s.public.Routes())}
	writes := 0
	for audience, ps := range tables {
		if len(ps) == 0 {
			t.Fatalf("%s has no routes", audience)
		}
		for _, p := range ps {
			name := audience + " " + p.method + " " + p.pattern
			if !p.public && p.scope == 0 {
				t.Errorf("%s: no scope declared", name)
			}
			if p.method == "GET" || p.method == "HEAD" {
				if p.body != 0 || p.budget != httpx.NoBudget {
					t.Errorf("%s: a read with body limit %d and budget %d", name, p.body, p.budget)
				}
				continue
			}
			writes++
			if audience == "public" {
				t.Errorf("%s: the public side has no writes", name)
			}
			if p.budget == httpx.NoBudget {
				t.Errorf("%s: a write without a rate limit", name)
			}
			if p.body <= 0 {
				t.Errorf("%s: a write without a body limit", name)
			}
			if p.body > httpx.DefaultBodyLimit && !uploads[name] {
				t.Errorf("%s: body limit %d above the default, but it takes no upload", name, p.body)
			}
			if uploads[name] && p.body <= httpx.DefaultBodyLimit {
				t.Errorf("%s: an upload route with limit %d", name, p.body)
			}
		}
	}
	if writes < 25 {
		t.Fatalf("only %d write routes; the tables were not enumerated", writes)
	}
}

// TestProblemCatalogue checks that every kind of failure has a problem
// type with a slug and a status, and that slugs are unique.
func TestProblemCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range ops.Kinds() {
		p := httpx.ProblemOf(k)
		if p.Slug == "" || p.Status < 400 || p.Title == "" || p.About == "" {
			t.Errorf("kind %d: incomplete problem %+v", k, p)
		}
		if seen[p.Slug] {
			t.Errorf("slug %q twice", p.Slug)
		}
		seen[p.Slug] = true
	}
}
