package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/axiomhq/hyperloglog"
)

// BenchmarkLinkAnalytics90Days queries one link with 1M clicks spread over
// 90 days (every hour of every day has clicks; 20 referrers, 50 countries,
// 3 devices, 10 browsers, 8 OSes and a visitor sketch per day), on a real
// on-disk Pebble: the report the API builds for a 90-day, per-day view.
func BenchmarkLinkAnalytics90Days(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	txn := s.Begin()
	txn.CreateLink(testLink("abc", "https://e.test", 1))
	mustCommit(b, txn, 1)
	const days, clicks = 90, 1_000_000
	day0 := time.Now().UnixMilli()/DayMs - days
	perHour := uint64(clicks / (days * 24))
	for d := int64(0); d < days; d++ {
		lc := LinkClicks{Code: "abc"}
		for h := int64(0); h < 24; h++ {
			lc.Minutes = append(lc.Minutes, ClickBucket{T: ((day0+d)*24 + h) * 60, N: perHour})
		}
		dc := DayClicks{Day: day0 + d, Humans: perHour * 24 * 9 / 10, Bots: perHour * 24 / 10}
		for dim, n := range map[uint8]int{DimReferrer: 20, DimCountry: 50, DimDevice: 3, DimBrowser: 10, DimOS: 8} {
			for i := range n {
				dc.Dims = append(dc.Dims, DimCount{Dim: dim, Key: fmt.Sprintf("value-%d", i), N: perHour * 24 / uint64(n)})
			}
		}
		sk := hyperloglog.New14()
		for v := range 5000 {
			sk.InsertHash(uint64(d)<<32 | uint64(v)*0x9e3779b97f4a7c15)
		}
		dc.Visitors, _ = sk.MarshalBinary()
		lc.Days = []DayClicks{dc}
		txn := s.Begin()
		if err := txn.AddLinkClicks(&lc, (day0+days)*DayMs, Retention{}); err != nil {
			b.Fatal(err)
		}
		mustCommit(b, txn, uint64(d+2))
	}
	from, to := day0*DayMs, (day0+days+1)*DayMs
	if n, _ := s.Clicks("abc"); n < clicks*9/10 {
		b.Fatalf("only %d clicks stored", n)
	}
	b.ReportAllocs()
	for b.Loop() {
		a, err := s.LinkAnalytics("abc", from, to, ByDay)
		if err != nil || len(a.Series) != days {
			b.Fatalf("%d points, %v", len(a.Series), err)
		}
	}
}
