package node

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
)

func sizedLogs(first uint64, sizes ...int) []*raft.Log {
	var logs []*raft.Log
	for i, n := range sizes {
		logs = append(logs, &raft.Log{Index: first + uint64(i), Term: 1, Type: raft.LogCommand, Data: make([]byte, n-entryOverhead)})
	}
	return logs
}

func TestLogSizesFollowTheLog(t *testing.T) {
	var s logSizes
	check := func(what string, first uint64, sizes ...uint32) {
		t.Helper()
		var total int64
		for _, n := range sizes {
			total += int64(n)
		}
		if s.first != first || fmt.Sprint(s.sizes) != fmt.Sprint(sizes) || s.total != total {
			t.Fatalf("%s: first %d sizes %v total %d; want %d %v %d", what, s.first, s.sizes, s.total, first, sizes, total)
		}
	}
	s.stored(sizedLogs(5, 100, 200, 300, 400)...)
	check("appended", 5, 100, 200, 300, 400)
	s.deleted(1, 6) // raft's compaction: the head, from before the first
	check("head deleted", 7, 300, 400)
	s.stored(sizedLogs(8, 50, 60)...) // a follower overwriting a conflicting tail
	check("tail overwritten", 7, 300, 50, 60)
	s.deleted(9, 20)
	check("tail deleted", 7, 300, 50)
	s.stored(sizedLogs(20, 70)...) // not contiguous: a restored snapshot's fresh log
	check("gap", 20, 70)
	s.deleted(1, 100)
	check("all deleted", 0)
	s.stored(sizedLogs(1, 100, 100, 100, 100)...)
	if _, since := s.bytes(2); since != 200 {
		t.Fatalf("bytes after 2: %d, want 200", since)
	}
	// keepFrom: entries up to 3 (100 each) within keep bytes, whole.
	for _, c := range []struct {
		keep int64
		want uint64
	}{{300, 1}, {299, 2}, {200, 2}, {100, 3}, {99, 4}, {0, 4}, {1000, 1}} {
		if got := s.keepFrom(3, c.keep); got != c.want {
			t.Fatalf("keepFrom(3, %d) = %d, want %d", c.keep, got, c.want)
		}
	}
}

// The sizes are read back from raft.db on open, through raft-boltdb's
// bucket and key layout: this fails if a raft-boltdb release changes it.
func TestLogSizesSeedFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	b, err := openBoltLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.StoreLogs(sizedLogs(3, 1000, 50000, 200)); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteRange(3, 3); err != nil {
		t.Fatal(err)
	}
	written := append([]uint32(nil), b.sizes.sizes...)
	b.Close()
	b, err = openBoltLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.sizes.first != 4 || len(b.sizes.sizes) != 2 {
		t.Fatalf("seeded first %d, %d entries; want 4, 2", b.sizes.first, len(b.sizes.sizes))
	}
	for i, n := range b.sizes.sizes {
		// The file holds the encoded entry; written counts the data and an
		// estimate of the encoding.
		if d := int(n) - int(written[i]); d < -entryOverhead || d > entryOverhead {
			t.Fatalf("entry %d: %d bytes in the file, %d counted when written", 4+i, n, written[i])
		}
	}
}
