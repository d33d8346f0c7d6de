package store

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// The block cache keeps blocks while the memtables hold their largest
// reservation. Pebble reserves each memtable's size (and each large batch
// applied as a flushable) from the block cache; sized at BlockCacheBytes
// alone, two full 64 MiB memtables left a 128 MiB cache no room for a
// single block, and every read loaded its blocks from the file. The test
// takes the memtables' full share the way Pebble does, then reads the same
// keys twice from an SSTable: the second pass must hit the cache.
func TestBlockCacheKeepsBlocksBesideFullMemtables(t *testing.T) {
	s, err := Open(t.TempDir(), Options{BlockCacheBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := s.cache.Reserve(memTables * memTableBytes)
	defer release()
	key := func(i int) []byte { return []byte(fmt.Sprintf("zcache-test-%05d", i)) }
	err = s.view(func(db *pebble.DB) error {
		for i := range 2000 {
			if err := db.Set(key(i), []byte("value"), pebble.NoSync); err != nil {
				return err
			}
		}
		if err := db.Flush(); err != nil {
			return err
		}
		before := db.Metrics().BlockCache
		for range 2 {
			for i := range 2000 {
				if _, err := get(db, key(i)); err != nil {
					return fmt.Errorf("key %d: %w", i, err)
				}
			}
		}
		after := db.Metrics().BlockCache
		if hits := after.Hits - before.Hits; hits < 2000 {
			t.Errorf("block cache hits over 4,000 reads of one SSTable's keys: %d (misses %d, %d blocks cached); want at least the second pass's 2,000",
				hits, after.Misses-before.Misses, after.Count)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
