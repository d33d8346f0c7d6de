package store

import (
	"slices"
	"testing"
)

// MakeRoomForPurges before n enqueues leaves the queue and its counters
// exactly as n EnqueuePurge calls alone do (one drop each once full), with
// fewer or more new entries than the cap, and in one raft entry or over
// several.
func TestMakeRoomForPurgesMatchesOneAtATime(t *testing.T) {
	const max = 50
	for _, c := range []struct {
		name    string
		batches []int // entries per Txn
	}{
		{"fill then overflow by some", []int{50, 30}},
		{"overflow in one entry", []int{70}},
		{"more new than the cap", []int{20, 80}},
		{"many small entries", []int{40, 5, 5, 5, 5, 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := func(batched bool) ([]Pos, OutboxHead) {
				s, err := Open(t.TempDir(), Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				index := uint64(0)
				for _, n := range c.batches {
					index++
					txn := s.Begin()
					h, err := txn.OutboxHead()
					if err != nil {
						t.Fatal(err)
					}
					if batched {
						if err := txn.MakeRoomForPurges(h, n, max); err != nil {
							t.Fatal(err)
						}
					}
					for i := range n {
						if err := txn.EnqueuePurge(h, Pos{Index: index, Seq: uint16(i)}, &Change{Kind: ChangeLinkCreated, Code: "c"}, max); err != nil {
							t.Fatal(err)
						}
					}
					txn.PutOutboxHead(h)
					if err := txn.Commit(index); err != nil {
						t.Fatal(err)
					}
				}
				ps, _, err := s.Purges(1000)
				if err != nil {
					t.Fatal(err)
				}
				txn := s.Begin()
				defer txn.Abort()
				h, err := txn.OutboxHead()
				if err != nil {
					t.Fatal(err)
				}
				return ps, *h
			}
			wantPs, wantH := run(false)
			gotPs, gotH := run(true)
			if !slices.Equal(gotPs, wantPs) || gotH != wantH {
				t.Fatalf("with MakeRoomForPurges: %d entries %v..., head %+v; one at a time: %d entries %v..., head %+v",
					len(gotPs), gotPs[:min(3, len(gotPs))], gotH, len(wantPs), wantPs[:min(3, len(wantPs))], wantH)
			}
			if uint64(len(wantPs)) != wantH.Purges || wantH.Purges > max {
				t.Fatalf("%d entries stored, head says %d (cap %d)", len(wantPs), wantH.Purges, max)
			}
		})
	}
}
