package clicks

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linkd/linkd/internal/clientaddr"
	"github.com/linkd/linkd/store"
)

// Tuning constants, kept together.
const (
	// queueLen is how many events may wait for the writer. A full queue
	// drops the click (counted), never blocks the visitor.
	queueLen = 16384
	// drainInterval is how long the writer, woken by a click, lets more
	// queue before it takes them all; at the queue's capacity it keeps up
	// with 8 million clicks a second.
	drainInterval = 2 * time.Millisecond
	// flushInterval bounds how long a record stays in the writer's buffer:
	// the loss window of a process crash (kill -9).
	flushInterval = 100 * time.Millisecond
	// syncInterval bounds how long a record may stay out of stable storage:
	// the loss window of a power failure (checked on each flush).
	syncInterval = time.Second
	// maxSegmentBytes seals a segment by size.
	maxSegmentBytes = 4 << 20
	// uaCacheSize bounds the parsed User-Agent cache (agents repeat a lot).
	uaCacheSize = 4096
	recordV1    = 1
	// recordV2 adds an eighth string, the A/B variant that chose the
	// destination ("" for none). Version 1 records read as variant "".
	recordV2 = 2
)

// Config configures a Recorder.
type Config struct {
	Dir    string // the node's click log directory
	Source string // this log's identity: node id plus a per-directory random id
	Store  *store.Store
	// Lag is the analytics lag bound: segments are sealed after Lag/2, the
	// compactor folds each as it is sealed, and retries a failed proposal
	// after Lag/4.
	Lag time.Duration
	// HonorDNT records no dimensions and no visitor hash for requests with
	// DNT: 1 or Sec-GPC: 1 (the click itself is still counted).
	HonorDNT       bool
	TrustedProxies clientaddr.Proxies
	Logger         *slog.Logger
	// DayRecords, asked once per segment, makes the compactor propose
	// Clicks version 2: one record per link and day, a fraction of version
	// 1's apply cost. A node of an earlier release cannot apply it, so the
	// node answers true only while every member can (the version gate) and
	// --analytics-day-records is on. nil: version 1.
	DayRecords func() bool
	// Parts, asked once per segment when DayRecords answers true, makes
	// the compactor propose a segment of more than PartLinks links in
	// parts (Clicks version 3), paced so that the apply never holds the
	// core for long. True only while every member can apply version 3.
	Parts func() bool
	// Packed, asked once per segment when Parts answers true, makes the
	// compactor propose Clicks version 4: version 3 with the deltas in a
	// packed layout, far cheaper to encode and decode. True only while
	// every member can apply version 4.
	Packed func() bool

	// sealed, when set, is called by the writer after it seals a segment
	// (Start sets it to the compactor's kick).
	sealed func()
}

// LoadSource returns the identity of the click log in dir, creating it on
// first use: the node id plus a random suffix, so that a node whose data
// directory was wiped starts a new numbering the fsm has never seen.
func LoadSource(dir, nodeID string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "source")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	var r [8]byte
	rand.Read(r[:])
	src := nodeID + "/" + hex.EncodeToString(r[:])
	return src, writeFileSync(path, []byte(src))
}

// Recorder takes events from the redirect path and writes them to the log.
type Recorder struct {
	cfg     Config
	log     *slog.Logger
	ch      chan Event
	seg     *segLog
	dropped atomic.Uint64
	written atomic.Uint64
	ua      map[string]uaInfo
	salts   map[int64][]byte
	buf     []byte  // the record being encoded
	ref     []byte  // scratch for the referrer host
	hostBuf []byte  // scratch for an orphan visit's host
	ctry    [2]byte // scratch for the country code
	variant [1]byte // scratch for the variant digit

	// daySalt is the newest salt the writer has read, for the redirect
	// path's visitor hash (see VisitorHash); read concurrently.
	daySalt atomic.Pointer[[]byte]

	missingDay int64 // a day whose salt was not there at missingAt
	missingAt  time.Time
	stop       chan struct{}
	done       chan struct{}
	once       sync.Once
}

// NewRecorder opens the log in cfg.Dir and starts the writer.
func NewRecorder(cfg Config) (*Recorder, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	seg, err := openSegLog(cfg.Dir, cfg.Logger)
	if err != nil {
		return nil, err
	}
	r := &Recorder{cfg: cfg, log: cfg.Logger, ch: make(chan Event, queueLen), seg: seg,
		ua: map[string]uaInfo{}, salts: map[int64][]byte{}, stop: make(chan struct{}), done: make(chan struct{})}
	go r.run()
	return r, nil
}

