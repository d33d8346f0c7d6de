package httpd_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// Self-service erasure: a wrong confirmation and a narrow key change
// nothing; the right one erases the account (links 410, key and login
// gone) except a blocked link's takedown record (legal hold); the console
// button does the same; the bootstrap admin cannot erase itself.
func TestEraseSelf(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, tok := n.User(t, "gone@x.test", "correct horse battery")
	as := httpdtest.As(tok)
	keep := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://erase-me.test/unique-7f3a"}`), as...), 201).Code
	bad := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://evil-erase.test/p"}`), as...), 201).Code
	mustStatusIs(t, "takedown", n.Do("PUT", "/api/v1/links/"+bad+"/takedown", []byte(`{"reason":"phishing"}`)), 200)
	narrow := c.NewKey("narrow", "links:read")

	mustStatusIs(t, "narrow key", n.Do("DELETE", "/api/v1/me", []byte(`{"confirm":"gone@x.test"}`), httpdtest.As(narrow)...), 403)
	mustStatusIs(t, "wrong confirmation", n.Do("DELETE", "/api/v1/me", []byte(`{"confirm":"other@x.test"}`), as...), 422)
	mustStatusIs(t, "still there", n.Do("GET", "/"+keep, nil), 302)
	mustStatusIs(t, "erase", n.Do("DELETE", "/api/v1/me", []byte(`{"confirm":"GONE@x.test"}`), as...), 204)
	mustStatusIs(t, "link after", n.Do("GET", "/"+keep, nil), 410)
	mustStatusIs(t, "key after", n.Do("GET", "/api/v1/links", nil, as...), 401)
	if r := n.Do("GET", "/api/v1/links/"+keep, nil); strings.Contains(string(r.Body), "unique-7f3a") {
		t.Fatalf("the destination survived: %s", r.Body)
	}
	if td, err := n.Node.Store().Takedown(bad); err != nil || td.Reason != "phishing" || td.DestKey != "evil-erase.test/p" {
		t.Fatalf("takedown evidence: %+v, %v", td, err)
	}
	// The node scrubs its disk of the erased data (node/scrub.go) and says so.
	httpdtest.Eventually(t, 30*time.Second, "an erasure scrub", func() bool {
		return bytes.Contains(n.Do("GET", "/_/metrics", nil).Body, []byte("linkd_erasure_scrubs_total 1"))
	})
	relog := n.NewConsole(t)
	relog.Get("/app/login")
	if r := relog.Post("/app/login", url.Values{"email": {"gone@x.test"}, "password": {"correct horse battery"}}); r.Status == http.StatusSeeOther {
		t.Fatal("the erased account still logs in")
	}

	c2, _ := n.User(t, "gone2@x.test", "correct horse battery")
	c2.Get("/app/keys")
	mustStatusIs(t, "console wrong", c2.Post("/app/account/delete", url.Values{"confirm": {"nope@x.test"}}), 422)
	mustStatusIs(t, "console erase", c2.Post("/app/account/delete", url.Values{"confirm": {"gone2@x.test"}}), http.StatusSeeOther)
	if r := c2.Get("/app/keys"); r.Status == 200 {
		t.Fatal("the erased user's session still works")
	}
	// The bootstrap admin has no email until it claims its invite: nothing
	// can confirm its erasure (and the fsm protects it regardless).
	mustStatusIs(t, "bootstrap admin", n.Do("DELETE", "/api/v1/me", []byte(`{"confirm":""}`)), 422)
	mustStatusIs(t, "admin still works", n.Do("GET", "/api/v1/me", nil), 200)
}
