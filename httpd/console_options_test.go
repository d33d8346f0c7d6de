package httpd_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// The console's link form sets every option (no script needed), shows
// them again (never the password), reports an invalid rule on its
// textarea, and the analytics page can promote a variant.
func TestConsoleLinkOptions(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, tok := n.User(t, "opts@example.com", pw)
	code := mustCreateLink(t, n, tok, `{"url":"https://e.test/a"}`)
	if r := c.Get("/app/links/" + code); r.Status != 200 || !strings.Contains(string(r.Body), `name="rules"`) {
		t.Fatalf("link page: %d", r.Status)
	}
	form := url.Values{"url": {"https://e.test/a"}, "redirectStatus": {"302"}, "password": {"hunter22"},
		"startsAt": {"2020-01-01T00:00"}, "fallbackUrl": {"https://e.test/fb"}, "maxVisits": {"9"}, "forwardPath": {"on"},
		"queryPrecedence": {"visitor"}, "rules": {`[{"if": {"os": ["android"]}, "url": "https://e.test/android"}]`},
		"variants": {`[{"url": "https://e.test/x", "weight": 50}, {"url": "https://e.test/y", "weight": 50}]`}}
	if r := c.Post("/app/links/"+code, form); r.Status != 303 {
		t.Fatalf("saving options: %d %s", r.Status, r.Body)
	}
	l := mustJSON[optLink](t, n.Do("GET", "/api/v1/links/"+code, nil, httpdtest.As(tok)...), 200)
	if !l.PasswordProtected || l.StartsAt == nil || l.FallbackURL != "https://e.test/fb" || l.MaxVisits != 9 || l.ForwardQuery ||
		!l.ForwardPath || l.QueryPrecedence != "visitor" || len(l.Rules) != 1 || len(l.Variants) != 2 {
		t.Fatalf("after the form: %+v", l)
	}
	page := string(c.Get("/app/links/" + code).Body)
	if strings.Contains(page, "hunter22") || strings.Contains(page, "argon2") || !strings.Contains(page, "e.test/android") {
		t.Fatal("the link page shows the password, or not the rules")
	}
	form.Set("rules", `[{"if": {"os": ["beos"]}, "url": "https://e.test/b"}]`)
	form.Del("password")
	if r := c.Post("/app/links/"+code, form); r.Status != 422 || !strings.Contains(string(r.Body), "rules[0].if.os") {
		t.Fatalf("an invalid rule: %d", r.Status)
	}
	c.Get("/app/links/" + code + "/analytics")
	if r := c.Post("/app/links/"+code+"/promote", url.Values{"variant": {"1"}}); r.Status != 303 {
		t.Fatalf("promote: %d %s", r.Status, r.Body)
	}
	l = mustJSON[optLink](t, n.Do("GET", "/api/v1/links/"+code, nil, httpdtest.As(tok)...), 200)
	if l.URL != "https://e.test/y" || len(l.Variants) != 0 || !l.PasswordProtected {
		t.Fatalf("after promoting: %+v", l)
	}
}
