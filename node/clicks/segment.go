package clicks

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Segment files are <number>.open while written and <number>.seg once
// sealed. A frame is uvarint(len) crc32c(payload) payload. A crash leaves a
// torn tail at most; the reader stops at the first bad frame.
const (
	openExt   = ".open"
	sealedExt = ".seg"
	seqFile   = "seq"
	maxFrame  = 4 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segLog appends records to the current segment of one directory.
type segLog struct {
	dir      string
	log      *slog.Logger
	f        *os.File
	bw       *bufio.Writer
	num      uint64
	size     int64
	openedAt time.Time
	lastNum  uint64 // the highest number ever handed out (persisted in seq)
	hdr      [binary.MaxVarintLen64 + 4]byte
}

func openSegLog(dir string, log *slog.Logger) (*segLog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	l := &segLog{dir: dir, log: log}
	if b, err := os.ReadFile(filepath.Join(dir, seqFile)); err == nil {
		l.lastNum, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	}
	// Seal what a crash left open; its torn tail is skipped when read.
	names, err := filepath.Glob(filepath.Join(dir, "*"+openExt))
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if err := os.Rename(n, strings.TrimSuffix(n, openExt)+sealedExt); err != nil {
			return nil, err
		}
	}
	for _, n := range sealedSegments(dir) {
		l.lastNum = max(l.lastNum, n)
	}
	return l, nil
}

// append writes one record, opening a new segment if none is open.
func (l *segLog) append(rec []byte) error {
	if l.f == nil {
		if err := l.create(); err != nil {
			return err
		}
	}
	n := binary.PutUvarint(l.hdr[:], uint64(len(rec)))
	binary.LittleEndian.PutUint32(l.hdr[n:], crc32.Checksum(rec, castagnoli))
	l.bw.Write(l.hdr[:n+4])
	_, err := l.bw.Write(rec)
	l.size += int64(n + 4 + len(rec))
	return err
}

// create opens the next segment, persisting its number first so that a
// number is never reused, even after every segment has been deleted.
func (l *segLog) create() error {
	num := l.lastNum + 1
	if err := writeFileSync(filepath.Join(l.dir, seqFile), []byte(strconv.FormatUint(num, 10))); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(l.dir, segName(num, openExt)), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	l.f, l.bw, l.num, l.size, l.openedAt, l.lastNum = f, bufio.NewWriterSize(f, 64<<10), num, 0, time.Now(), num
	return nil
}

// flush hands buffered records to the OS (they survive a process crash).
func (l *segLog) flush() error {
	if l.bw == nil {
		return nil
	}
	return l.bw.Flush()
}

// sync makes the current segment durable (it survives power loss).
func (l *segLog) sync() error {
	if l.f == nil {
		return nil
	}
	if err := l.flush(); err != nil {
		return err
	}
	return l.f.Sync()
}

// seal closes the current segment and makes it visible to the compactor.
func (l *segLog) seal() error {
	if l.f == nil {
		return nil
	}
	err := l.sync()
	err = errors.Join(err, l.f.Close())
	name := filepath.Join(l.dir, segName(l.num, openExt))
	err = errors.Join(err, os.Rename(name, strings.TrimSuffix(name, openExt)+sealedExt))
	l.f, l.bw = nil, nil
	if err != nil {
		return fmt.Errorf("clicks: seal segment %d: %w", l.num, err)
	}
	return syncDir(l.dir)
}

func segName(n uint64, ext string) string { return fmt.Sprintf("%020d%s", n, ext) }

// sealedSegments lists sealed segment numbers in order.
func sealedSegments(dir string) []uint64 {
	names, _ := filepath.Glob(filepath.Join(dir, "*"+sealedExt))
	var out []uint64
	for _, n := range names {
		if v, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(n), sealedExt), 10, 64); err == nil {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// readSegment calls fn for every intact record of a sealed segment (the
// slice is reused: fn must not keep it). A torn or corrupt tail ends the
// segment with a log line, never an error: what precedes it is still
// counted.
func readSegment(dir string, num uint64, log *slog.Logger, fn func(rec []byte)) error {
	f, err := os.Open(filepath.Join(dir, segName(num, sealedExt)))
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var off int64
	buf := make([]byte, maxFrame+1)
	for {
		n, err := binary.ReadUvarint(br)
		if err == io.EOF {
			return nil
		}
		var sum [4]byte
		rec := buf[:min(n, maxFrame+1)]
		if err == nil && n <= maxFrame {
			_, err = io.ReadFull(br, sum[:])
		} else if err == nil {
			err = fmt.Errorf("frame of %d bytes", n)
		}
		if err == nil {
			_, err = io.ReadFull(br, rec)
		}
		if err == nil && crc32.Checksum(rec, castagnoli) != binary.LittleEndian.Uint32(sum[:]) {
			err = errors.New("checksum mismatch")
		}
		if err != nil {
			log.Warn("skipping corrupt or torn tail of click segment", "segment", num, "offset", off, "err", err)
			return nil
		}
		fn(rec)
		off += int64(len(binary.AppendUvarint(nil, n))) + 4 + int64(n)
	}
}

func removeSegment(dir string, num uint64) error {
	return os.Remove(filepath.Join(dir, segName(num, sealedExt)))
}

func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	err = errors.Join(err, f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, path)
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
