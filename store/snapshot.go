package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// The snapshot stream is logical, so it survives Pebble format changes:
//
//	"LINKDSNAP" version(1) appliedIndex(8, big-endian)
//	{ uvarint(len key) key uvarint(len value) value }*   keys in order, never empty
//	uvarint(0)                                          end marker
//	crc32c(everything before), big-endian
var snapMagic = []byte("LINKDSNAP\x01")

// restoreBatchBytes bounds the size of each batch written during a restore.
const restoreBatchBytes = 4 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrSnapshotCorrupt means a snapshot stream failed its checksum or framing.
var ErrSnapshotCorrupt = errors.New("store: corrupt snapshot")

// Snapshot is a consistent point-in-time view of the whole store.
type Snapshot struct {
	s    *Store
	snap *pebble.Snapshot
}

// Snapshot captures the current state. It is cheap (no copy); the caller
// must Close it.
func (s *Store) Snapshot() *Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.snaps.Add(1)
	return &Snapshot{s: s, snap: s.db.NewSnapshot()}
}

// Close releases the snapshot.
func (sn *Snapshot) Close() error {
	err := sn.snap.Close()
	sn.s.snaps.Done()
	return err
}

// AppliedIndex returns the applied index the snapshot was taken at.
func (sn *Snapshot) AppliedIndex() (uint64, error) { return getUint64(sn.snap, keyApplied) }

// WriteTo streams the snapshot to w.
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w, crc: crc32.New(castagnoli)}
	bw := bufio.NewWriterSize(cw, 256<<10)
	it, err := sn.snap.NewIter(nil)
	if err != nil {
		return 0, err
	}
	defer it.Close()
	applied, err := sn.AppliedIndex()
	if err != nil {
		return 0, err
	}
	bw.Write(snapMagic)
	bw.Write(binary.BigEndian.AppendUint64(nil, applied))
	var lenBuf [binary.MaxVarintLen64]byte
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return cw.n, err
		}
		for _, p := range [][]byte{it.Key(), v} {
			bw.Write(lenBuf[:binary.PutUvarint(lenBuf[:], uint64(len(p)))])
			bw.Write(p)
		}
	}
	if err := it.Error(); err != nil {
		return cw.n, err
	}
	bw.WriteByte(0)
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	sum := binary.BigEndian.AppendUint32(nil, cw.crc.Sum32())
	_, err = w.Write(sum)
	return cw.n + 4, err
}

type countingWriter struct {
	w   io.Writer
	crc hash.Hash32
	n   int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// Restore replaces the whole state with a snapshot stream. It builds a new
// database directory, switches CURRENT to it atomically, then swaps it in and
// resets the hot set. On error the old state stays live.
func (s *Store) Restore(r io.Reader) error {
	s.eraseHook(0) // the raft state this replaces may hold what the new state erased
	if err := s.restore(r); err != nil {
		return err
	}
	return s.loadDerived()
}

func (s *Store) restore(r io.Reader) error {
	name, err := s.nextDBName()
	if err != nil {
		return err
	}
	if err := s.buildFrom(name, r); err != nil {
		s.fs.RemoveAll(s.fs.PathJoin(s.dir, name))
		return err
	}
	s.snaps.Wait() // the old db may not close under an open snapshot
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		s.log.Warn("closing replaced database", "err", err)
	}
	db, err := s.openDB(name)
	if err == nil {
		err = s.writeCurrent(name)
	}
	if err != nil {
		// Keep serving something consistent: reopen the old directory.
		old, oerr := s.openDB(s.dbName)
		if oerr != nil {
			panic(fmt.Sprintf("store: restore failed (%v) and the old state cannot be reopened: %v", err, oerr))
		}
		s.db = old
		return err
	}
	oldName := s.dbName
	s.db, s.dbName = db, name
	s.hot.reset()
	s.certs.notify()
	if err := s.fs.RemoveAll(s.fs.PathJoin(s.dir, oldName)); err != nil {
		s.log.Warn("removing replaced database", "dir", oldName, "err", err)
	}
	return nil
}

func (s *Store) nextDBName() (string, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(s.dbName, "db-"))
	if err != nil {
		return "", fmt.Errorf("store: bad database name %q", s.dbName)
	}
	return fmt.Sprintf("db-%06d", n+1), nil
}

