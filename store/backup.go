package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
)

// A backup is a snapshot stream (see snapshot.go, reused as is) framed for
// an operator: a header saying what it is, and a SHA-256 trailer over every
// byte before it, so a copy damaged anywhere is refused before it seeds a
// node.
//
//	"LINKDBAK" version(1)
//	uvarint(len) header record: recordV1, cluster id, applied index, created (Unix ms), node id
//	snapshot stream
//	sha256(everything before)   32 bytes
var backupMagic = []byte("LINKDBAK")

// backupVersion is the framing version; a newer one is refused with
// ErrNewerRecord.
const backupVersion = 1

// maxBackupHeader bounds the header record.
const maxBackupHeader = 4 << 10

// ErrBackupCorrupt means a backup failed its checksum or framing.
var ErrBackupCorrupt = errors.New("store: corrupt backup")

// BackupInfo is a backup's header.
type BackupInfo struct {
	ClusterID    string
	AppliedIndex uint64
	CreatedAt    int64 // Unix ms
	NodeID       string
}

func marshalBackupInfo(i *BackupInfo) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.str(i.ClusterID)
	e.uv(i.AppliedIndex)
	e.iv(i.CreatedAt)
	e.str(i.NodeID)
	return e.b
}

func unmarshalBackupInfo(b []byte) (*BackupInfo, error) {
	d := decoder{b: b}
	d.version(recordV1)
	i := &BackupInfo{ClusterID: d.str(), AppliedIndex: d.uv(), CreatedAt: d.iv(), NodeID: d.str()}
	return i, d.err
}

// ClusterID returns the id of the cluster the snapshot belongs to ("" before
// the cluster is initialised).
func (sn *Snapshot) ClusterID() (string, error) {
	v, err := get(sn.snap, keyInit)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return string(v), err
}

// WriteBackup writes the snapshot as a backup. createdAt (Unix ms) and
// nodeID go into the header; the cluster id and applied index come from the
// snapshot itself.
func (sn *Snapshot) WriteBackup(w io.Writer, createdAt int64, nodeID string) (int64, error) {
	info := BackupInfo{CreatedAt: createdAt, NodeID: nodeID}
	var err error
	if info.ClusterID, err = sn.ClusterID(); err != nil {
		return 0, err
	}
	if info.AppliedIndex, err = sn.AppliedIndex(); err != nil {
		return 0, err
	}
	h := sha256.New()
	mw := io.MultiWriter(w, h)
	e := encoder{b: append(append([]byte(nil), backupMagic...), backupVersion)}
	e.bytes(marshalBackupInfo(&info))
	written, err := mw.Write(e.b)
	if err != nil {
		return int64(written), err
	}
	n, err := sn.WriteTo(mw)
	if n += int64(written); err != nil {
		return n, err
	}
	written, err = w.Write(h.Sum(nil))
	return n + int64(written), err
}

// ReadBackupHeader reads a backup's framing and header from r, leaving r at
// the snapshot stream (which Store.Restore reads). It checks no checksum:
// use VerifyBackup first.
func ReadBackupHeader(r io.Reader) (*BackupInfo, error) {
	br, ok := r.(io.ByteReader)
	if !ok {
		return nil, errors.New("store: ReadBackupHeader needs an io.ByteReader")
	}
	magic := make([]byte, len(backupMagic)+1)
	if _, err := io.ReadFull(r, magic); err != nil || !bytes.Equal(magic[:len(backupMagic)], backupMagic) {
		return nil, fmt.Errorf("%w: not a linkd backup", ErrBackupCorrupt)
	}
	if v := magic[len(backupMagic)]; v != backupVersion {
		return nil, fmt.Errorf("%w: backup format version %d, this binary reads %d", ErrNewerRecord, v, backupVersion)
	}
	n, err := readUvarint(br)
	if err != nil || n > maxBackupHeader {
		return nil, fmt.Errorf("%w: bad header", ErrBackupCorrupt)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("%w: bad header", ErrBackupCorrupt)
	}
	info, err := unmarshalBackupInfo(hdr)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrBackupCorrupt, err)
	}
	return info, nil
}

func readUvarint(r io.ByteReader) (uint64, error) {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return x, nil
		}
	}
	return 0, ErrBackupCorrupt
}

// VerifyBackup reads a whole backup and checks its header, the framing and
// checksum of its snapshot stream, and its SHA-256 trailer. It returns the
// header and the number of bytes read.
func VerifyBackup(r io.Reader) (*BackupInfo, int64, error) {
	h := &trailerHash{h: sha256.New()}
	br := bufio.NewReaderSize(io.TeeReader(r, h), 256<<10)
	info, err := ReadBackupHeader(br)
	if err != nil {
		return nil, h.n, err
	}
	if err := scanSnapshot(br); err != nil {
		return info, h.n, fmt.Errorf("%w: %w", ErrBackupCorrupt, err)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return info, h.n, err
	}
	if !h.ok() {
		return info, h.n, fmt.Errorf("%w: SHA-256 mismatch (truncated or damaged)", ErrBackupCorrupt)
	}
	return info, h.n, nil
}

// trailerHash hashes everything written to it except the last 32 bytes,
// which it keeps to compare with the sum.
type trailerHash struct {
	h    hash.Hash
	tail []byte
	n    int64
}

func (t *trailerHash) Write(p []byte) (int, error) {
	t.n += int64(len(p))
	t.tail = append(t.tail, p...)
	if over := len(t.tail) - sha256.Size; over > 0 {
		t.h.Write(t.tail[:over])
		t.tail = append(t.tail[:0], t.tail[over:]...)
	}
	return len(p), nil
}

func (t *trailerHash) ok() bool {
	return len(t.tail) == sha256.Size && bytes.Equal(t.h.Sum(nil), t.tail)
}
