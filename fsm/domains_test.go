package fsm

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/store"
)

// domainGoldenSamples are the golden samples of the domain commands (types
// 80-82) and of the link creates that carry a domain (CreateLink version
// 3, CreateLinks version 2).
func domainGoldenSamples() map[string]Command {
	kind, root, nf, dlg, yes := uint8(3), "https://root.test", "https://nf.test", uint64(2), true
	return map[string]Command{
		"80-create-domain": &CreateDomain{Now: 1700000000080, Actor: 1, Host: "sho.rt", Kind: 1, RootURL: root,
			NotFoundURL: nf, Delegate: 2, HTTPSRedirect: true, HSTS: true, Max: 100},
		"81-update-domain": &UpdateDomain{Header: Header{V: 1}, Now: 1700000000081, Host: "sho.rt", Kind: &kind, RootURL: &root,
			NotFoundURL: &nf, Delegate: &dlg, HTTPSRedirect: &yes, HSTS: &yes}, // v2 in domainV2GoldenSamples
		"82-delete-domain": &DeleteDomain{Header: Header{V: 1}, Now: 1700000000082, Host: "sho.rt"},
		"03-create-link": &CreateLink{Now: 1700000000002, Code: "abc1234", Custom: true, URL: "https://example.com/x",
			Owner: 7, RedirectStatus: 302, Domain: "sho.rt", Admin: true},
		"70-create-links": &CreateLinks{Items: []CreateLink{
			{Now: 1700000000100, Code: "abc1234", URL: "https://example.com/1", Owner: 7, RedirectStatus: 302, Domain: "sho.rt"},
			{Now: 1700000000100, Code: "abc1235", URL: "https://example.com/2", Owner: 7, RedirectStatus: 302}}},
	}
}

// domainV2GoldenSamples are UpdateDomain and DeleteDomain at version 2:
// the same fields, and Apply also queues a purge of the host.
func domainV2GoldenSamples() map[string]Command {
	kind, root, nf, dlg, yes := uint8(3), "https://root.test", "https://nf.test", uint64(2), true
	return map[string]Command{
		"81-update-domain": &UpdateDomain{Now: 1700000000081, Host: "sho.rt", Kind: &kind, RootURL: &root,
			NotFoundURL: &nf, Delegate: &dlg, HTTPSRedirect: &yes, HSTS: &yes},
		"82-delete-domain": &DeleteDomain{Now: 1700000000082, Host: "sho.rt"},
	}
}

func TestDomainCommands(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "db")
	defer st.Close()
	d2 := uint64(2)
	cmds := []Command{
		&Init{Now: 1, ClusterID: "c", PermKey: bytes.Repeat([]byte{7}, 32), AdminKeyID: "k", AdminKeyHash: store.TokenHash("t")},
		&CreateUser{Now: 2, Email: "u2@x.test", PasswordHash: "h", Role: uint8(store.RoleUser)}, // user 2
		&CreateUser{Now: 2, Email: "u3@x.test", PasswordHash: "h", Role: uint8(store.RoleUser)}, // user 3
		&CreateDomain{Now: 3, Actor: 1, Host: "a.test", Kind: 1, Max: 2},
		&CreateDomain{Now: 3, Actor: 1, Host: "a.test", Kind: 1, Max: 2},               // exists
		&CreateDomain{Now: 3, Actor: 1, Host: "b.test", Kind: 2, Delegate: 99, Max: 2}, // no such user
		&CreateDomain{Now: 3, Actor: 1, Host: "b.test", Kind: 2, Max: 2},               // at the limit: the 2nd
		&CreateDomain{Now: 3, Actor: 1, Host: "c.test", Kind: 1, Max: 2},               // past it
		&UpdateDomain{Now: 4, Host: "a.test", Delegate: &d2},
		create("same", "https://default.test", 5),
		&CreateLink{Now: 5, Code: "same", URL: "https://a.test/x", Owner: 2, RedirectStatus: 302, Domain: "a.test"},
		&CreateLink{Now: 5, Code: "same", URL: "https://a.test/y", Owner: 2, RedirectStatus: 302, Domain: "a.test"},  // taken on a.test
		&CreateLink{Now: 5, Code: "other", URL: "https://a.test/z", Owner: 3, RedirectStatus: 302, Domain: "a.test"}, // not delegated
		&CreateLink{Now: 5, Code: "adm", URL: "https://a.test/z", Owner: 1, Admin: true, RedirectStatus: 302, Domain: "a.test"},
		&CreateLink{Now: 5, Code: "prof", URL: "https://a.test/z", Owner: 1, Admin: true, RedirectStatus: 302, Domain: "b.test"}, // profiles only
		&CreateLink{Now: 5, Code: "none", URL: "https://a.test/z", Owner: 1, Admin: true, RedirectStatus: 302, Domain: "x.test"},
		&DeleteDomain{Now: 6, Host: "b.test"},
		&DeleteDomain{Now: 6, Host: "b.test"},
	}
	want := []error{nil, nil, nil, nil, ErrDomainExists, ErrUserNotFound, nil, ErrDomainLimit, nil,
		nil, nil, ErrExists, ErrDomainForbidden, nil, ErrDomainKind, ErrDomainNotFound, nil, nil}
	res := f.ApplyBatch(logsFor(t, 1, cmds...))
	for i, r := range res {
		if err := r.(*Result).Err; !errors.Is(err, want[i]) {
			t.Fatalf("command %d (%T): %v, want %v", i, cmds[i], err, want[i])
		}
	}
	for key, url := range map[string]string{"same": "https://default.test", "a.test/same": "https://a.test/x", "a.test/adm": "https://a.test/z"} {
		if l, err := st.Link(key); err != nil || l.URL != url {
			t.Fatalf("link %q: %+v, %v", key, l, err)
		}
	}
	if _, err := st.Link("a.test/other"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused create left a link: %v", err)
	}
	ds := st.Domains()
	if d, ok := ds.Lookup([]byte("a.test")); !ok || d.Delegate != 2 || ds.Len() != 1 {
		t.Fatalf("domain set after apply: %+v %v len %d", d, ok, ds.Len())
	}
}
