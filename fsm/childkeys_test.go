package fsm

import (
	"errors"
	"testing"

	"github.com/linkd/linkd/store"
)

// TestChildKeys: a key made by a key records its parent, never outlives
// it (the expiry is clamped in Apply), cannot be made from a revoked or
// expired parent, and revoking a key revokes its descendants.
func TestChildKeys(t *testing.T) {
	f, st := mustFSM(t, nil, t.TempDir())
	h := store.TokenHash
	child := func(now int64, id, parent string, exp int64) *CreateChildKey {
		return &CreateChildKey{CreateAPIKey: CreateAPIKey{Now: now, Hash: h(id), ID: id, Name: id, Owner: 2,
			Scopes: []string{"links:read"}, ExpiresAt: exp}, Parent: parent}
	}
	cmds := []Command{
		workload()[0],
		&CreateUser{Now: 400, Email: "ann@x.test", PasswordHash: "h1", Role: uint8(store.RoleUser)}, // id 2
		&CreateAPIKey{Now: 401, Hash: h("root"), ID: "root", Name: "root", Owner: 2, Scopes: []string{"links:read"}, ExpiresAt: 60_401},
		child(402, "a", "root", 0),      // no expiry asked: the parent's
		child(403, "b", "a", 1_000_000), // later than the ancestor's: clamped
		child(404, "c", "a", 50_000),    // earlier: kept
		child(405, "x", "nope", 0),      // no such parent
		&CreateAPIKey{Now: 406, Hash: h("other"), ID: "other", Name: "other", Owner: 2, Scopes: []string{"links:read"}},
		child(407, "o", "other", 0), // no expiry anywhere
		&DeleteAPIKey{Now: 408, Owner: 2, ID: "root"},
		child(409, "late", "a", 0),       // parent revoked meanwhile
		child(70_000, "exp", "other", 0), // fine
		child(70_001, "gone", "c", 0),    // c revoked with root
	}
	res := f.ApplyBatch(logsFor(t, 1, cmds...))
	want := map[int]error{6: ErrKeyNotFound, 10: ErrKeyNotFound, 12: ErrKeyNotFound}
	for i, r := range res {
		if got := r.(*Result).Err; !errors.Is(got, want[i]) || (got == nil) != (want[i] == nil) {
			t.Errorf("command %d (%T): %v, want %v", i, cmds[i], got, want[i])
		}
	}
	for _, id := range []string{"root", "a", "b", "c"} {
		if _, err := st.APIKey(h(id)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("key %s survived its ancestor's revocation: %v", id, err)
		}
	}
	ks, err := st.APIKeys(2)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*store.APIKey{}
	for _, k := range ks {
		got[k.ID] = k
	}
	if len(got) != 3 || got["o"] == nil || got["o"].Parent != "other" || got["o"].ExpiresAt != 0 || got["exp"] == nil {
		t.Fatalf("keys left: %+v", ks)
	}
}

// TestChildKeyExpiryClamped checks the clamp on the stored record.
func TestChildKeyExpiryClamped(t *testing.T) {
	f, st := mustFSM(t, nil, t.TempDir())
	h := store.TokenHash
	cmds := []Command{
		workload()[0],
		&CreateUser{Now: 400, Email: "ann@x.test", PasswordHash: "h1", Role: uint8(store.RoleUser)},
		&CreateAPIKey{Now: 401, Hash: h("p"), ID: "p", Name: "p", Owner: 2, Scopes: []string{"links:read"}, ExpiresAt: 60_401},
		&CreateChildKey{CreateAPIKey: CreateAPIKey{Now: 402, Hash: h("c"), ID: "c", Name: "c", Owner: 2,
			Scopes: []string{"links:read"}}, Parent: "p"},
	}
	for i, r := range f.ApplyBatch(logsFor(t, 1, cmds...)) {
		if err := r.(*Result).Err; err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
	}
	k, err := st.APIKey(h("c"))
	if err != nil || k.ExpiresAt != 60_401 || k.Parent != "p" {
		t.Fatalf("child: %+v, %v; want expiry 60401 and parent p", k, err)
	}
}
