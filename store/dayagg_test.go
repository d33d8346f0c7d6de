package store

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/axiomhq/hyperloglog"
)

// mustClicksIn applies deltas in one layout as one command.
func mustClicksIn(t testing.TB, s *Store, layout DayLayout, applied uint64, now int64, r Retention, ds ...LinkClicks) {
	t.Helper()
	txn := s.Begin()
	if err := txn.ApplyClicks(ds, now, r, layout, nil); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn, applied)
}

// upgradeDeltas are segments of clicks for "abc" over two days: dimensions
// under the cap, visitors, several minutes.
func upgradeDeltas(day int64) []LinkClicks {
	var out []LinkClicks
	for seg := range int64(6) {
		d := day + seg/3 // three segments a day
		sk := hyperloglog.New14()
		for v := range 50 {
			sk.InsertHash(uint64(seg*1000+int64(v)) * 0x9e3779b97f4a7c15)
		}
		vis, _ := sk.MarshalBinary()
		out = append(out, LinkClicks{Code: "abc",
			Minutes: []ClickBucket{{T: d*DayMs/MinuteMs + seg*7, N: uint64(seg + 1)}},
			Days: []DayClicks{{Day: d, Humans: uint64(seg + 1), Bots: 1, Previews: 2, Scans: uint64(seg % 2), Visitors: vis,
				Dims: []DimCount{{Dim: DimReferrer, Key: fmt.Sprintf("r%d.test", seg%4), N: uint64(seg + 1)},
					{Dim: DimCountry, Key: "DE", N: 1}, {Dim: DimOS, Key: "iOS", N: uint64(seg)}}}}})
	}
	return out
}

// everything is what the readers answer about "abc" over days [day, day+2).
type everything struct {
	Clicks          uint64
	ByDay, ByHour   *Analytics
	ByMinute        *Analytics
	Referrers, OSes []KeyCount
	ExportDays      []dayCount
	ExportDims      []dimRow
}

func readEverything(t *testing.T, s *Store, day int64) everything {
	t.Helper()
	var e everything
	var err error
	from, to := day*DayMs, (day+2)*DayMs
	e.Clicks, _ = s.Clicks("abc")
	must := func(a *Analytics, err error) *Analytics {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	e.ByDay = must(s.LinkAnalytics("abc", from, to, ByDay))
	e.ByHour = must(s.LinkAnalytics("abc", from, to, ByHour))
	e.ByMinute = must(s.LinkAnalytics("abc", from, to, ByMinute))
	if e.Referrers, err = s.LinkDimension("abc", DimReferrer, day, day+2); err != nil {
		t.Fatal(err)
	}
	e.OSes, _ = s.LinkDimension("abc", DimOS, day, day+2)
	sn := s.Snapshot()
	defer sn.Close()
	err = sn.EachDay("abc", day, day+2, func(d int64, c DayCounts) error { e.ExportDays = append(e.ExportDays, dayCount{d, c}); return nil })
	if err != nil {
		t.Fatal(err)
	}
	err = sn.EachDim("abc", day, day+2, func(d int64, dim uint8, v string, n uint64) error {
		e.ExportDims = append(e.ExportDims, dimRow{d, dim, v, n})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A store holding days in the field layout (older linkds) that then gets
// segments in the record layout, on the same day and the next, answers
// exactly what a store that got every segment in the field layout answers:
// totals, series, dimensions, visitors, exports. Deleting the link then
// deletes both layouts.
func TestDayRecordUpgrade(t *testing.T) {
	const day = 20000
	deltas := upgradeDeltas(day)
	now := (day + 2) * DayMs
	old, mixed, fresh := storeWithLinks(t, "abc"), storeWithLinks(t, "abc"), storeWithLinks(t, "abc")
	for i, d := range deltas {
		mustClicksIn(t, old, LayoutFields, uint64(i+2), now, Retention{}, d)
		layout := LayoutFields
		if i >= 2 { // the upgrade: mid-day
			layout = LayoutRecord
		}
		mustClicksIn(t, mixed, layout, uint64(i+2), now, Retention{}, d)
		mustClicksIn(t, fresh, LayoutRecord, uint64(i+2), now, Retention{}, d)
	}
	want := readEverything(t, old, day)
	if want.Clicks == 0 || len(want.ByDay.Series) != 2 || len(want.ExportDims) == 0 || want.ByDay.Visitors < 250 {
		t.Fatalf("the field layout stored too little: %+v", want)
	}
	for name, s := range map[string]*Store{"mixed": mixed, "record": fresh} {
		if got := readEverything(t, s, day); !reflect.DeepEqual(got, want) {
			t.Errorf("%s layout answers\n%+v\nwant\n%+v", name, got, want)
		}
	}
	// The record layout wrote no field-layout key, and the field layout no record.
	for name, c := range map[string]struct {
		s      *Store
		tables []byte
	}{"record": {fresh, []byte{tDay, tDim, tDimCount, tUniq}}, "fields": {old, []byte{tDayAgg}}} {
		for _, table := range c.tables {
			if n := countPrefix(t, c.s, codeKey(table, "abc")); n != 0 {
				t.Errorf("%s layout wrote %d keys of table %c", name, n, table)
			}
		}
	}
	txn := mixed.Begin()
	l, err := txn.Link("abc")
	if err != nil {
		t.Fatal(err)
	}
	txn.DeleteLink(l, now)
	mustCommit(t, txn, 100)
	for _, table := range []byte{tDay, tDim, tDimCount, tUniq, tDayAgg, tMinute, tHour} {
		if n := countPrefix(t, mixed, codeKey(table, "abc")); n != 0 {
			t.Errorf("deleting the link left %d keys of table %c", n, table)
		}
	}
}

func countPrefix(t *testing.T, s *Store, prefix []byte) int {
	t.Helper()
	n := 0
	sn := s.Snapshot()
	defer sn.Close()
	if err := scanPrefix(sn.snap, prefix, func(_, _ []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// A DayAgg record that does not decode fails the apply (the node halts on
// it) instead of being overwritten.
func TestDayAggCorrupt(t *testing.T) {
	for _, b := range [][]byte{{}, {recordV1, 1, 0, 0, 0, 1, 1, 200}, {recordV1 + 1}} {
		if _, err := unmarshalDayAgg(b); err == nil {
			t.Errorf("%x decoded", b)
		}
	}
}