// Record enqueues e without blocking; if the queue is full the event is
// dropped and counted.
func (r *Recorder) Record(e *Event) {
	select {
	case r.ch <- *e:
	default:
		r.dropped.Add(1)
	}
}

// Dropped returns how many events were dropped because the queue was full.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// Written returns how many events were written to the log.
func (r *Recorder) Written() uint64 { return r.written.Load() }

// QueueLen returns how many events wait for the writer.
func (r *Recorder) QueueLen() int { return len(r.ch) }

// TrustedProxy reports whether a peer address is a trusted proxy.
func (r *Recorder) TrustedProxy(a netip.Addr) bool { return r.cfg.TrustedProxies.Trusted(a) }

// Close writes what is queued, seals the current segment and stops. The
// redirect path must not call Record after Close.
func (r *Recorder) Close() error {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	return nil
}

// run is the writer. It keeps no ticker while idle: with nothing queued and
// no segment open it blocks on the queue itself, so an idle node costs no
// CPU. The first event after an idle spell wakes it; it then lingers for
// drainInterval before draining, so that under load it is woken once per
// batch rather than once per click (a receiver blocked on the channel is
// handed, and scheduled for, every single send, which on a busy core costs
// more than writing the click). The flush ticker runs only while a segment
// is open, and stops once it is sealed.
func (r *Recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(flushInterval)
	tick.Stop()
	ticking := false
	lastSync := time.Now()
	for {
		var tickC <-chan time.Time
		switch open := r.seg.f != nil; {
		case open && !ticking:
			tick.Reset(flushInterval)
			ticking = true
		case !open && ticking:
			tick.Stop()
			ticking = false
		}
		if ticking {
			tickC = tick.C
		}
		select {
		case e := <-r.ch:
			r.write(&e)
			r.linger()
			r.drain()
		case <-tickC:
			r.drain()
			r.check(r.seg.flush())
			if time.Since(lastSync) >= syncInterval {
				r.check(r.seg.sync())
				lastSync = time.Now()
			}
			if r.seg.f != nil && time.Since(r.seg.openedAt) >= r.cfg.Lag/2 {
				r.seal()
			}
		case <-r.stop:
			r.drain()
			r.seal()
			return
		}
	}
}

// linger waits drainInterval (or until Close) for more events to queue.
func (r *Recorder) linger() {
	t := time.NewTimer(drainInterval)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.stop:
	}
}

// drain writes every queued event.
func (r *Recorder) drain() {
	for n := len(r.ch); n > 0; n-- {
		e := <-r.ch
		r.write(&e)
	}
}

func (r *Recorder) check(err error) {
	if err != nil {
		r.log.Error("click log", "err", err)
	}
}

func (r *Recorder) write(e *Event) {
	if err := r.seg.append(r.encode(e)); err != nil {
		r.log.Error("writing click", "err", err)
		return
	}
	r.written.Add(1)
	if r.seg.size >= maxSegmentBytes {
		r.seal()
	}
}

// seal seals the open segment, if any, and tells the compactor.
func (r *Recorder) seal() {
	if r.seg.f == nil {
		return
	}
	err := r.seg.seal()
	r.check(err)
	if err == nil && r.cfg.sealed != nil {
		r.cfg.sealed()
	}
}

// record is an enriched event as stored in a segment. The writer fills the
// byte fields from the event's arrays and cached strings, so encoding an
// event allocates nothing.
type record struct {
	timeMs                                            int64
	kind, class                                       uint8
	code, host, country, device, browser, os, refHost []byte
	variant                                           []byte // one digit, or empty
	visitor                                           uint64 // 0: not counted as a visitor (DNT)
}

