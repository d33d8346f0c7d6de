package fsm

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/store"
)

// A segment applied in parts (Clicks v3) counts every link once: a part
// proposed twice, the segment proposed again split differently (as after a
// restart of the compactor), and the whole segment once more after its
// last part change nothing; the orphans come with the last part. The
// result is what one Clicks of the whole segment gives.
func TestClicksInPartsApplyEachLinkOnce(t *testing.T) {
	const day = int64(20_000)
	m0 := day * store.DayMs / store.MinuteMs
	var codes []string
	var links []store.LinkClicks
	for i := range 10 {
		code := fmt.Sprintf("c%02d", i)
		codes = append(codes, code)
		n := uint64(i + 1)
		links = append(links, store.LinkClicks{Code: code, Minutes: []store.ClickBucket{{T: m0, N: n}},
			Days: []store.DayClicks{{Day: day, Humans: n}}})
	}
	orphans := []store.OrphanCount{{Day: day, Host: "o.test", N: 7}}
	seg := func(v uint8, more bool, ls []store.LinkClicks, os []store.OrphanCount) *Clicks {
		return &Clicks{Header: Header{V: v}, Now: (m0 + 1) * store.MinuteMs, Source: "n1/s", Segment: 4, Links: ls, Orphans: os, More: more}
	}
	run := func(cmds ...Command) (*store.Store, []*Result) {
		f, st := mustFSM(t, vfs.NewMem(), "/db")
		t.Cleanup(func() { st.Close() })
		var setup []Command
		for _, c := range codes[:9] { // c09 does not exist: its clicks are dropped
			setup = append(setup, create(c, "https://e.test", 1))
		}
		var rs []*Result
		for i, r := range f.ApplyBatch(logsFor(t, 1, append(setup, cmds...)...)) {
			if i >= len(setup) {
				rs = append(rs, r.(*Result))
			}
		}
		return st, rs
	}
	whole, _ := run(seg(2, false, links, orphans))
	parts, rs := run(
		seg(3, true, links[0:3], nil), // c00..c02
		seg(3, true, links[0:3], nil), // again: nothing new
		seg(3, true, links[0:5], nil), // split differently: c03, c04 new
		seg(3, false, links[2:], orphans),
		seg(3, false, links[2:], orphans), // the segment is done
		seg(3, true, links[0:1], nil),
		seg(2, false, links, orphans),
	)
	wantReplayed := []bool{false, true, false, false, true, true, true}
	for i, r := range rs {
		if r.Err != nil || r.Replayed != wantReplayed[i] {
			t.Errorf("command %d: %+v, want replayed=%v", i, r, wantReplayed[i])
		}
	}
	for _, code := range codes {
		w, _ := whole.Clicks(code)
		p, err := parts.Clicks(code)
		if err != nil || p != w {
			t.Errorf("%s: %d clicks from parts, %d from the whole segment (%v)", code, p, w, err)
		}
		wa, _ := whole.LinkAnalytics(code, 0, (day+1)*store.DayMs, store.ByMinute)
		pa, _ := parts.LinkAnalytics(code, 0, (day+1)*store.DayMs, store.ByMinute)
		if wa != nil && (pa == nil || pa.Humans != wa.Humans) {
			t.Errorf("%s: analytics from parts %+v, whole %+v", code, pa, wa)
		}
	}
	if n, _ := whole.Clicks("c08"); n != 9 {
		t.Fatalf("whole segment: c08 has %d clicks", n)
	}
	wo, _, _ := whole.Orphans(day, day+1)
	po, _, _ := parts.Orphans(day, day+1)
	if po != 7 || wo != 7 {
		t.Errorf("orphans: %d from parts, %d whole", po, wo)
	}
	txn := parts.Begin()
	defer txn.Abort()
	if s, code, err := txn.ClickPart("n1/s"); err != nil || s != 0 || code != "" {
		t.Errorf("segment in progress after its last part: %d %q %v", s, code, err)
	}
}
