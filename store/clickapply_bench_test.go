package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/axiomhq/hyperloglog"
)

// BenchmarkAddClicks is the store's share of applying a click segment
// (fsm's BenchmarkApplyClicks adds the command around it) with 1, 1,000
// and 100,000 links per segment, in both day layouts, on a real on-disk
// Pebble. Every link has a click in the segment's minute, a day with five
// dimensions and a visitor sketch; retention is short, so pruning is in
// the figure. Applying must cost the same per link whatever the number of
// links; layout=1 (one record per link and day) must cost a fraction of
// layout=0.
func BenchmarkAddClicks(b *testing.B) {
	for _, n := range []int{1, 1000, 100_000} {
		for _, layout := range []DayLayout{LayoutFields, LayoutRecord} {
			b.Run(fmt.Sprintf("links=%d/layout=%d", n, layout), func(b *testing.B) { benchAddClicks(b, n, layout) })
		}
	}
}

func benchAddClicks(b *testing.B, links int, layout DayLayout) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	codes := make([]string, links)
	applied := uint64(1)
	for lo := 0; lo < links; lo += 10_000 {
		txn := s.Begin()
		for i := lo; i < min(lo+10_000, links); i++ {
			codes[i] = fmt.Sprintf("c%07d", i)
			txn.CreateLink(testLink(codes[i], "https://e.test/", 1))
		}
		mustCommit(b, txn, applied)
		applied++
	}
	sk := hyperloglog.New14()
	sk.InsertHash(0x9e3779b97f4a7c15)
	visitors, _ := sk.MarshalBinary()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	keep := Retention{Minutes: 3 * time.Minute, Hours: 2 * time.Hour}
	segment := func(seg int) (int64, []LinkClicks) {
		now := t0 + int64(seg)*MinuteMs
		out := make([]LinkClicks, len(codes))
		for i, code := range codes {
			out[i] = LinkClicks{Code: code, Minutes: []ClickBucket{{T: now / MinuteMs, N: 2}},
				Days: []DayClicks{{Day: now / DayMs, Humans: 2, Visitors: visitors, Dims: []DimCount{
					{Dim: DimReferrer, Key: "t.co", N: 2}, {Dim: DimCountry, Key: "DE", N: 2},
					{Dim: DimDevice, Key: "mobile", N: 2}, {Dim: DimBrowser, Key: "Safari", N: 2},
					{Dim: DimOS, Key: "iOS", N: 2}}}}}
		}
		return now, out
	}
	apply := func(seg int) {
		now, ds := segment(seg)
		txn := s.Begin()
		if err := txn.ApplyClicks(ds, now, keep, layout, nil); err != nil {
			b.Fatal(err)
		}
		mustCommit(b, txn, applied)
		applied++
	}
	for seg := range 4 { // so that the measured segments find expired buckets
		apply(seg)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		apply(4 + i)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(links), "ns/link")
	if n, err := s.Clicks(codes[links-1]); err != nil || n != uint64(2*(4+b.N)) {
		b.Fatalf("last link has %d clicks (%v), want %d", n, err, 2*(4+b.N))
	}
}
