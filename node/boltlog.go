package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// boltLog is raft's log and stable store: raft-boltdb's BoltStore behind a
// lock, so that Compact can replace the file under raft. bbolt never zeroes
// a freed page, so entries raft deleted (old link writes, profiles) stay
// readable in raft.db until their pages are reused; Compact copies the live
// contents into a new file and renames it over the old one.
type boltLog struct {
	path string
	mu   sync.RWMutex
	db   *raftboltdb.BoltStore // nil only if a Compact could not reopen the file
	// sizes follows what the file holds (logsizes.go), for the log's
	// byte budget (logbudget.go).
	sizes logSizes
	// watch, unless nil, is told the log's bytes after every write. Set
	// before raft starts.
	watch func(total int64)
}

var errBoltClosed = errors.New("node: raft log store is not open")

func boltOptions(path string) raftboltdb.Options {
	return raftboltdb.Options{Path: path, BoltOptions: &bbolt.Options{Timeout: time.Second, NoFreelistSync: true}}
}

func openBoltLog(path string) (*boltLog, error) {
	b := &boltLog{path: path}
	if err := b.sizes.seed(path); err != nil {
		return nil, err
	}
	db, err := raftboltdb.New(boltOptions(path))
	if err != nil {
		return nil, err
	}
	b.db = db
	return b, nil
}

// with runs fn on the open store under the read lock.
func (b *boltLog) with(fn func(*raftboltdb.BoltStore) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.db == nil {
		return errBoltClosed
	}
	return fn(b.db)
}

func (b *boltLog) FirstIndex() (i uint64, err error) {
	err = b.with(func(db *raftboltdb.BoltStore) error { i, err = db.FirstIndex(); return err })
	return i, err
}

func (b *boltLog) LastIndex() (i uint64, err error) {
	err = b.with(func(db *raftboltdb.BoltStore) error { i, err = db.LastIndex(); return err })
	return i, err
}

func (b *boltLog) GetLog(index uint64, l *raft.Log) error {
	return b.with(func(db *raftboltdb.BoltStore) error { return db.GetLog(index, l) })
}

func (b *boltLog) StoreLog(l *raft.Log) error {
	return b.StoreLogs([]*raft.Log{l})
}

func (b *boltLog) StoreLogs(logs []*raft.Log) error {
	err := b.with(func(db *raftboltdb.BoltStore) error { return db.StoreLogs(logs) })
	if err == nil {
		b.sizes.stored(logs...)
		if b.watch != nil {
			total, _ := b.sizes.bytes(^uint64(0))
			b.watch(total)
		}
	}
	return err
}

func (b *boltLog) DeleteRange(lo, hi uint64) error {
	err := b.with(func(db *raftboltdb.BoltStore) error { return db.DeleteRange(lo, hi) })
	if err == nil {
		b.sizes.deleted(lo, hi)
	}
	return err
}

func (b *boltLog) Set(k, v []byte) error {
	return b.with(func(db *raftboltdb.BoltStore) error { return db.Set(k, v) })
}

func (b *boltLog) Get(k []byte) (v []byte, err error) {
	err = b.with(func(db *raftboltdb.BoltStore) error { v, err = db.Get(k); return err })
	return v, err
}

func (b *boltLog) SetUint64(k []byte, v uint64) error {
	return b.with(func(db *raftboltdb.BoltStore) error { return db.SetUint64(k, v) })
}

func (b *boltLog) GetUint64(k []byte) (v uint64, err error) {
	err = b.with(func(db *raftboltdb.BoltStore) error { v, err = db.GetUint64(k); return err })
	return v, err
}

// Close closes the file.
func (b *boltLog) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.db == nil {
		return nil
	}
	err := b.db.Close()
	b.db = nil
	return err
}

// Compact rewrites raft.db with only its live pages: it closes the store
// (raft's calls wait on the lock meanwhile: milliseconds, the log having
// just been truncated), copies every bucket into raft.db.compact with
// bbolt.Compact, syncs it, renames it over raft.db, syncs the directory
// and reopens. A failure before the rename leaves the old file in place.
func (b *boltLog) Compact() (before, after int64, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.db == nil {
		return 0, 0, errBoltClosed
	}
	if err := b.db.Close(); err != nil {
		return 0, 0, err
	}
	b.db = nil
	if fi, err := os.Stat(b.path); err == nil {
		before = fi.Size()
	}
	cerr := b.copyLive()
	db, err := raftboltdb.New(boltOptions(b.path))
	if err != nil {
		return before, 0, fmt.Errorf("node: reopen raft log after compaction: %w", errors.Join(cerr, err))
	}
	b.db = db
	if fi, err := os.Stat(b.path); err == nil {
		after = fi.Size()
	}
	return before, after, cerr
}

func (b *boltLog) copyLive() error {
	tmp := b.path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	src, err := bbolt.Open(b.path, 0o600, &bbolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: time.Second, NoFreelistSync: true})
	if err != nil {
		return err
	}
	err = bbolt.Compact(dst, src, 0) // every transaction commits with an fsync
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, b.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("node: compact raft log: %w", err)
	}
	return syncDir(filepath.Dir(b.path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
