package tlsd

import (
	"testing"
	"time"

	"github.com/linkd/linkd/store"
)

// TestWithDomains: the domain table adds hosts to the flags' hosts, a
// domain's own opt-ins add to the global flags, and a change wakes the
// server's watcher; hosts that are neither stay refused.
func TestWithDomains(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := WithDomains(NewStaticHosts(false, false, "https://sho.rt"), st)
	if !p.Allowed("sho.rt") || p.Allowed("go.example") || p.Redirect("sho.rt") || p.HSTS("sho.rt") {
		t.Fatal("before any domain: only the flags' host, without redirect or HSTS")
	}
	changed := p.(changing).Changed()
	txn := st.Begin()
	txn.PutDomain(&store.Domain{Host: "go.example", Kind: store.DomainLinks, HSTS: true})
	txn.PutDomain(&store.Domain{Host: "bio.example", Kind: store.DomainProfiles, HTTPSRedirect: true})
	if err := txn.Commit(1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("adding domains did not signal a change")
	}
	if got := p.Hosts(); len(got) != 3 {
		t.Fatalf("Hosts = %v, want the flags' host and two domains", got)
	}
	for _, c := range []struct {
		host                    string
		allowed, redirect, hsts bool
	}{
		{"sho.rt", true, false, false},
		{"go.example", true, false, true},
		{"bio.example", true, true, false},
		{"evil.example", false, false, false},
		{"x.go.example", false, false, false},
	} {
		if p.Allowed(c.host) != c.allowed || p.Redirect(c.host) != c.redirect || p.HSTS(c.host) != c.hsts {
			t.Errorf("%s: allowed/redirect/hsts = %v/%v/%v, want %v/%v/%v", c.host,
				p.Allowed(c.host), p.Redirect(c.host), p.HSTS(c.host), c.allowed, c.redirect, c.hsts)
		}
	}
	global := WithDomains(NewStaticHosts(true, true, "https://sho.rt"), st)
	if !global.Redirect("go.example") || !global.HSTS("bio.example") || global.Redirect("evil.example") {
		t.Error("the global flags apply to every domain, and only to them")
	}
}
