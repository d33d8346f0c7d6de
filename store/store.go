package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("store: not found")

// formatVersion pins Pebble's on-disk format so that upgrading the library
// never silently ratchets the format of existing data.
const formatVersion = pebble.FormatValueSeparation

// bloomBitsPerKey sizes the bloom filters kept on every level: 10 bits per
// key gives a ~1% false-positive rate, so point reads of unknown codes
// (scanners) rarely touch a data block.
const bloomBitsPerKey = 10

// DefaultBlockCacheBytes is the default size of Pebble's block cache (its
// own default is 8 MiB). Applying a click segment reads a handful of keys
// per link (day counts, dimensions, totals, the link itself); with a cache
// smaller than that working set nearly every read loads and decompresses
// a block.
const DefaultBlockCacheBytes = 128 << 20

// memTableBytes is Pebble's memtable size (its default is 4 MiB). Up to
// memTables of them are held (one filling while another flushes): 128 MiB
// at most, within the RSS goal.
const (
	memTableBytes = 64 << 20
	memTables     = 2 // Pebble's MemTableStopWritesThreshold (its default)
)

// newCache returns a cache whose blocks get blockCacheBytes. Pebble
// reserves every memtable's size (and every large batch applied as a
// flushable) from its block cache: a 128 MiB cache shared with two 64 MiB
// memtables held no block at all, and every read loaded, checksummed and
// decompressed its index, filter and data blocks from the file (59% of a
// 10M-link bulk load's CPU; a 100,000-link click segment cost 167 µs per
// link instead of 36). The memtables' share is therefore added on top.
func newCache(blockCacheBytes int64) *pebble.Cache {
	return pebble.NewCache(blockCacheBytes + memTables*memTableBytes)
}

// DefaultHotSetBytes is the default hot-set size. fastcache rounds up to its
// minimum of 32 MiB.
const DefaultHotSetBytes = 64 << 20

// currentFile names the live database directory. Restores build a new
// directory and switch this file atomically, so a crash leaves either the old
// or the new state, never a mix.
const currentFile = "CURRENT"

// Options configure a Store.
type Options struct {
	HotSetBytes int
	// BlockCacheBytes sizes Pebble's block cache; 0 means
	// DefaultBlockCacheBytes.
	BlockCacheBytes int64
	Logger          *slog.Logger
	// FS is the filesystem; nil means the real one. Tests use Pebble's
	// crashable in-memory FS to drop everything that was not synced.
	FS vfs.FS
	// OnErase, when set, is called (from the fsm's goroutine) before a Txn
	// that erases a user (DeleteUser) is written, with the raft index the
	// Txn commits, and before a restore replaces the state, with 0: node
	// records there, durably, that its disk must be scrubbed (scrub.go),
	// so a crash right after the erase cannot skip it.
	OnErase func(index uint64)
}

// Store is linkd's replicated state on one node. Reads are safe for
// concurrent use; writes go through Txn, which only the fsm uses.
type Store struct {
	dir     string
	fs      vfs.FS
	log     *slog.Logger
	hot     *HotSet
	domains domainState    // the configured domains, swapped on change
	snaps   sync.WaitGroup // open snapshots; a restore waits for them
	mu      sync.RWMutex   // guards db against the swap in Restore
	db      *pebble.DB
	dbName  string

	cache          *pebble.Cache // shared by the databases a restore swaps; released by Close
	missReads      atomic.Uint64 // Pebble reads made for hot-set misses
	certs          notifier      // wakes readers of the certificate table
	domainsChanged notifier      // wakes readers of the domain set
	feeds          notifier      // wakes readers of the feed table
	destLists      destListSet   // which destination indexes may hold entries (derived.go)
	purgeFloor     []byte        // the purge queue's lowest possibly live key (derived.go)
	accountsGen    atomic.Uint64 // see AccountsGen
	onErase        func(uint64)  // Options.OnErase
	// Test hooks: called by a miss before its Pebble read, and by a miss
	// that joins another's read.
	readHook, joinHook func()
}

