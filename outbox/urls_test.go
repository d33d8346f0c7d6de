package outbox_test

import (
	"slices"
	"testing"

	"github.com/linkd/linkd/outbox"
	"github.com/linkd/linkd/store"
)

// TestAffectedURLsFollowDomains: a link on a configured domain is purged
// under that domain's host (not the default one), and a profile change on
// the profile host and every profile domain.
func TestAffectedURLsFollowDomains(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	txn := st.Begin()
	txn.PutDomain(&store.Domain{Host: "go.example", Kind: store.DomainLinks})
	txn.PutDomain(&store.Domain{Host: "bio.example", Kind: store.DomainBoth})
	if err := txn.Commit(1); err != nil {
		t.Fatal(err)
	}
	h := outbox.Hosts{Public: "https://sho.rt", ProfileHost: "me.sho.rt", Domains: st.Domains}
	for _, c := range []struct {
		change store.Change
		want   []string
	}{
		{store.Change{Kind: store.ChangeLinkUpdated, Code: "abc"}, []string{"https://sho.rt/abc", "https://sho.rt/abc+"}},
		{store.Change{Kind: store.ChangeLinkUpdated, Code: store.DomainCode("go.example", "abc")},
			[]string{"https://go.example/abc", "https://go.example/abc+"}},
		{store.Change{Kind: store.ChangeProfile, Handle: "ann"}, []string{"https://sho.rt/@ann", "https://sho.rt/@ann/og.png",
			"https://me.sho.rt/ann", "https://bio.example/ann"}},
	} {
		if got := h.AffectedURLs(&c.change); !slices.Equal(got, c.want) {
			t.Errorf("AffectedURLs(%+v) = %v, want %v", c.change, got, c.want)
		}
	}
}
