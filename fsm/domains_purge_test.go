package fsm

import (
	"testing"

	"github.com/linkd/linkd/store"
)

// UpdateDomain and DeleteDomain at version 2 queue a purge of the host
// (one ChangeDomain) when what it answers changes; a delegation-only or
// no-op update queues none; version 1 queues nothing, as before.
func TestDomainPurgeVersions(t *testing.T) {
	o := newOutboxFSM(t)
	root, kind, dlg := "https://root.test", uint8(3), uint64(2)
	v1 := Header{V: 1}
	o.apply(&CreateUser{Now: 1, Email: "u2@x.test", PasswordHash: "h", Role: uint8(store.RoleUser)}, // user 2
		&CreateDomain{Now: 2, Actor: 1, Host: "a.test", Kind: 1, Max: 10},
		&CreateDomain{Now: 2, Actor: 1, Host: "b.test", Kind: 1, Max: 10})
	base := o.head().Purges
	queued := func(what string, want ...string) {
		t.Helper()
		_, cs, err := o.st.Purges(100)
		if err != nil {
			t.Fatal(err)
		}
		var hosts []string
		for _, c := range cs {
			if c.Kind == store.ChangeDomain {
				hosts = append(hosts, c.Host)
			}
		}
		if len(hosts) != len(want) || o.head().Purges != base+uint64(len(want)) {
			t.Fatalf("after %s: host purges %q (queue %d, base %d), want %q", what, hosts, o.head().Purges, base, want)
		}
		for i := range want {
			if hosts[i] != want[i] {
				t.Fatalf("after %s: host purges %q, want %q", what, hosts, want)
			}
		}
	}
	for _, r := range o.apply(&UpdateDomain{Header: v1, Now: 3, Host: "a.test", RootURL: &root},
		&DeleteDomain{Header: v1, Now: 3, Host: "b.test"}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	queued("version 1")
	o.apply(&UpdateDomain{Now: 4, Host: "a.test", Delegate: &dlg}, &UpdateDomain{Now: 4, Host: "a.test", RootURL: &root})
	queued("a delegation and the same root URL")
	o.apply(&UpdateDomain{Now: 5, Host: "a.test", Kind: &kind})
	queued("a kind change", "a.test")
	o.apply(&DeleteDomain{Now: 6, Host: "a.test"}, &DeleteDomain{Now: 6, Host: "a.test"})
	queued("a delete (twice)", "a.test", "a.test")
	_, cs, _ := o.st.Purges(100)
	if c := cs[len(cs)-1]; c.At != 6 || c.Owner != 0 || c.Code != "" {
		t.Fatalf("queued change %+v", c)
	}
}