// Open opens (or creates) the store under dir.
func Open(dir string, o Options) (*Store, error) {
	if o.HotSetBytes == 0 {
		o.HotSetBytes = DefaultHotSetBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.BlockCacheBytes == 0 {
		o.BlockCacheBytes = DefaultBlockCacheBytes
	}
	s := &Store{dir: dir, fs: o.FS, log: o.Logger, hot: newHotSet(o.HotSetBytes), cache: newCache(o.BlockCacheBytes),
		onErase: o.OnErase}
	opened := false
	defer func() {
		if !opened {
			s.cache.Unref()
		}
	}()
	if err := s.mkdir(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	name, err := s.readCurrent()
	if err != nil {
		return nil, err
	}
	if err := s.removeStale(name); err != nil {
		return nil, err
	}
	db, err := s.openDB(name)
	if err != nil {
		return nil, err
	}
	s.db, s.dbName = db, name
	if err := s.loadDerived(); err != nil {
		_ = db.Close()
		return nil, err
	}
	opened = true
	return s, nil
}

func (s *Store) pebbleOptions() *pebble.Options {
	o := &pebble.Options{
		FormatMajorVersion: formatVersion,
		Cache:              s.cache,
		Logger:             pebbleLogger{s.log},
		FS:                 s.fs,
		// A write-heavy load (bulk creates, click segments) with Pebble's
		// 4 MiB default flushes a small L0 file every few raft batches;
		// every point read then checks each of them (bench/scale).
		MemTableSize:                memTableBytes,
		MemTableStopWritesThreshold: memTables,
		// Obsolete WALs are deleted, never recycled: a recycled WAL keeps
		// erased bytes past the new writes (scrub.go).
		Cleaner: noRecycleCleaner{},
		// Every version edit (flush, compaction) starts a new MANIFEST,
		// written as a snapshot of the live files only, so a deleted key
		// that bounded an old SSTable leaves the manifest within two edits
		// (Scrub makes them). The snapshot is small (one record per live
		// file); the default 128 MiB kept such keys for months.
		MaxManifestFileSize: 1,
	}
	for i := range o.Levels {
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(bloomBitsPerKey)
	}
	return o
}

func (s *Store) openDB(name string) (*pebble.DB, error) {
	db, err := pebble.Open(s.fs.PathJoin(s.dir, name), s.pebbleOptions())
	if err != nil {
		return nil, fmt.Errorf("store: open pebble %s: %w", name, err)
	}
	return db, nil
}

// readCurrent returns the live directory name, creating CURRENT on first use.
func (s *Store) readCurrent() (string, error) {
	f, err := s.fs.Open(s.fs.PathJoin(s.dir, currentFile))
	if errors.Is(err, fs.ErrNotExist) {
		const first = "db-000001"
		return first, s.writeCurrent(first)
	}
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return "", fmt.Errorf("store: read %s: %w", currentFile, err)
	}
	name := strings.TrimSpace(string(b))
	if !strings.HasPrefix(name, "db-") || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("store: bad %s %q", currentFile, name)
	}
	return name, nil
}

