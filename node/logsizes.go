package node

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"go.etcd.io/bbolt"
)

// logSizes is how many bytes each entry in raft.db takes, so that the log
// can be kept within a byte budget (logbudget.go). raft's own limits count
// entries, and entries differ a thousandfold: a create is ~200 bytes, a
// bulk batch of a thousand links ~120 KB. Counted, the 10,240 trailing
// entries raft keeps are 2 MB of creates or 1.2 GB of bulk batches, and
// raft.db's pages are mapped into the process (bbolt reads through mmap,
// and appending an entry rewrites the leaf that holds the previous one):
// after a 10M-link bulk load, 503 MiB of the node's RSS was raft.db.
//
// Raft's log is contiguous, so one size per index from first on is enough.
type logSizes struct {
	mu    sync.Mutex
	first uint64   // index of sizes[0]; 0 while empty
	sizes []uint32 // bytes of each entry, in index order
	total int64    // sum of sizes
}

// entryOverhead approximates what raft-boltdb's encoding of a raft.Log
// adds to its data and extensions (index, term, type, time, msgpack).
const entryOverhead = 48

func entryBytes(l *raft.Log) uint32 {
	return uint32(min(len(l.Data)+len(l.Extensions)+entryOverhead, 1<<32-1))
}

// stored records entries just written. An entry whose index does not
// follow the last one known replaces everything from its index on (a
// follower overwriting a conflicting tail), or starts over after a gap.
func (s *logSizes) stored(logs ...*raft.Log) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range logs {
		s.put(l.Index, entryBytes(l))
	}
}

func (s *logSizes) put(index uint64, size uint32) {
	switch end := s.first + uint64(len(s.sizes)); {
	case len(s.sizes) == 0 || index < s.first || index > end:
		s.reset()
		s.first = index
	case index < end:
		s.truncateFrom(index)
	}
	s.sizes = append(s.sizes, size)
	s.total += int64(size)
}

func (s *logSizes) reset() {
	s.first, s.sizes, s.total = 0, nil, 0
}

// truncateFrom forgets index and everything after it.
func (s *logSizes) truncateFrom(index uint64) {
	for _, n := range s.sizes[index-s.first:] {
		s.total -= int64(n)
	}
	s.sizes = s.sizes[:index-s.first]
}

// deleted records that the entries lo..hi (inclusive) were deleted.
func (s *logSizes) deleted(lo, hi uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sizes) == 0 || hi < s.first {
		return
	}
	end := s.first + uint64(len(s.sizes)) // one past the last
	switch {
	case lo <= s.first && hi+1 >= end:
		s.reset()
	case lo <= s.first: // the head, as raft's compaction deletes
		k := hi + 1 - s.first
		for _, n := range s.sizes[:k] {
			s.total -= int64(n)
		}
		s.sizes, s.first = s.sizes[k:], hi+1
	case hi+1 >= end && lo < end: // the tail
		s.truncateFrom(lo)
	case lo < end: // a hole in the middle: raft never makes one
		s.reset()
	}
}

// bytes returns the log's total and how much of it comes after index.
func (s *logSizes) bytes(after uint64) (total, since int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.sizes) - 1; i >= 0 && s.first+uint64(i) > after; i-- {
		since += int64(s.sizes[i])
	}
	return s.total, since
}

// keepFrom returns the first index to keep of the entries up to upto so
// that they take at most keep bytes; entries are kept whole, newest first.
// It returns upto+1 when not even the entry at upto fits, and first when
// all of them do.
func (s *logSizes) keepFrom(upto uint64, keep int64) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sizes) == 0 || upto < s.first {
		return upto + 1
	}
	i := min(upto-s.first, uint64(len(s.sizes)-1))
	for ; ; i-- {
		if keep -= int64(s.sizes[i]); keep < 0 {
			return s.first + i + 1
		}
		if i == 0 {
			return s.first
		}
	}
}

// raftBoltLogs is the bucket raft-boltdb keeps entries in, keyed by their
// index in big-endian (raft-boltdb v2's layout; TestLogSizesSeedFromFile
// fails if it changes).
var raftBoltLogs = []byte("logs")

// seed reads the size of every entry already in the raft.db at path, before
// raft-boltdb opens it: only the leaf pages are read, not the entries.
func (s *logSizes) seed(path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset()
	return db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(raftBoltLogs)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return errors.New("node: raft.db: an entry's key is not an index")
			}
			s.put(binary.BigEndian.Uint64(k), uint32(min(len(v), 1<<32-1)))
			return nil
		})
	})
}
