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

// Human clicks from rollups count toward maxVisits (bots and previews do
// not); reaching the limit marks the link exhausted in the same apply, and
// a new limit counts from zero.
func TestMaxVisitsFromRollups(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "/db")
	defer st.Close()
	c := create("a", "https://a.test", 1)
	c.MaxVisits = 3
	day := int64(1)
	clicks := func(seg uint64, humans, bots uint64) *Clicks {
		return &Clicks{Now: 2, Source: "n1", Segment: seg, Links: []store.LinkClicks{{Code: "a",
			Days: []store.DayClicks{{Day: day, Humans: humans, Bots: bots, Previews: 9}}}}}
	}
	f.ApplyBatch(logsFor(t, 1, c, clicks(1, 2, 50)))
	if l, _ := st.Link("a"); l.Exhausted {
		t.Fatal("exhausted after 2 of 3 human visits")
	}
	f.ApplyBatch(logsFor(t, 3, clicks(1, 5, 0))) // a replayed segment: ignored
	if l, _ := st.Link("a"); l.Exhausted {
		t.Fatal("a replayed segment counted")
	}
	f.ApplyBatch(logsFor(t, 4, clicks(2, 2, 0)))
	l, _ := st.Link("a")
	if n, _ := st.Visits("a"); !l.Exhausted || n != 4 {
		t.Fatalf("after 4 of 3 human visits: exhausted %v, count %d", l.Exhausted, n)
	}
	e, _, _ := st.Resolve(nil, []byte("a"))
	if e.Flags&store.HotExhausted == 0 {
		t.Fatal("hot set still serves the link as not exhausted")
	}
	maxv := uint64(10)
	f.ApplyBatch(logsFor(t, 5, &UpdateLink{Now: 3, Code: "a", Actor: 1, MaxVisits: &maxv}))
	l, _ = st.Link("a")
	if n, _ := st.Visits("a"); l.Exhausted || n != 0 {
		t.Fatalf("after a new limit: exhausted %v, count %d", l.Exhausted, n)
	}
}