// encode enriches e into a record and serialises it into r.buf.
func (r *Recorder) encode(e *Event) []byte {
	rec := record{timeMs: e.TimeMs, kind: e.Kind, code: e.code[:e.codeLen]}
	if e.Variant > 0 && e.Variant <= 10 {
		r.variant[0] = '0' + e.Variant - 1
		rec.variant = r.variant[:]
	}
	// The scratch buffers are assigned first and rec's fields from them,
	// never r's from rec: escape analysis follows a struct as a whole, and
	// storing any of rec's fields in r made e (aliased by rec.code) escape,
	// so that every click cost the writer a heap copy of its event.
	if e.Kind == KindOrphan {
		r.hostBuf = appendHost(r.hostBuf[:0], e.host[:e.hostLen])
		rec.host = r.hostBuf
	}
	info := r.agent(e.ua[:e.uaLen])
	rec.class = info.class
	if e.Kind == KindPreview {
		rec.class = ClassPreview
	}
	if !(r.cfg.HonorDNT && e.Flags&FlagDNT != 0) && e.Kind != KindOrphan {
		addr := clientAddr(e, r.cfg.TrustedProxies)
		if c, ok := country(e, addr); ok {
			r.ctry = c
			rec.country = r.ctry[:]
		}
		rec.device, rec.browser, rec.os = info.device, info.browser, info.osName
		r.ref = referrerHost(r.ref[:0], e.ref[:e.refLen])
		rec.refHost = r.ref
		if salt := r.salt(e.TimeMs / store.DayMs); salt != nil {
			rec.visitor = visitorHash(salt, addr, e.ua[:e.uaLen]) | 1 // never 0
		}
	}
	r.buf = rec.appendTo(r.buf[:0])
	return r.buf
}

func (r *Recorder) agent(ua []byte) uaInfo {
	if info, ok := r.ua[string(ua)]; ok { // no allocation for the lookup
		return info
	}
	if len(r.ua) >= uaCacheSize {
		clear(r.ua)
	}
	info := classify(string(ua))
	r.ua[string(ua)] = info
	return info
}

// saltRetry is how long a missing salt is not looked up again.
const saltRetry = time.Second

// salt returns the replicated salt of day, cached; nil until it exists
// (the compactor proposes each day's salt a day ahead).
func (r *Recorder) salt(day int64) []byte {
	if s, ok := r.salts[day]; ok {
		return s
	}
	if day == r.missingDay && time.Since(r.missingAt) < saltRetry {
		return nil
	}
	s, err := r.cfg.Store.Salt(day)
	if err != nil {
		r.missingDay, r.missingAt = day, time.Now()
		return nil
	}
	if len(r.salts) > 4 {
		clear(r.salts)
	}
	r.salts[day] = s
	r.daySalt.Store(&s)
	return s
}

func (rec *record) appendTo(b []byte) []byte {
	b = append(b, recordV2, rec.kind, rec.class)
	b = binary.AppendVarint(b, rec.timeMs)
	b = binary.BigEndian.AppendUint64(b, rec.visitor)
	for _, s := range [...][]byte{rec.code, rec.host, rec.country, rec.device, rec.browser, rec.os, rec.refHost, rec.variant} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// view is a record read back from a segment, aliasing the segment buffer.
// strs is the encoded string section (code, host, country, device, browser,
// os, referrer host, and from version 2 the variant), which the compactor
// uses whole as an aggregation key.
type view struct {
	timeMs      int64
	kind, class uint8
	visitor     uint64
	strs        []byte
}

var errBadRecord = errors.New("clicks: bad record")

// viewRecord parses a record's header and checks its string section.
func viewRecord(b []byte) (view, error) {
	var v view
	if len(b) < 3 || b[0] != recordV1 && b[0] != recordV2 {
		return v, errBadRecord
	}
	v.kind, v.class = b[1], b[2]
	t, n := binary.Varint(b[3:])
	if n <= 0 || len(b[3+n:]) < 8 {
		return v, errBadRecord
	}
	v.timeMs = t
	v.visitor = binary.BigEndian.Uint64(b[3+n:])
	v.strs = b[3+n+8:]
	if _, err := v.fields(); err != nil {
		return v, err
	}
	return v, nil
}

// fields splits the string section: code, host, country, device, browser,
// os, referrer host and variant (absent, so empty, in version 1 records).
func (v view) fields() ([8][]byte, error) {
	var f [8][]byte
	b := v.strs
	for i := range f {
		if i == 7 && len(b) == 0 {
			break // a version 1 record
		}
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b[n:])) < l {
			return f, errBadRecord
		}
		f[i], b = b[n:n+int(l)], b[n+int(l):]
	}
	return f, nil
}
