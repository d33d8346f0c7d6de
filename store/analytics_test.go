package store

import (
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func mustClicks(t testing.TB, s *Store, d *LinkClicks, now int64, r Retention, applied uint64) {
	t.Helper()
	txn := s.Begin()
	if err := txn.AddLinkClicks(d, now, r); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn, applied)
}

// Minute, hour and day rollups agree; retention drops old minute and hour
// buckets but never days.
func TestRollupsConsistentAndRetention(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), "db")
	defer s.Close()
	txn := s.Begin()
	txn.CreateLink(testLink("abc", "https://e.test", 1))
	mustCommit(t, txn, 1)
	day0 := int64(20000) // a UTC day number
	var minutes []ClickBucket
	var total uint64
	for m := int64(0); m < 3*24*60; m += 7 { // three days, a click bucket every 7 minutes
		n := uint64(m%5 + 1)
		minutes = append(minutes, ClickBucket{T: day0*24*60 + m, N: n})
		total += n
	}
	var days []DayClicks
	for d := int64(0); d < 3; d++ {
		var n uint64
		for _, b := range minutes {
			if b.T/(24*60) == day0+d {
				n += b.N
			}
		}
		days = append(days, DayClicks{Day: day0 + d, Humans: n})
	}
	now := (day0 + 3) * DayMs
	keep := Retention{Minutes: 48 * time.Hour, Hours: 60 * time.Hour}
	mustClicks(t, s, &LinkClicks{Code: "abc", Minutes: minutes, Days: days}, now, keep, 2)

	sum := func(iv Interval, from int64) uint64 {
		a, err := s.LinkAnalytics("abc", from, now, iv)
		if err != nil {
			t.Fatal(err)
		}
		var n uint64
		for _, p := range a.Series {
			n += p.Clicks
		}
		return n
	}
	if got := sum(ByDay, day0*DayMs); got != total {
		t.Fatalf("day series sums to %d, want %d", got, total)
	}
	// Inside both retention windows, all three granularities agree.
	from := now - 48*time.Hour.Milliseconds()
	if m, h := sum(ByMinute, from), sum(ByHour, from); m != h || m == 0 {
		t.Fatalf("last 48 h: minutes %d, hours %d", m, h)
	}
	// Older fine-grained buckets are gone; days are not.
	if n := sum(ByMinute, day0*DayMs); n != sum(ByMinute, from) {
		t.Fatalf("minute buckets older than 48 h survive: %d", n)
	}
	if n := sum(ByHour, day0*DayMs); n != sum(ByHour, now-60*time.Hour.Milliseconds()) {
		t.Fatalf("hour buckets older than 60 h survive: %d", n)
	}
	if n, _ := s.Clicks("abc"); n != total {
		t.Fatalf("total %d, want %d", n, total)
	}
}

func TestDeleteLinkDeletesAnalytics(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), "db")
	defer s.Close()
	txn := s.Begin()
	l := testLink("abc", "https://e.test", 1)
	txn.CreateLink(l)
	mustCommit(t, txn, 1)
	mustClicks(t, s, &LinkClicks{Code: "abc", Minutes: []ClickBucket{{T: 100, N: 3}},
		Days: []DayClicks{{Day: 0, Humans: 3, Dims: []DimCount{{DimCountry, "DE", 3}}}}}, 100*MinuteMs, Retention{}, 2)
	txn = s.Begin()
	txn.DeleteLink(l, 5)
	mustCommit(t, txn, 3)
	a, _ := s.LinkAnalytics("abc", 0, DayMs, ByMinute)
	if n, _ := s.Clicks("abc"); n != 0 || a.Humans != 0 || len(a.Series) != 0 || len(a.Dims) != 0 {
		t.Fatalf("analytics survive the delete: total %d, %+v", n, a)
	}
	// Late clicks for a deleted link are dropped.
	mustClicks(t, s, &LinkClicks{Code: "abc", Days: []DayClicks{{Day: 0, Humans: 1}}}, 0, Retention{}, 4)
	if n, _ := s.Clicks("abc"); n != 0 {
		t.Fatal("clicks counted for a deleted link")
	}
}