// buildFrom writes the snapshot stream into a new, durable database.
func (s *Store) buildFrom(name string, r io.Reader) error {
	if err := s.fs.RemoveAll(s.fs.PathJoin(s.dir, name)); err != nil {
		return err
	}
	db, err := s.openDB(name)
	if err != nil {
		return err
	}
	err = load(db, r)
	if err == nil {
		err = db.Flush()
	}
	return errors.Join(err, db.Close())
}

func load(db *pebble.DB, r io.Reader) error {
	b := db.NewBatch()
	defer func() { b.Close() }()
	err := readSnapshot(r, func(k, v []byte) error {
		if err := b.Set(k, v, nil); err != nil {
			return err
		}
		if b.Len() < restoreBatchBytes {
			return nil
		}
		if err := b.Commit(pebble.NoSync); err != nil {
			return err
		}
		b.Close()
		b = db.NewBatch()
		return nil
	})
	if err != nil {
		return err
	}
	return b.Commit(pebble.NoSync)
}

// scanSnapshot checks a snapshot stream's framing and checksum.
func scanSnapshot(r io.Reader) error { return readSnapshot(r, nil) }

// readSnapshot parses a snapshot stream, handing each pair to fn (if set),
// and checks its checksum. fn sees pairs before the checksum is known to
// match: a caller must be able to discard them.
func readSnapshot(r io.Reader, fn func(k, v []byte) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	hr := &hashingReader{r: br, crc: crc32.New(castagnoli)}
	if _, err := readSnapshotHeader(hr); err != nil {
		return err
	}
	for {
		k, err := readFrame(hr)
		if err != nil {
			return err
		}
		if len(k) == 0 { // keys are never empty: this is the end marker
			break
		}
		v, err := readFrame(hr)
		if err != nil {
			return err
		}
		if fn != nil {
			if err := fn(k, v); err != nil {
				return err
			}
		}
	}
	var trailer [4]byte
	if _, err := io.ReadFull(br, trailer[:]); err != nil {
		return fmt.Errorf("%w: missing checksum", ErrSnapshotCorrupt)
	}
	if binary.BigEndian.Uint32(trailer[:]) != hr.crc.Sum32() {
		return fmt.Errorf("%w: checksum mismatch", ErrSnapshotCorrupt)
	}
	return nil
}

func readSnapshotHeader(r io.Reader) (applied uint64, err error) {
	hdr := make([]byte, len(snapMagic)+8)
	name := snapMagic[:len(snapMagic)-1]
	if _, err := io.ReadFull(r, hdr); err != nil || !bytes.HasPrefix(hdr, name) {
		return 0, fmt.Errorf("%w: bad header", ErrSnapshotCorrupt)
	}
	if v, newest := hdr[len(name)], snapMagic[len(name)]; v != newest {
		if v > newest {
			return 0, fmt.Errorf("%w: snapshot format version %d, this binary reads %d", ErrNewerRecord, v, newest)
		}
		return 0, fmt.Errorf("%w: snapshot format version %d", ErrSnapshotCorrupt, v)
	}
	return binary.BigEndian.Uint64(hdr[len(snapMagic):]), nil
}

// SnapshotApplied reads the applied index a snapshot stream holds state up
// to. It can be lower than the raft index the snapshot is filed under:
// raft counts entries the fsm never sees (leader no-ops, barriers).
func SnapshotApplied(r io.Reader) (uint64, error) { return readSnapshotHeader(r) }

// maxFrame bounds one key or value in a snapshot stream, so a corrupt length
// cannot make a restore allocate without limit.
const maxFrame = 64 << 20

// readFrame reads one length-prefixed frame.
func readFrame(r *hashingReader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshotCorrupt, err)
	}
	if n > maxFrame {
		return nil, fmt.Errorf("%w: frame of %d bytes", ErrSnapshotCorrupt, n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshotCorrupt, err)
	}
	return p, nil
}

// hashingReader checksums exactly the bytes the parser consumes.
type hashingReader struct {
	r   *bufio.Reader
	crc hash.Hash32
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.crc.Write(p[:n])
	return n, err
}

func (h *hashingReader) ReadByte() (byte, error) {
	c, err := h.r.ReadByte()
	if err == nil {
		h.crc.Write([]byte{c})
	}
	return c, err
}
