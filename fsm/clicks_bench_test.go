package fsm

import (
	"fmt"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/axiomhq/hyperloglog"
	"github.com/hashicorp/raft"

	"github.com/linkd/linkd/store"
)

// BenchmarkApplyClicks applies click segments (one Clicks command each, as
// the compactor proposes them) with 1, 1,000 and 100,000 distinct links, on
// a real on-disk Pebble store. Every link has a click in the segment's
// minute (a new minute bucket per segment), a day record with five
// dimensions and a visitor sketch. Retention is short (3 minutes, 2 hours)
// so that from the fourth segment on every link also has an expired minute
// bucket to prune: the cost of retention is in the figure. Reported per
// segment and per link; applying a segment must cost the same per link
// whatever the number of links. v=1 is the field layout (a key per field),
// v=2 the per-day record (Clicks version 2), v=4 the same with the deltas
// packed (Clicks version 4: encode and decode without reflection).
func BenchmarkApplyClicks(b *testing.B) {
	for _, n := range []int{1, 1000, 100_000} {
		for _, v := range []uint8{1, 2, 4} {
			b.Run(fmt.Sprintf("links=%d/v=%d", n, v), func(b *testing.B) { benchApplyClicks(b, n, v) })
		}
	}
}

func benchApplyClicks(b *testing.B, links int, version uint8) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(b.TempDir(), store.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	f, err := New(st, log)
	if err != nil {
		b.Fatal(err)
	}
	var index uint64
	apply := func(cs ...Command) {
		logs := make([]*raft.Log, len(cs))
		for i, c := range cs {
			data, err := Encode(c)
			if err != nil {
				b.Fatal(err)
			}
			index++
			logs[i] = &raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: data}
		}
		for i, r := range f.ApplyBatch(logs) {
			if err := r.(*Result).Err; err != nil {
				b.Fatalf("command %d: %v", i, err)
			}
		}
	}
	codes := make([]string, links)
	for i := range codes {
		codes[i] = fmt.Sprintf("c%07d", i)
	}
	for lo := 0; lo < links; lo += 1000 {
		var cs []Command
		for _, code := range codes[lo:min(lo+1000, links)] {
			cs = append(cs, &CreateLink{Now: 1, Code: code, URL: "https://e.test/", Owner: 1, RedirectStatus: 302})
		}
		apply(cs...)
	}
	sk := hyperloglog.New14()
	sk.InsertHash(0x9e3779b97f4a7c15)
	visitors, _ := sk.MarshalBinary()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	keep := store.Retention{Minutes: 3 * time.Minute, Hours: 2 * time.Hour}
	segment := func(seg int) *Clicks {
		now := t0 + int64(seg)*store.MinuteMs
		c := &Clicks{Header: Header{V: version}, Now: now, Source: "bench/1", Segment: uint64(seg + 1), Retention: keep}
		for _, code := range codes {
			c.Links = append(c.Links, store.LinkClicks{Code: code,
				Minutes: []store.ClickBucket{{T: now / store.MinuteMs, N: 2}},
				Days: []store.DayClicks{{Day: now / store.DayMs, Humans: 2, Visitors: visitors, Dims: []store.DimCount{
					{Dim: store.DimReferrer, Key: "t.co", N: 2}, {Dim: store.DimCountry, Key: "DE", N: 2},
					{Dim: store.DimDevice, Key: "mobile", N: 2}, {Dim: store.DimBrowser, Key: "Safari", N: 2},
					{Dim: store.DimOS, Key: "iOS", N: 2}}}}})
		}
		return c
	}
	// Four segments first, so that the measured ones find expired buckets.
	for seg := range 4 {
		apply(segment(seg))
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		b.StopTimer()
		c := segment(4 + i)
		b.StartTimer()
		apply(c)
	}
	b.StopTimer()
	// CPU time (of the whole process: Pebble's background work included)
	// besides wall time: the machine these run on is shared.
	cpu := float64(cpuTime()-cpu0) / float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(links), "ns/link")
	b.ReportMetric(cpu/float64(links), "cpu-ns/link")
	// The raft entry's size per link: what the log, its cache and the
	// followers carry.
	if data, err := Encode(segment(0)); err == nil {
		b.ReportMetric(float64(len(data))/float64(links), "entry-B/link")
	}
	if n, err := st.Clicks(codes[links-1]); err != nil || n != uint64(2*(4+b.N)) {
		b.Fatalf("last link has %d clicks (%v), want %d", n, err, 2*(4+b.N))
	}
}

// cpuTime is the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkClicksCodec encodes, peeks at (as a leader checks a proposal)
// and decodes one part of a segment: 1,000 links with a minute, a day of
// five dimensions and a visitor sketch each, at version 3 (msgpack fields)
// and version 4 (packed). Reported per link.
func BenchmarkClicksCodec(b *testing.B) {
	sk := hyperloglog.New14()
	sk.InsertHash(0x9e3779b97f4a7c15)
	visitors, _ := sk.MarshalBinary()
	for _, v := range []uint8{3, 4} {
		b.Run(fmt.Sprintf("v=%d", v), func(b *testing.B) {
			c := &Clicks{Header: Header{V: v}, Now: 1, Source: "bench/1", Segment: 1}
			for i := range 1000 {
				c.Links = append(c.Links, store.LinkClicks{Code: fmt.Sprintf("c%07d", i),
					Minutes: []store.ClickBucket{{T: 29000000, N: 2}},
					Days: []store.DayClicks{{Day: 20000, Humans: 2, Visitors: visitors, Dims: []store.DimCount{
						{Dim: store.DimReferrer, Key: "t.co", N: 2}, {Dim: store.DimCountry, Key: "DE", N: 2},
						{Dim: store.DimDevice, Key: "mobile", N: 2}, {Dim: store.DimBrowser, Key: "Safari", N: 2},
						{Dim: store.DimOS, Key: "iOS", N: 2}}}}})
			}
			b.ReportAllocs()
			for range b.N {
				data, err := Encode(c)
				if err == nil {
					err = Check(data)
				}
				if err == nil {
					_, err = Decode(data)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/link")
		})
	}
}
