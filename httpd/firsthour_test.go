package httpd_test

import (
	"strings"
	"testing"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// The home page names linkd once in its title and links to the console.
func TestHomePage(t *testing.T) {
	n := httpdtest.Start(t, "")
	r := n.Do("GET", "/", nil)
	body := string(r.Body)
	if r.Status != 200 || !strings.Contains(body, "<title>linkd</title>") || !strings.Contains(body, `href="/app/"`) {
		t.Fatalf("home: %d %s", r.Status, body)
	}
	// Other pages keep the site name after their own title.
	if b := string(n.Do("GET", "/nosuchcode", nil).Body); !strings.Contains(b, " · linkd</title>") {
		t.Fatalf("404 page title: %s", b)
	}
}
