package clicks

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/store"
)

// BenchmarkIngest measures one node's click pipeline end to end: events
// enqueued as the redirect path does, enriched and written to segment files
// by the recorder, sealed, folded by the compactor and applied to a real
// Pebble store through the fsm (raft itself is left out). Events are a mix
// of 1,000 links, 20 User-Agents and 5,000 addresses. Reported: events/s.
func BenchmarkIngest(b *testing.B) {
	st, err := store.Open(b.TempDir(), store.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	f, _ := fsm.New(st, quiet)
	var index uint64
	propose := func(_ context.Context, c fsm.Command) (*fsm.Result, error) {
		index++
		bs, _ := fsm.Encode(c)
		r := f.ApplyBatch(rafted(index, bs))[0].(*fsm.Result)
		return r, r.Err
	}
	codes := make([][]byte, 1000)
	for i := range codes {
		codes[i] = []byte(string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + "code")
		propose(context.Background(), &fsm.CreateLink{Now: 1, Code: string(codes[i]), URL: "https://e.test", Owner: 1, RedirectStatus: 302})
	}
	uas := [][]byte{
		[]byte("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"),
		[]byte("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"),
		[]byte("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
		[]byte("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"),
	}
	for i := range 16 {
		uas = append(uas, []byte("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/12"+string(rune('0'+i%10))+".0"))
	}
	dir := b.TempDir()
	cfg := Config{Dir: dir, Source: "bench/1", Store: st, Lag: time.Hour, HonorDNT: true, Logger: quiet}
	comp := &Compactor{dir: dir, source: cfg.Source, st: st, propose: propose, log: quiet}
	comp.ensureSalts()
	b.ResetTimer()
	start := time.Now()
	rec, err := NewRecorder(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var e Event
	for i := 0; i < b.N; i++ {
		e = Event{TimeMs: time.Now().UnixMilli(), Kind: KindClick}
		e.SetCode(codes[i%len(codes)])
		e.SetUserAgent(uas[i%len(uas)])
		e.SetReferer([]byte("https://www.google.com/search?q=x"))
		e.IP = netip.AddrFrom4([4]byte{81, byte(i % 50), byte(i % 100), 1}).As16()
		for len(rec.ch) == cap(rec.ch) { // measure throughput, not drops
			time.Sleep(time.Microsecond)
		}
		rec.Record(&e)
	}
	rec.Close()
	comp.Pass(context.Background())
	elapsed := time.Since(start)
	b.StopTimer()
	if rec.Dropped() != 0 || len(sealedSegments(dir)) != 0 {
		b.Fatalf("dropped %d, %d segments left", rec.Dropped(), len(sealedSegments(dir)))
	}
	var total uint64
	for _, c := range codes {
		n, _ := st.Clicks(string(c))
		total += n
	}
	a, _ := st.LinkAnalytics(string(codes[0]), 0, time.Now().Add(time.Hour).UnixMilli(), store.ByDay)
	if want := uint64(b.N); total+a.Previews*uint64(len(codes)) < want*9/10 {
		b.Fatalf("counted %d of %d", total, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
