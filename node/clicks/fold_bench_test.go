package clicks

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkFold measures the compactor's fold alone: 50,000 records of one
// 5 s segment, in time order, over 1,000 or 100,000 links (uniform), with
// 20 browsers and a visitor hash each. Reported: ns per record, and the
// bytes and allocations of one whole fold (B/op, allocs/op).
func BenchmarkFold(b *testing.B) {
	for _, links := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("links=%d", links), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).UnixMilli()
			const n = 50000
			recs := make([][]byte, n)
			for i := range recs {
				rec := record{timeMs: t0 + int64(i)*5000/n, kind: KindClick, class: ClassHuman,
					code: fmt.Appendf(nil, "c%06d", r.IntN(links)), country: []byte("DE"),
					device: []byte("desktop"), browser: fmt.Appendf(nil, "Firefox %d", i%20), os: []byte("Linux"),
					refHost: []byte("www.google.com"), visitor: r.Uint64() | 1}
				recs[i] = rec.appendTo(nil)
			}
			c := &Compactor{log: quiet}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := c.foldRecords(func(fn func([]byte)) error {
					for _, rec := range recs {
						fn(rec)
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}
