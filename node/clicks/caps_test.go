package clicks

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/store"
)

// An attacker sends 3,000 distinct referrer hosts to one link, 50 junk
// referrers and 3,000 distinct Host headers for unknown codes, through the
// whole pipeline (recorder, segment file, compactor, proposal, fsm apply on
// Pebble): the link keeps at most 101 referrer rows (100 hosts and
// "(other)"), the junk counts as one "(invalid)" value, the orphan hosts
// are capped alike, and every total still adds up.
func TestCardinalityCapsThroughPipeline(t *testing.T) {
	st, propose := applyingStore(t, nil)
	mustPropose(t, propose, &fsm.CreateLink{Now: 1, Code: "abc", URL: "https://e.test", Owner: 1, RedirectStatus: 302})
	dir := t.TempDir()
	cfg := Config{Dir: dir, Source: "n1/x", Store: st, Lag: time.Hour, Logger: quiet}
	comp := &Compactor{dir: dir, source: cfg.Source, st: st, propose: propose, log: quiet}
	rec, err := NewRecorder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	const hosts, junk = 3000, 50
	event := func(i int, kind uint8) *Event {
		e := &Event{TimeMs: now, Kind: kind}
		e.SetUserAgent([]byte("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"))
		e.IP = netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}).As16()
		return e
	}
	for i := range hosts + junk {
		e := event(i, KindClick)
		e.SetCode([]byte("abc"))
		if i < hosts {
			e.SetReferer(fmt.Appendf(nil, "https://site%d.example/page", i))
		} else {
			e.SetReferer(fmt.Appendf(nil, "https://<junk%d>/", i))
		}
		rec.Record(e)
		o := event(i, KindOrphan)
		o.SetCode([]byte("nope"))
		o.SetHost(fmt.Appendf(nil, "Host%d.Example:8080", i))
		rec.Record(o)
	}
	rec.Close() // seals
	if rec.Dropped() != 0 {
		t.Fatalf("%d events dropped", rec.Dropped())
	}
	comp.Pass(context.Background())

	day := now / store.DayMs
	refs, err := st.LinkDimension("abc", store.DimReferrer, day, day+1)
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	byKey := map[string]uint64{}
	for _, kc := range refs {
		sum += kc.Count
		byKey[kc.Key] = kc.Count
	}
	if len(refs) > store.MaxDimValues+1 || sum != hosts+junk {
		t.Fatalf("%d referrer rows summing to %d; want at most %d rows summing to %d", len(refs), sum, store.MaxDimValues+1, hosts+junk)
	}
	if byKey[store.OtherValue] == 0 || byKey[InvalidHost] > junk {
		t.Fatalf("(other) %d, (invalid) %d", byKey[store.OtherValue], byKey[InvalidHost])
	}
	if n, _ := st.Clicks("abc"); n != hosts+junk {
		t.Fatalf("total %d, want %d", n, hosts+junk)
	}
	total, top, err := st.Orphans(day, day+1)
	if err != nil || total != hosts+junk || len(top) == 0 || top[0].Key != store.OtherValue || top[0].Count != hosts+junk-store.MaxDimValues {
		t.Fatalf("orphans: total %d, top %v (%v)", total, top, err)
	}
}
