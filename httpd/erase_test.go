package httpd_test

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/internal/diskscan"
	"github.com/linkd/linkd/internal/wire"
	"github.com/linkd/linkd/outbox/outboxtest"
	"github.com/linkd/linkd/outbox/webhook"
)

// Self-service erasure: a wrong confirmation and a narrow key change
// nothing; the right one erases the account (links 410, key and login
// gone) except a blocked link's takedown record (legal hold); the console
// button does the same; the bootstrap admin cannot erase itself.
//
// Nothing the user gave survives in any file of the data directory: not
// the links' destinations and titles, nor their webhook endpoint's URL and
// secret, nor the purge queue's and the deliveries' copies of their
// changes (no purge target acknowledges the queue here; DeleteUser
// version 2 redacts it).
func TestEraseSelf(t *testing.T) {
	dir := t.TempDir()
	n := httpdtest.StartWith(t, httpdtest.Options{Dir: dir, Outbox: wire.Outbox{Webhooks: webhook.Policy{AllowPrivate: true}}})
	c, tok := n.User(t, "gone@x.test", "correct horse battery")
	as := httpdtest.As(tok)
	canary := "cnry" + rand.Text()
	rcv := outboxtest.NewReceiver(t, 0)
	hook := mustJSON[struct{ Secret string }](t, n.Do("POST", "/api/v1/webhooks",
		[]byte(`{"url":"`+rcv.URL+`/hook-`+canary+`","events":["link.created","link.updated"]}`), as...), 201)
	rcv.SetSecret(hook.Secret)
	keep := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://erase-me.test/unique-7f3a"}`), as...), 201).Code
	mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://erase-me.test/`+canary+`","title":"t `+canary+`"}`), as...), 201)
	bad := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://evil-erase.test/p"}`), as...), 201).Code
	mustStatusIs(t, "takedown", n.Do("PUT", "/api/v1/links/"+bad+"/takedown", []byte(`{"reason":"phishing"}`)), 200)
	narrow := c.NewKey("narrow", "links:read")
	httpdtest.Eventually(t, 10*time.Second, "a delivery to the user's endpoint", func() bool { return len(rcv.Events()) > 0 })
	httpdtest.Eventually(t, 10*time.Second, "the version gate to admit DeleteUser v2", func() bool {
		return n.Node.ClusterUnderstands(fsm.TypeDeleteUser, 2)
	})
	for _, s := range []string{canary, hook.Secret} {
		if got, err := diskscan.Holding(dir, s); err != nil || len(got) == 0 {
			t.Fatalf("the check cannot see %q on disk before the erasure: %v %v", s, got, err)
		}
	}

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
	for _, s := range []string{canary, hook.Secret} {
		if got, err := diskscan.Holding(dir, s); err != nil || len(got) > 0 {
			t.Errorf("after the scrub these files still hold %q: %v %v", s, got, err)
		}
	}
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
