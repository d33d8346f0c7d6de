package store

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func mustOpen(t testing.TB, fs vfs.FS, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{FS: fs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return s
}

func mustCommit(t testing.TB, txn *Txn, applied uint64) {
	t.Helper()
	if err := txn.Commit(applied); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func testLink(code, url string, created int64) *Link {
	return &Link{Code: code, URL: url, Owner: 7, CreatedAt: created, UpdatedAt: created,
		RedirectStatus: 302, Status: StatusActive, Title: "t", Tags: []string{"a", "b"}}
}

func TestLinkCodecRoundTrip(t *testing.T) {
	l := &Link{Code: "abc", URL: "https://x.test/é?q=1#f", Owner: 1 << 40, CreatedAt: -5, UpdatedAt: 9,
		ExpiresAt: 1e12, RedirectStatus: 308, Status: StatusBlocked, Custom: true, Title: "hi", Tags: []string{"x"}}
	got, err := UnmarshalLink(MarshalLink(l))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(MarshalLink(got), MarshalLink(l)) || got.URL != l.URL || got.Tags[0] != "x" {
		t.Fatalf("round trip: got %+v want %+v", got, l)
	}
}

// An older record without trailing fields still decodes: that is what lets
// later versions append fields.
func TestLinkDecodeOlderShorterRecord(t *testing.T) {
	b := MarshalLink(&Link{Code: "abc", URL: "https://x.test"})
	e := encoder{}
	e.u8(recordV1)
	e.str("abc")
	e.str("https://x.test")
	l, err := UnmarshalLink(e.b)
	if err != nil || l.Code != "abc" || l.URL != "https://x.test" || l.Tags != nil {
		t.Fatalf("short record: %+v %v (full is %d bytes)", l, err, len(b))
	}
}

func FuzzLinkCodec(f *testing.F) {
	f.Add([]byte{recordV1, 3, 'a', 'b', 'c'})
	f.Add(MarshalLink(testLink("code", "https://e.test", 5)))
	f.Add([]byte{recordV1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := UnmarshalLink(b)
		if err != nil {
			return
		}
		again, err := UnmarshalLink(MarshalLink(l))
		if err != nil || !bytes.Equal(MarshalLink(again), MarshalLink(l)) {
			t.Fatalf("re-encoding a decoded record is not stable: %v", err)
		}
	})
}

func TestResolveFillsAndEvicts(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), "db")
	defer s.Close()
	e, _, err := s.Resolve(nil, []byte("abc"))
	if err != nil || e.Kind != HotMissing {
		t.Fatalf("unknown code: %+v %v", e, err)
	}
	txn := s.Begin()
	txn.CreateLink(testLink("abc", "https://one.test", 1))
	mustCommit(t, txn, 1)
	e, _, _ = s.Resolve(nil, []byte("abc"))
	if e.Kind != HotActive || string(e.URL) != "https://one.test" {
		t.Fatalf("after create: %+v (negative entry not evicted?)", e)
	}
	txn = s.Begin()
	l, _ := txn.Link("abc")
	txn.DeleteLink(l, 2)
	mustCommit(t, txn, 2)
	if e, _, _ = s.Resolve(nil, []byte("abc")); e.Kind != HotGone {
		t.Fatalf("after delete: %+v", e)
	}
	if n, _ := s.LiveLinks(); n != 0 {
		t.Fatalf("live links = %d after delete", n)
	}
}

// A fill that read Pebble before an eviction must not land after it, and a
// miss after the eviction starts a read of its own.
func TestStaleFillLosesToEviction(t *testing.T) {
	h := newHotSet(32 << 20)
	code := []byte("abc")
	old, own := h.join(code) // a miss starts reading the old value...
	h.evict(code)            // ...the fsm commits a change and evicts...
	fresh, ownFresh := h.join(code)
	if !own || !ownFresh {
		t.Fatal("a miss after the eviction joined the read that started before it")
	}
	h.land(code, old, Entry{Kind: HotActive, RedirectStatus: 302, URL: []byte("https://old.test")}, nil)
	if _, _, ok := h.get(nil, code); ok {
		t.Fatal("a stale fill landed after the eviction")
	}
	h.land(code, fresh, Entry{Kind: HotActive, RedirectStatus: 302, URL: []byte("https://new.test")}, nil)
	if e, _, ok := h.get(nil, code); !ok || string(e.URL) != "https://new.test" {
		t.Fatal("a fresh fill did not land")
	}
}

