package fsm

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/store"
)

// clicksWorkload is click segments whose applies prune expired buckets
// written by earlier segments, fill and overflow dimension caps and orphan
// caps, and interleave with a link's deletion.
func clicksWorkload() []Command {
	cmds := []Command{create("a", "https://a.test", 1), create("b", "https://b.test", 1), create("c", "https://c.test", 1)}
	keep := store.Retention{Minutes: 10 * time.Minute, Hours: 3 * time.Hour}
	m0 := int64(29_000_000) // a Unix minute
	for seg := range int64(12) {
		now := (m0 + seg*7) * store.MinuteMs
		c := &Clicks{Now: now, Source: "n1/x", Segment: uint64(seg + 1), Retention: keep}
		for i, code := range []string{"a", "b", "c"} {
			if (seg+int64(i))%3 == 0 {
				continue // not every link in every segment
			}
			d := store.DayClicks{Day: now / store.DayMs, Humans: 40}
			for v := range 40 {
				d.Dims = append(d.Dims, store.DimCount{Dim: store.DimReferrer, Key: fmt.Sprintf("r%d-%d.test", seg, v), N: 1})
			}
			c.Links = append(c.Links, store.LinkClicks{Code: code, Days: []store.DayClicks{d},
				Minutes: []store.ClickBucket{{T: now/store.MinuteMs - 1, N: 15}, {T: now / store.MinuteMs, N: 25}}})
		}
		for v := range 30 {
			c.Orphans = append(c.Orphans, store.OrphanCount{Day: now / store.DayMs, Host: fmt.Sprintf("h%d-%d.test", seg, v), N: 1})
		}
		cmds = append(cmds, c)
		if seg == 6 {
			cmds = append(cmds, &DeleteLink{Now: now, Code: "b", Actor: 1})
		}
	}
	return cmds
}

// Applying clicks depends only on state and command: every split of the
// log into raft batches (which differs between nodes and across restarts)
// gives the same state, byte for byte.
func TestClicksDeterministicAcrossBatchSplits(t *testing.T) {
	logs := logsFor(t, 1, clicksWorkload()...)
	fs := vfs.NewMem()
	var want []byte
	for _, size := range []int{1, 2, 5, len(logs)} {
		f, st := mustFSM(t, fs, fmt.Sprintf("s%d", size))
		applyInBatches(f, logs, size)
		got := snapshotOf(t, st)
		if want == nil {
			want = got
			refs, err := st.LinkDimension("a", store.DimReferrer, 0, 1<<40)
			if err != nil || len(refs) != store.MaxDimValues+1 {
				t.Fatalf("%d referrer rows (%v): the workload must overflow the cap", len(refs), err)
			}
		} else if !bytes.Equal(got, want) {
			t.Fatalf("batch size %d gives a different state", size)
		}
		st.Close()
	}
}