// writeCurrent atomically points CURRENT at name.
func (s *Store) writeCurrent(name string) error {
	tmp := s.fs.PathJoin(s.dir, currentFile+".tmp")
	f, err := s.fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	_, err = f.Write([]byte(name + "\n"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.fs.Rename(tmp, s.fs.PathJoin(s.dir, currentFile))
	}
	if err == nil {
		err = s.syncDir()
	}
	if err != nil {
		return fmt.Errorf("store: write %s: %w", currentFile, err)
	}
	return nil
}

// mkdir creates the store directory durably: a directory entry survives a
// power loss only once its parent directory is synced.
func (s *Store) mkdir() error {
	if err := s.fs.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	return syncDir(s.fs, s.fs.PathDir(s.dir))
}

func (s *Store) syncDir() error { return syncDir(s.fs, s.dir) }

func syncDir(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removeStale deletes database directories other than the live one: the
// leftovers of a restore that crashed before or after switching CURRENT.
func (s *Store) removeStale(live string) error {
	names, err := s.fs.List(s.dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	for _, name := range names {
		if strings.HasPrefix(name, "db-") && name != live {
			if err := s.fs.RemoveAll(s.fs.PathJoin(s.dir, name)); err != nil {
				return fmt.Errorf("store: remove stale %s: %w", name, err)
			}
		}
	}
	return nil
}

// Close closes the database. The store must not be used afterwards.
func (s *Store) Close() error {
	s.snaps.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	// A clean shutdown flushes the memtable (up to memTableBytes), so
	// the next start has no WAL to replay.
	err := errors.Join(s.db.Flush(), s.db.Close())
	s.db = nil
	s.cache.Unref()
	return err
}

// Hot returns the hot set (for its statistics).
func (s *Store) Hot() *HotSet { return s.hot }

// MissReads returns how many Pebble reads hot-set misses have made (misses
// that joined another's read of the same code are not counted).
func (s *Store) MissReads() uint64 { return s.missReads.Load() }

// SyncWAL makes every committed batch durable. The fsm commits without
// syncing (raft's log is the durable record); this must run before raft
// truncates its log past what Pebble holds.
func (s *Store) SyncWAL() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.db.LogData([]byte("sync"), pebble.Sync); err != nil {
		return fmt.Errorf("store: sync wal: %w", err)
	}
	return nil
}

// reader is what pebble.DB, Batch and Snapshot have in common.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

// get returns a copy of the value at key, or ErrNotFound.
func get(r reader, key []byte) ([]byte, error) {
	v, c, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get: %w", err)
	}
	out := append([]byte(nil), v...)
	return out, c.Close()
}

func getUint64(r reader, key []byte) (uint64, error) {
	v, err := get(r, key)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, ErrCorrupt
	}
	return binary.BigEndian.Uint64(v), nil
}

func getLink(r reader, code string) (*Link, error) {
	v, err := get(r, linkKey(code))
	if err != nil {
		return nil, err
	}
	return UnmarshalLink(v)
}

// view runs fn against the live database.
func (s *Store) view(fn func(r *pebble.DB) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return errors.New("store: closed")
	}
	return fn(s.db)
}

// Link returns the record for code (tombstones included), or ErrNotFound.
func (s *Store) Link(code string) (l *Link, err error) {
	err = s.view(func(db *pebble.DB) error { l, err = getLink(db, code); return err })
	return l, err
}

// AppliedIndex returns the raft index of the last applied command.
func (s *Store) AppliedIndex() (n uint64, err error) {
	err = s.view(func(db *pebble.DB) error { n, err = getUint64(db, keyApplied); return err })
	return n, err
}

// LiveLinks returns the number of links that are not deleted.
func (s *Store) LiveLinks() (n uint64, err error) {
	err = s.view(func(db *pebble.DB) error { n, err = getUint64(db, keyLiveLinks); return err })
	return n, err
}

// PermKey returns the code permutation key made at bootstrap, or
// ErrNotFound before the cluster is initialised.
func (s *Store) PermKey() (k []byte, err error) {
	err = s.view(func(db *pebble.DB) error { k, err = get(db, keyPerm); return err })
	return k, err
}

// Initialized reports whether the cluster's init command has been applied.
func (s *Store) Initialized() (bool, error) {
	err := s.view(func(db *pebble.DB) error { _, err := get(db, keyInit); return err })
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// APIKey returns the API key whose token hashes to hash.
func (s *Store) APIKey(hash []byte) (k *APIKey, err error) {
	err = s.view(func(db *pebble.DB) error {
		v, err := get(db, apiKeyKey(hash))
		if err != nil {
			return err
		}
		k, err = unmarshalAPIKey(v)
		return err
	})
	return k, err
}

// Range returns the last id range handed to nodeID.
func (s *Store) Range(nodeID string) (r Range, err error) {
	err = s.view(func(db *pebble.DB) error {
		v, err := get(db, rangeKey(nodeID))
		if err != nil {
			return err
		}
		r, err = unmarshalRange(v)
		return err
	})
	return r, err
}

// pebbleLogger routes Pebble's logging into slog; its chatter is debug-level.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) { p.l.Debug(fmt.Sprintf(format, args...)) }
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}