// Readers racing a writer always end up seeing the last committed value.
func TestResolveRacingUpdates(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), "db")
	defer s.Close()
	txn := s.Begin()
	txn.CreateLink(testLink("abc", "https://v0.test", 1))
	mustCommit(t, txn, 1)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, buf, _ = s.Resolve(buf, []byte("abc"))
			}
		}()
	}
	var last string
	for i := 2; i < 300; i++ {
		txn := s.Begin()
		l, _ := txn.Link("abc")
		l.URL = "https://v" + string(rune('a'+i%26)) + ".test/" + string(rune('0'+i%10))
		last = l.URL
		txn.UpdateLink(l)
		mustCommit(t, txn, uint64(i))
	}
	close(stop)
	wg.Wait()
	if e, _, _ := s.Resolve(nil, []byte("abc")); string(e.URL) != last {
		t.Fatalf("hot set serves %q, last committed %q", e.URL, last)
	}
}

func fill(t testing.TB, s *Store, n int) {
	t.Helper()
	txn := s.Begin()
	for i := 0; i < n; i++ {
		txn.CreateLink(testLink(string(rune('A'+i%26))+string(rune('a'+i/26%26))+string(rune('0'+i/676)), "https://e.test/"+string(rune('a'+i%26)), int64(i)))
	}
	if _, err := txn.AllocRange("n1", 4096); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn, uint64(n))
}

func snapshotBytes(t testing.TB, s *Store) []byte {
	t.Helper()
	sn := s.Snapshot()
	defer sn.Close()
	var b bytes.Buffer
	if _, err := sn.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSnapshotRestoreIdentical(t *testing.T) {
	fs := vfs.NewMem()
	a := mustOpen(t, fs, "a")
	defer a.Close()
	fill(t, a, 500)
	snap := snapshotBytes(t, a)

	b := mustOpen(t, fs, "b")
	txn := b.Begin()
	txn.CreateLink(testLink("zzz", "https://gone.test", 1))
	mustCommit(t, txn, 1)
	b.Resolve(nil, []byte("zzz")) // warm the hot set; Restore must reset it
	if err := b.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshotBytes(t, b), snap) {
		t.Fatal("restored state differs from the snapshot")
	}
	if e, _, _ := b.Resolve(nil, []byte("zzz")); e.Kind != HotMissing {
		t.Fatalf("hot set kept a pre-restore entry: %+v", e)
	}
	// The swap is durable: reopening finds the restored directory.
	b.Close()
	b = mustOpen(t, fs, "b")
	defer b.Close()
	if !bytes.Equal(snapshotBytes(t, b), snap) {
		t.Fatal("reopened state differs from the snapshot")
	}
	if n, _ := b.LiveLinks(); n != 500 {
		t.Fatalf("live links after restore = %d", n)
	}
}

func TestRestoreRejectsCorruptSnapshot(t *testing.T) {
	fs := vfs.NewMem()
	a := mustOpen(t, fs, "a")
	defer a.Close()
	fill(t, a, 50)
	snap := snapshotBytes(t, a)
	for name, bad := range map[string][]byte{
		"flipped byte": func() []byte { c := bytes.Clone(snap); c[len(c)/2] ^= 1; return c }(),
		"truncated":    snap[:len(snap)-7],
		"bad header":   append([]byte("NOTASNAP!\x01"), snap[10:]...),
		"empty":        nil,
	} {
		b := mustOpen(t, fs, "b-"+name)
		before := snapshotBytes(t, b)
		err := b.Restore(bytes.NewReader(bad))
		if !errors.Is(err, ErrSnapshotCorrupt) {
			t.Errorf("%s: err = %v, want ErrSnapshotCorrupt", name, err)
		}
		if !bytes.Equal(snapshotBytes(t, b), before) {
			t.Errorf("%s: a failed restore changed the state", name)
		}
		b.Close()
	}
}

func TestListNewestFirstWithCursor(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), "db")
	defer s.Close()
	fill(t, s, 45)
	var seen []int64
	var cursor []byte
	for {
		p, err := s.ListLinks(ListQuery{Owner: 7, After: cursor, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range p.Links {
			seen = append(seen, l.CreatedAt)
		}
		if p.Next == nil {
			break
		}
		cursor = p.Next
	}
	if len(seen) != 45 {
		t.Fatalf("listed %d links, want 45", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("not newest first at %d: %v", i, seen)
		}
	}
	if p, _ := s.ListLinks(ListQuery{Owner: 8, Limit: 10}); len(p.Links) != 0 {
		t.Fatal("another owner's listing shows links")
	}
}

func TestIdempotencyExpiryAndPrune(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), "db")
	defer s.Close()
	id := IdemID(1, "k")
	txn := s.Begin()
	txn.PutIdem(id, &Idem{BodyHash: []byte{1}, Code: "abc", ExpiresAt: 100})
	mustCommit(t, txn, 1)
	txn = s.Begin()
	defer txn.Abort()
	if _, err := txn.Idem(id, 99); err != nil {
		t.Fatalf("live record: %v", err)
	}
	if _, err := txn.Idem(id, 100); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired record visible: %v", err)
	}
	if err := txn.PruneIdem(101, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := get(txn.b, idemKey(id)); !errors.Is(err, ErrNotFound) {
		t.Fatal("prune left the record")
	}
}

