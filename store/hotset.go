package store

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/fastcache"
)

// HotKind says what a hot-set entry stands for.
type HotKind uint8

// Hot-set entry kinds.
const (
	HotActive  HotKind = 1 // redirect to URL unless expired
	HotGone    HotKind = 2 // deleted: 410
	HotBlocked HotKind = 3 // taken down: 451
	HotMissing HotKind = 4 // negative entry: no such code, 404
	HotHeld    HotKind = 5 // held for review: a "pending review" page
)

// hotHeader is kind(1) + redirect status(2) + expiresAt(8) + flags(1).
// When flags has HotExtra, the header is followed by startsAt(8), the
// password tag(8) and two uvarint-framed strings (fallback URL, compiled
// program) before the URL.
const hotHeader = 12

// HotFlags are a link's options as the redirect path needs them. A link
// with the default options has none, and takes the plain path.
type HotFlags uint8

// Hot-set flags.
const (
	HotDropQuery   HotFlags = 1 << iota // do not forward the visitor's query
	HotForwardPath                      // /code/extra appends /extra
	HotVisitorWins                      // the visitor's query parameters win
	HotPassword                         // a password page guards the link
	HotExhausted                        // maxVisits reached
	HotExtra                            // StartsAt, FallbackURL and Program follow the header
)

// hotStripes is the number of generation stripes that keep fills from
// racing evictions. A power of two; 1024 keeps contention negligible while
// costing only 64 KiB.
const hotStripes = 1024

// Entry is what the redirect path needs to answer for a code. URL aliases
// the buffer passed to Resolve.
type Entry struct {
	Kind           HotKind
	RedirectStatus uint16
	ExpiresAt      int64 // Unix ms, 0 = never
	Flags          HotFlags
	StartsAt       int64  // Unix ms, 0 = always (only with HotExtra)
	PasswordTag    uint64 // PasswordTag of the link's password hash (only with HotExtra)
	Fallback       []byte // fallback URL (only with HotExtra); aliases like URL
	Program        []byte // compiled rules and variants (only with HotExtra); aliases like URL
	URL            []byte
}

// Expired reports whether an active entry has expired at now (Unix ms).
func (e *Entry) Expired(now int64) bool { return e.ExpiresAt != 0 && now >= e.ExpiresAt }

// HotSet is the in-memory map code -> Entry in front of Pebble.
//
// Stale fills are prevented with per-stripe generations: a miss notes the
// generation before it reads Pebble and fills only if it is unchanged; the
// fsm bumps the generation (after committing) whenever it evicts. So a value
// read before a commit can never be written back after that commit's
// eviction, nor handed to a miss that arrived after it.
type HotSet struct {
	c       *fastcache.Cache
	stripes [hotStripes]hotStripe
}

type hotStripe struct {
	mu      sync.Mutex
	gen     atomic.Uint64
	flights map[string]*flight // misses being read from Pebble, guarded by mu
	_       [40]byte           // keep stripes on separate cache lines
}

// flight is one Pebble read of a code that missed the hot set. Concurrent
// misses for the code join it instead of reading again, but only while the
// stripe's generation is the one the read started under: a miss that
// arrives after an eviction (a commit changed the code) never takes an
// answer read before that commit.
type flight struct {
	gen  uint64
	done chan struct{}
	e    Entry // URL is shared by every waiter: copy, never modify
	err  error
}

func newHotSet(maxBytes int) *HotSet { return &HotSet{c: fastcache.New(maxBytes)} }

func (h *HotSet) stripe(code []byte) *hotStripe {
	// FNV-1a: cheap, allocation-free and good enough to spread codes.
	x := uint32(2166136261)
	for _, c := range code {
		x = (x ^ uint32(c)) * 16777619
	}
	return &h.stripes[x&(hotStripes-1)]
}

// get returns the entry for code, decoding into dst.
func (h *HotSet) get(dst, code []byte) (Entry, []byte, bool) {
	v := h.c.Get(dst[:0], code)
	if len(v) < hotHeader {
		return Entry{}, v, false
	}
	e, ok := decodeEntry(v)
	return e, v, ok
}

// join returns the flight reading code under the current generation,
// starting one (own is true: the caller must read, then land it) if there
// is none.
func (h *HotSet) join(code []byte) (f *flight, own bool) {
	s := h.stripe(code)
	s.mu.Lock()
	defer s.mu.Unlock()
	gen := s.gen.Load()
	if f := s.flights[string(code)]; f != nil && f.gen == gen {
		return f, false
	}
	if s.flights == nil {
		s.flights = map[string]*flight{}
	}
	f = &flight{gen: gen, done: make(chan struct{})}
	s.flights[string(code)] = f
	return f, true
}

// land ends a flight: it stores the entry read from Pebble unless code was
// evicted since the read started, and hands it to the flight's waiters.
func (h *HotSet) land(code []byte, f *flight, e Entry, err error) {
	s := h.stripe(code)
	s.mu.Lock()
	if err == nil && s.gen.Load() == f.gen {
		h.c.Set(code, encodeEntry(e))
	}
	if s.flights[string(code)] == f {
		delete(s.flights, string(code))
	}
	s.mu.Unlock()
	f.e, f.err = e, err
	close(f.done)
}

