package fsm

import (
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/store"
)

// A create or update without options is written as version 1 (a binary
// from before options applies it identically); one with options as
// version 2.
func TestLinkCommandVersions(t *testing.T) {
	maxv := uint64(3)
	for _, tc := range []struct {
		c    Command
		want uint8
	}{
		{create("a", "https://a.test", 1), 1},
		{&CreateLink{Now: 1, Code: "a", URL: "https://a.test", MaxVisits: 3}, 2},
		{&CreateLink{Now: 1, Code: "a", URL: "https://a.test", DropQuery: true}, 2},
		{&UpdateLink{Now: 1, Code: "a"}, 1},
		{&UpdateLink{Now: 1, Code: "a", MaxVisits: &maxv}, 2},
	} {
		b := mustEncode(t, tc.c)
		if _, v, err := Peek(b); err != nil || v != tc.want {
			t.Errorf("%#v: version %d, %v; want %d", tc.c, v, err, tc.want)
		}
	}
}

// Options set on create are stored with the link; an update changes only
// the options it names, and an empty program clears the rules.
func TestLinkOptionsApply(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "/db")
	defer st.Close()
	c := create("a", "https://a.test", 1)
	c.Program, c.PasswordHash, c.StartsAt, c.FallbackURL, c.MaxVisits = []byte{1, 0, 0}, "$argon2id$h", 5, "https://f.test", 10
	c.DropQuery, c.ForwardPath, c.QueryPrecedence = true, true, store.QueryVisitorWins
	f.ApplyBatch(logsFor(t, 1, c))
	l, err := st.Link("a")
	want := store.LinkOptions{Program: []byte{1, 0, 0}, PasswordHash: "$argon2id$h", StartsAt: 5, FallbackURL: "https://f.test",
		MaxVisits: 10, DropQuery: true, ForwardPath: true, QueryPrecedence: store.QueryVisitorWins}
	if err != nil || !reflect.DeepEqual(l.LinkOptions, want) {
		t.Fatalf("created options %+v, %v; want %+v", l.LinkOptions, err, want)
	}
	empty, no, pw := []byte{}, false, ""
	f.ApplyBatch(logsFor(t, 2, &UpdateLink{Now: 2, Code: "a", Actor: 1, Program: &empty, DropQuery: &no, PasswordHash: &pw}))
	l, _ = st.Link("a")
	want.Program, want.DropQuery, want.PasswordHash = nil, false, ""
	if !reflect.DeepEqual(l.LinkOptions, want) {
		t.Fatalf("updated options %+v; want %+v", l.LinkOptions, want)
	}
}