// A link with the default options is written as record version 1 (which a
// binary from before options reads), one with any option as version 2; both
// give the link back, and a version 1 record means the default options
// (the visitor's query is forwarded).
func TestLinkOptionsRecordVersion(t *testing.T) {
	plain := testLink("abc", "https://x.test", 1)
	if b := MarshalLink(plain); b[0] != recordV1 {
		t.Fatalf("a link without options is written as version %d", b[0])
	}
	for _, o := range []LinkOptions{{DropQuery: true}, {ForwardPath: true}, {MaxVisits: 1}, {StartsAt: 5},
		{FallbackURL: "https://f.test"}, {PasswordHash: "h"}, {Program: []byte{1}}, {Exhausted: true},
		{QueryPrecedence: QueryVisitorWins}} {
		l := testLink("abc", "https://x.test", 1)
		l.LinkOptions = o
		b := MarshalLink(l)
		if b[0] != linkV2 {
			t.Fatalf("%+v written as version %d", o, b[0])
		}
		got, err := UnmarshalLink(b)
		if err != nil || !reflect.DeepEqual(got, l) {
			t.Fatalf("%+v: round trip gives %+v, %v", o, got, err)
		}
	}
}

// The hot-set entry carries the options the redirect path needs: none for
// a plain link (the plain path), flags and the extra fields otherwise.
func TestHotEntryOptions(t *testing.T) {
	plain := entryFor(testLink("abc", "https://x.test", 1))
	if e, ok := decodeEntry(encodeEntry(plain)); !ok || e.Flags != 0 || string(e.URL) != "https://x.test" {
		t.Fatalf("plain entry: %+v %v", e, ok)
	}
	l := testLink("abc", "https://x.test/d", 1)
	l.LinkOptions = LinkOptions{Program: []byte{1, 2, 3}, PasswordHash: "h", StartsAt: 99, FallbackURL: "https://f.test",
		Exhausted: true, DropQuery: true, ForwardPath: true, QueryPrecedence: QueryVisitorWins}
	e, ok := decodeEntry(encodeEntry(entryFor(l)))
	want := HotDropQuery | HotForwardPath | HotVisitorWins | HotPassword | HotExhausted | HotExtra
	if !ok || e.Flags != want || e.StartsAt != 99 || string(e.Fallback) != "https://f.test" ||
		!bytes.Equal(e.Program, []byte{1, 2, 3}) || string(e.URL) != "https://x.test/d" || e.PasswordTag != PasswordTag("h") {
		t.Fatalf("entry with options: %+v %v", e, ok)
	}
	enc := encodeEntry(entryFor(l))
	for n := hotHeader; n < len(enc)-len("https://x.test/d"); n++ {
		if _, ok := decodeEntry(enc[:n]); ok {
			t.Fatalf("an entry cut to %d bytes decoded", n)
		}
	}
}

func TestShortURLAndDomainFor(t *testing.T) {
	for key, want := range map[string]string{"abc": "https://sho.rt/abc", "go.example/abc": "https://go.example/abc"} {
		if got := ShortURL("https://sho.rt", key); got != want {
			t.Errorf("ShortURL(%q) = %q, want %q", key, got, want)
		}
	}
	st, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	txn := st.Begin()
	txn.PutDomain(&Domain{Host: "go.example", Kind: DomainLinks})
	if err := txn.Commit(1); err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{"go.example": true, "GO.example.": true, "go.example:443": true, "other.example": false, "example": false} {
		if _, ok := st.DomainFor(host); ok != want {
			t.Errorf("DomainFor(%q) = %v, want %v", host, ok, want)
		}
	}
	// A restore rebuilds the set from the restored state.
	var snap bytes.Buffer
	sn := st.Snapshot()
	_, err = sn.WriteTo(&snap)
	sn.Close()
	if err != nil {
		t.Fatal(err)
	}
	txn = st.Begin()
	txn.DeleteDomain("go.example")
	if err := txn.Commit(2); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.DomainFor("go.example"); ok {
		t.Fatal("deleted domain still in the set")
	}
	if err := st.Restore(&snap); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.DomainFor("go.example"); !ok {
		t.Fatal("restore did not rebuild the domain set")
	}
}
