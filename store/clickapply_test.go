package store

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/internal/yield/yieldtest"
)

func storeWithLinks(t *testing.T, codes ...string) *Store {
	t.Helper()
	s := mustOpen(t, vfs.NewMem(), "db")
	t.Cleanup(func() { s.Close() })
	txn := s.Begin()
	for _, c := range codes {
		txn.CreateLink(testLink(c, "https://e.test", 1))
	}
	mustCommit(t, txn, 1)
	return s
}

func minuteKeys(t *testing.T, s *Store, code string) []int64 {
	t.Helper()
	var out []int64
	err := s.view(func(db *pebble.DB) error {
		return scanPrefix(db, codeKey(tMinute, code), func(k, _ []byte) error {
			out = append(out, int64(binary.BigEndian.Uint64(k[len(k)-8:])))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Retention prunes a link's buckets written by earlier applies, including
// earlier commands of the same batch, when the link gets clicks again; it
// never touches another code's buckets, even one the pruned code prefixes.
func TestRetentionPrunesEarlierBuckets(t *testing.T) {
	s := storeWithLinks(t, "abc", "abcd")
	m0 := int64(30_000_000) // a Unix minute
	keep := Retention{Minutes: time.Hour, Hours: 0}
	var ten []ClickBucket
	for m := range int64(10) {
		ten = append(ten, ClickBucket{T: m0 + m, N: 1})
	}
	txn := s.Begin()
	if err := txn.AddClicks([]LinkClicks{{Code: "abc", Minutes: ten}, {Code: "abcd", Minutes: ten}}, (m0+10)*MinuteMs, keep); err != nil {
		t.Fatal(err)
	}
	// A later command of the same batch, 65 minutes on: m0..m0+4 expire.
	if err := txn.AddClicks([]LinkClicks{{Code: "abc", Minutes: []ClickBucket{{T: m0 + 65, N: 1}}}}, (m0+65)*MinuteMs, keep); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn, 2)
	if got := minuteKeys(t, s, "abc"); len(got) != 6 || got[0] != m0+5 || got[5] != m0+65 {
		t.Fatalf("abc keeps minutes %v, want %d..%d and %d", got, m0+5, m0+9, m0+65)
	}
	if got := minuteKeys(t, s, "abcd"); len(got) != 10 {
		t.Fatalf("abcd lost buckets it had no clicks for: %v", got)
	}
	// A later apply, in its own batch, prunes the rest.
	mustClicks(t, s, &LinkClicks{Code: "abc", Minutes: []ClickBucket{{T: m0 + 200, N: 1}}}, (m0+200)*MinuteMs, keep, 3)
	if got := minuteKeys(t, s, "abc"); len(got) != 1 || got[0] != m0+200 {
		t.Fatalf("abc keeps minutes %v", got)
	}
}

// One dimension of one link keeps at most MaxDimValues values a day, the
// rest counted under OtherValue: the total still adds up, known values keep
// counting after the cap, the cap holds across applies and is per day and
// per dimension. Orphan hosts are capped the same way. Both day layouts
// cap alike.
func TestCardinalityCaps(t *testing.T) {
	for _, layout := range []DayLayout{LayoutFields, LayoutRecord} {
		t.Run(fmt.Sprint("layout=", layout), func(t *testing.T) { testCardinalityCaps(t, layout) })
	}
}

func testCardinalityCaps(t *testing.T, layout DayLayout) {
	mustClicks := func(t *testing.T, s *Store, d *LinkClicks, now int64, r Retention, applied uint64) {
		t.Helper()
		mustClicksIn(t, s, layout, applied, now, r, *d)
	}
	s := storeWithLinks(t, "abc")
	const day = 20000
	var first []DimCount
	for i := range 150 {
		first = append(first, DimCount{Dim: DimReferrer, Key: fmt.Sprintf("r%03d.test", i), N: 2})
	}
	first = append(first, DimCount{Dim: DimCountry, Key: "DE", N: 300}, DimCount{Dim: DimReferrer, Key: string(make([]byte, MaxDimValueLen+1)), N: 1})
	mustClicks(t, s, &LinkClicks{Code: "abc", Days: []DayClicks{{Day: day, Humans: 301, Dims: first}}}, day*DayMs, Retention{}, 2)
	// Again: a known value, a new one (over the cap) and a new day.
	second := []DimCount{{Dim: DimReferrer, Key: "r000.test", N: 5}, {Dim: DimReferrer, Key: "new.test", N: 7}}
	mustClicks(t, s, &LinkClicks{Code: "abc", Days: []DayClicks{{Day: day, Humans: 12, Dims: second},
		{Day: day + 1, Humans: 1, Dims: []DimCount{{Dim: DimReferrer, Key: "new.test", N: 1}}}}}, day*DayMs, Retention{}, 3)

	refs, err := s.LinkDimension("abc", DimReferrer, day, day+1)
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	counts := map[string]uint64{}
	for _, kc := range refs {
		sum += kc.Count
		counts[kc.Key] = kc.Count
	}
	if len(refs) != MaxDimValues+1 || sum != 150*2+1+12 {
		t.Fatalf("%d referrer rows summing to %d; want %d rows summing to %d", len(refs), sum, MaxDimValues+1, 150*2+1+12)
	}
	if counts["r000.test"] != 7 || counts[OtherValue] != 50*2+1+7 || counts["new.test"] != 0 {
		t.Fatalf("r000 %d, other %d, new %d", counts["r000.test"], counts[OtherValue], counts["new.test"])
	}
	if c, _ := s.LinkDimension("abc", DimCountry, day, day+1); len(c) != 1 || c[0].Count != 300 {
		t.Fatalf("countries: %v (another dimension's cap)", c)
	}
	if r, _ := s.LinkDimension("abc", DimReferrer, day+1, day+2); len(r) != 1 || r[0].Key != "new.test" {
		t.Fatalf("next day: %v (the cap is per day)", r)
	}

	var orphans []OrphanCount
	for i := range 130 {
		orphans = append(orphans, OrphanCount{Day: day, Host: fmt.Sprintf("h%d.test", i), N: 1})
	}
	txn := s.Begin()
	if err := txn.AddOrphans(orphans); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn, 4)
	rows := 0
	err = s.view(func(db *pebble.DB) error {
		return scanPrefix(db, []byte{tOrphan}, func(_, _ []byte) error { rows++; return nil })
	})
	if total, _, _ := s.Orphans(day, day+1); err != nil || rows != MaxDimValues+1 || total != 130 {
		t.Fatalf("%d orphan rows, total %d (%v)", rows, total, err)
	}
}

// Deleting a link deletes its cap counts too, so a code's analytics start
// from nothing (codes are never reissued, but a restored link must not
// inherit a full cap).
func TestDeleteAnalyticsDeletesCapCounts(t *testing.T) {
	s := storeWithLinks(t, "abc")
	mustClicks(t, s, &LinkClicks{Code: "abc", Days: []DayClicks{{Day: 1, Humans: 1, Dims: []DimCount{{DimReferrer, "t.co", 1}}}}}, DayMs, Retention{}, 2)
	l, _ := s.Link("abc")
	txn := s.Begin()
	txn.DeleteLink(l, 5)
	mustCommit(t, txn, 3)
	n := 0
	err := s.view(func(db *pebble.DB) error {
		return scanPrefix(db, []byte{tDimCount}, func(_, _ []byte) error { n++; return nil })
	})
	if err != nil || n != 0 {
		t.Fatalf("%d cap counts survive the delete (%v)", n, err)
	}
}

// An apply reads through iterators made when it starts (seqread.go), which
// do not see what it writes itself. Whatever the order of its links, and
// when one key is added to twice (a link listed twice; minutes of one hour;
// a segment across midnight adds to the running total once per day), one
// apply must store exactly what applying its links one apply at a time
// does. Both layouts.
func TestApplyClicksSeesItsOwnWrites(t *testing.T) {
	m0 := int64(29_000_000) // a Unix minute
	day := m0 * MinuteMs / DayMs
	keep := Retention{Minutes: 48 * time.Hour, Hours: 30 * 24 * time.Hour}
	now := (m0 + 10) * MinuteMs
	mk := func(code string, n uint64) LinkClicks {
		return LinkClicks{Code: code,
			Minutes: []ClickBucket{{T: m0, N: n}, {T: m0 + 1, N: n}, {T: m0 + 2, N: 2 * n}},
			Days: []DayClicks{
				{Day: day, Humans: n, Bots: 1, Dims: []DimCount{{Dim: 1, Key: "r.test", N: n}}},
				{Day: day + 1, Humans: 2 * n, Dims: []DimCount{{Dim: 1, Key: "r.test", N: 2 * n}}},
			}}
	}
	links := []LinkClicks{mk("m", 1), mk("c", 2), mk("x", 3), mk("c", 4), mk("a", 5), mk("m", 6)}
	tables := []byte{tMinute, tHour, tTotal, tDay, tDim, tDimCount, tDayAgg}
	dump := func(s *Store) map[string]string {
		out := map[string]string{}
		err := s.view(func(db *pebble.DB) error {
			for _, tb := range tables {
				if err := scanPrefix(db, []byte{tb}, func(k, v []byte) error { out[string(k)] = string(v); return nil }); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, layout := range []DayLayout{LayoutFields, LayoutRecord} {
		t.Run(fmt.Sprint("layout=", layout), func(t *testing.T) {
			together := storeWithLinks(t, "a", "c", "m", "x")
			oneByOne := storeWithLinks(t, "a", "c", "m", "x")
			for round := range 2 { // the second round adds to what the first stored
				mustClicksIn(t, together, layout, uint64(2+round), now, keep, links...)
				for i, l := range links {
					mustClicksIn(t, oneByOne, layout, uint64(2+round*len(links)+i), now, keep, l)
				}
			}
			want, got := dump(oneByOne), dump(together)
			if len(want) == 0 {
				t.Fatal("nothing stored")
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("key %q: one apply stored %x, one apply per link %x", k, got[k], v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("one apply stored %d keys, one apply per link %d", len(got), len(want))
			}
			if n, err := together.Clicks("c"); err != nil || n != 2*(2+1+4+4+1+8) {
				t.Errorf("total of c = %d, %v", n, err)
			}
		})
	}
}

// A long apply yields the processor every applyYield links, so that on a
// node with few processors other goroutines (redirects) run during it, not
// only when the scheduler preempts it after 10 ms. With one processor, a
// goroutine that counts and yields in a loop runs once per yield of the
// apply; without the yields it would not run at all.
func TestApplyClicksYieldsTheProcessor(t *testing.T) {
	const n = 1000
	codes := make([]string, n)
	links := make([]LinkClicks, n)
	for i := range codes {
		codes[i] = fmt.Sprintf("c%04d", i)
		links[i] = LinkClicks{Code: codes[i], Minutes: []ClickBucket{{T: 29_000_000, N: 1}},
			Days: []DayClicks{{Day: 29_000_000 * MinuteMs / DayMs, Humans: 1}}}
	}
	s := storeWithLinks(t, codes...)
	txn := s.Begin()
	defer txn.Abort()
	var err error
	during := yieldtest.Turns(func() {
		err = txn.ApplyClicks(links, 29_000_000*MinuteMs, Retention{}, LayoutRecord, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if during < n/100 {
		t.Fatalf("another goroutine ran %d times during an apply of %d links, want at least %d (a yield every 100 links or more often)", during, n, n/100)
	}
}