// evict drops code and invalidates fills that started before now.
func (h *HotSet) evict(code []byte) {
	s := h.stripe(code)
	s.mu.Lock()
	s.gen.Add(1)
	h.c.Del(code)
	s.mu.Unlock()
}

// reset empties the hot set, invalidating every fill in flight.
func (h *HotSet) reset() {
	for i := range h.stripes {
		h.stripes[i].mu.Lock()
		h.stripes[i].gen.Add(1)
	}
	h.c.Reset()
	for i := range h.stripes {
		h.stripes[i].mu.Unlock()
	}
}

// HotStats reports hot-set statistics for metrics.
type HotStats struct {
	Entries, Bytes, Gets, Misses uint64
}

// Stats returns current hot-set statistics.
func (h *HotSet) Stats() HotStats {
	var s fastcache.Stats
	h.c.UpdateStats(&s)
	return HotStats{Entries: s.EntriesCount, Bytes: s.BytesSize, Gets: s.GetCalls, Misses: s.Misses}
}

func encodeEntry(e Entry) []byte {
	b := make([]byte, hotHeader, hotHeader+len(e.URL)+len(e.Fallback)+len(e.Program)+28)
	b[0] = byte(e.Kind)
	binary.BigEndian.PutUint16(b[1:], e.RedirectStatus)
	binary.BigEndian.PutUint64(b[3:], uint64(e.ExpiresAt))
	b[11] = byte(e.Flags)
	if e.Flags&HotExtra != 0 {
		b = binary.BigEndian.AppendUint64(b, uint64(e.StartsAt))
		b = binary.BigEndian.AppendUint64(b, e.PasswordTag)
		b = binary.AppendUvarint(b, uint64(len(e.Fallback)))
		b = append(b, e.Fallback...)
		b = binary.AppendUvarint(b, uint64(len(e.Program)))
		b = append(b, e.Program...)
	}
	return append(b, e.URL...)
}

// decodeEntry reads an entry; ok is false for one it cannot frame (which
// is then read again from Pebble). Without HotExtra it is a few loads.
func decodeEntry(v []byte) (e Entry, ok bool) {
	e = Entry{
		Kind:           HotKind(v[0]),
		RedirectStatus: binary.BigEndian.Uint16(v[1:]),
		ExpiresAt:      int64(binary.BigEndian.Uint64(v[3:])),
		Flags:          HotFlags(v[11]),
		URL:            v[hotHeader:],
	}
	if e.Flags&HotExtra == 0 {
		return e, true
	}
	r := e.URL
	if len(r) < 16 {
		return Entry{}, false
	}
	e.StartsAt = int64(binary.BigEndian.Uint64(r))
	e.PasswordTag = binary.BigEndian.Uint64(r[8:])
	r = r[16:]
	if e.Fallback, r, ok = cutFramed(r); !ok {
		return Entry{}, false
	}
	if e.Program, r, ok = cutFramed(r); !ok {
		return Entry{}, false
	}
	e.URL = r
	return e, true
}

func cutFramed(b []byte) (s, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// entryFor turns a stored link (nil when unknown) into a hot-set entry.
func entryFor(l *Link) Entry {
	switch {
	case l == nil:
		return Entry{Kind: HotMissing}
	case l.Status == StatusDeleted:
		return Entry{Kind: HotGone}
	case l.Status == StatusBlocked:
		return Entry{Kind: HotBlocked}
	case l.Status == StatusHeld:
		return Entry{Kind: HotHeld}
	}
	e := Entry{Kind: HotActive, RedirectStatus: l.RedirectStatus, ExpiresAt: l.ExpiresAt, URL: []byte(l.URL)}
	o := &l.LinkOptions
	for _, f := range []struct {
		on   bool
		flag HotFlags
	}{{o.DropQuery, HotDropQuery}, {o.ForwardPath, HotForwardPath}, {o.QueryPrecedence == QueryVisitorWins, HotVisitorWins},
		{o.PasswordHash != "", HotPassword}, {o.Exhausted, HotExhausted},
		{o.StartsAt != 0 || o.FallbackURL != "" || len(o.Program) != 0 || o.PasswordHash != "", HotExtra}} {
		if f.on {
			e.Flags |= f.flag
		}
	}
	e.StartsAt, e.Fallback, e.Program = o.StartsAt, []byte(o.FallbackURL), o.Program
	if o.PasswordHash != "" {
		e.PasswordTag = PasswordTag(o.PasswordHash)
	}
	return e
}

// PasswordTag is a short fingerprint of a link's password hash. Cookies
// that remember a correct password are bound to it, so changing the
// password forgets every visitor who knew the old one. It reveals nothing
// usable of the hash (which is salted and slow to test anyway).
func PasswordTag(hash string) uint64 {
	sum := sha256.Sum256([]byte(hash))
	return binary.BigEndian.Uint64(sum[:])
}
