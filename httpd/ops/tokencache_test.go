package ops

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/linkd/linkd/store"
)

// A cached token answers exactly what the reads would: a changed role, a
// disabled user, an expiry and a revoked key are seen at the next request.
func TestTokenCacheFollowsAccountChanges(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(t.TempDir(), store.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o, err := New(Config{Store: st, PublicURL: "https://sho.rt", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	const token = "lk_cache_test_token"
	hash := store.TokenHash(token)
	u := &store.User{ID: 7, Email: "c@example.com", Role: store.RoleAdmin}
	key := &store.APIKey{ID: "k1", Owner: 7, Scopes: []string{"links:write", "admin"}}
	index := uint64(0)
	commit := func(f func(*store.Txn)) {
		t.Helper()
		txn := st.Begin()
		f(txn)
		index++
		if err := txn.Commit(index); err != nil {
			t.Fatal(err)
		}
	}
	commit(func(txn *store.Txn) { txn.PutUser(nil, u); txn.CreateAPIKey(hash, key) })
	now := time.UnixMilli(1000)
	want := func(step string, admin bool, wantErr error) {
		t.Helper()
		for range 2 { // the lookup that fills the cache, then a hit
			p, err := o.ForToken(token, now)
			if !errors.Is(err, wantErr) || (err == nil && p.IsAdmin() != admin) {
				t.Fatalf("%s: principal %+v, err %v; want admin %v, err %v", step, p, err, admin, wantErr)
			}
		}
	}
	want("an admin's key", true, nil)
	if _, ok := o.tokens.get(hash, st.AccountsGen()); !ok {
		t.Fatal("a valid token is not cached")
	}
	demoted := *u
	demoted.Role = store.RoleUser
	commit(func(txn *store.Txn) { txn.PutUser(u, &demoted) })
	want("after the demotion", false, nil)
	disabled := demoted
	disabled.Disabled = true
	commit(func(txn *store.Txn) { txn.PutUser(&demoted, &disabled) })
	want("the user disabled", false, ErrUnauthorized)
	commit(func(txn *store.Txn) { txn.PutUser(&disabled, &demoted) })
	want("enabled again", false, nil)
	now = time.UnixMilli(5000)
	expiring := *key
	expiring.ExpiresAt = 4000
	commit(func(txn *store.Txn) { txn.PutAPIKey(hash, &expiring) })
	want("past the key's expiry", false, ErrUnauthorized)
	commit(func(txn *store.Txn) { txn.PutAPIKey(hash, key) })
	want("without expiry", false, nil)
	commit(func(txn *store.Txn) {
		if ok, err := txn.DeleteAPIKey(7, "k1"); !ok || err != nil {
			t.Fatalf("deleting the key: %v %v", ok, err)
		}
	})
	want("the key deleted", false, ErrUnauthorized)
}
