package fsm

import (
	"errors"
	"testing"

	"github.com/linkd/linkd/store"
)

func u8(v uint8) *uint8 { return &v }
func yes() *bool        { b := true; return &b }

// accountWorkload exercises every account command, failures included
// (part of workload, so determinism and snapshot tests cover it).
func accountWorkload() []Command {
	h := store.TokenHash
	return []Command{
		&CreateUser{Now: 400, Email: "Ann@x.test", PasswordHash: "h1", Role: uint8(store.RoleUser)}, // id 2
		&CreateUser{Now: 401, Email: "ann@X.test", PasswordHash: "h2", Role: uint8(store.RoleUser)}, // email taken
		&CreateUser{Now: 402, Email: "bob@x.test", PasswordHash: "h3", Role: uint8(store.RoleUser)}, // id 3
		&CreateInvite{Now: 403, Hash: h("inv"), ID: "i1", Role: uint8(store.RoleAdmin), CreatedBy: 1, ExpiresAt: 10_000},
		&CreateUser{Now: 404, Email: "cat@x.test", PasswordHash: "h4", Role: uint8(store.RoleUser), InviteHash: h("inv")}, // admin, id 4
		&CreateUser{Now: 405, Email: "dan@x.test", PasswordHash: "h5", InviteHash: h("inv")},                              // used up
		&CreateAPIKey{Now: 406, Hash: h("k2"), ID: "k2", Name: "ann", Owner: 2, Scopes: []string{"links:read"}},
		&CreateAPIKey{Now: 406, Hash: h("k9"), ID: "k9", Name: "ghost", Owner: 99, Scopes: []string{"links:read"}}, // no such user
		&CreateSession{Now: 407, Hash: h("s2"), User: 2, ExpiresAt: 500},
		&CreateSession{Now: 407, Hash: h("s3"), User: 3, ExpiresAt: 10_000},
		&CreateLink{Now: 408, Code: "ann1", URL: "https://ann.test", Owner: 2, RedirectStatus: 302},
		&UpdateUser{Now: 409, ID: 3, Disabled: yes()},                       // ends bob's session
		&UpdateUser{Now: 410, ID: 1, Role: u8(uint8(store.RoleUser))},       // protected
		&CreateSession{Now: 600, Hash: h("s4"), User: 4, ExpiresAt: 10_000}, // prunes ann's expired session
		&DeleteAPIKey{Now: 601, Owner: 3, ID: "k2"},                         // not bob's key
		&DeleteUser{Now: 602, ID: 2}, // ann: link, key, sessions go
		&DeleteInvite{Now: 603, ID: "nope"},
		&PutImage{Now: 604, ID: h("img"), Image: store.Image{Type: "image/png", Width: 1, Height: 1, Owner: 4, Data: []byte{1, 2, 3}}},
		setProfile(605, 4, "cat", []string{"cp1", "pagecat"}, store.ProfileLink{Code: "cp1", Title: "Cat", URL: "https://cat.test", Enabled: true}),
	}
}

func TestAccountCommands(t *testing.T) {
	f, st := mustFSM(t, nil, t.TempDir())
	cmds := append([]Command{workload()[0]}, accountWorkload()...)
	res := f.ApplyBatch(logsFor(t, 1, cmds...))
	errOf := func(i int) error { return res[i+1].(*Result).Err }
	wantErrs := map[int]error{1: ErrEmailTaken, 5: ErrInvalidInvite, 7: ErrUserNotFound, 12: ErrProtectedUser, 14: ErrKeyNotFound, 16: ErrInviteNotFound}
	for i := range accountWorkload() {
		if got := errOf(i); !errors.Is(got, wantErrs[i]) || (got == nil) != (wantErrs[i] == nil) {
			t.Errorf("command %d (%T): err %v, want %v", i, cmds[i+1], got, wantErrs[i])
		}
	}
	if u, err := st.User(4); err != nil || u.Role != store.RoleAdmin || u.Email != "cat@x.test" {
		t.Fatalf("invited user: %+v %v", u, err)
	}
	if u, err := st.UserByEmail("BOB@x.test"); err != nil || !u.Disabled {
		t.Fatalf("bob: %+v %v", u, err)
	}
	if _, err := st.Session(store.TokenHash("s3"), 450); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("disabling kept the session")
	}
	if _, err := st.User(2); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("deleted user remains")
	}
	if _, err := st.UserByEmail("ann@x.test"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("deleted user's email is still taken")
	}
	if _, err := st.APIKey(store.TokenHash("k2")); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("deleted user's key remains")
	}
	if l, err := st.Link("ann1"); err != nil || l.Status != store.StatusDeleted || l.URL != "" {
		t.Fatalf("deleted user's link: %+v %v", l, err)
	}
	if _, err := st.Session(store.TokenHash("s4"), 700); err != nil {
		t.Fatal("new session missing")
	}
}

func TestCreateUserReplayAndClaim(t *testing.T) {
	f, st := mustFSM(t, nil, t.TempDir())
	init := &Init{Now: 1, ClusterID: "c", PermKey: make([]byte, 32), AdminKeyID: "k", AdminKeyHash: store.TokenHash("t"),
		AdminInviteID: "a", AdminInviteHash: store.TokenHash("admin-invite")}
	c := &CreateUser{Now: 5, Email: "root@x.test", PasswordHash: "salted", InviteHash: store.TokenHash("admin-invite")}
	res := f.ApplyBatch(logsFor(t, 1, init, c, c))
	first, again := res[1].(*Result), res[2].(*Result)
	if first.Err != nil || first.User.ID != AdminUser || first.User.Role != store.RoleAdmin {
		t.Fatalf("claim: %+v", first)
	}
	if !again.Replayed || again.User.ID != AdminUser {
		t.Fatalf("a retried create was not recognised: %+v", again)
	}
	keys, err := st.APIKeys(AdminUser)
	if err != nil || len(keys) != 1 || keys[0].ID != "k" {
		t.Fatalf("admin keys: %+v %v", keys, err)
	}
}
