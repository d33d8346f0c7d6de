package fsm

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/internal/golden"
	"github.com/linkd/linkd/store"
)

// -update rewrites the golden files from the current encoder. Only do it
// for a deliberate, compatible format change, and say why in the commit.
var update = flag.Bool("update", false, "rewrite testdata/golden/fsm from the current encoder")

const goldenDir = "../testdata/golden/fsm"

// Every command type and version has a golden encoding; encoding the sample
// must give exactly those bytes, and decoding them must give the sample.
// A failure here means the raft log format changed: entries already in
// logs and snapshots would be read differently.
func TestGoldenCommands(t *testing.T) {
	newest := map[Type]bool{}
	for _, samples := range []map[string]Command{goldenSamples(), moderationGoldenSamples(), batchSamples(), goldenV2Samples(), clicksV3Samples(), clicksV4Samples(), domainGoldenSamples(), domainV2GoldenSamples(), outboxSamples(), feedGoldenSamples(), quotaGoldenSamples(), groupSamples(), trustGoldenSamples()} {
		for name, c := range samples {
			b := mustEncode(t, c)
			v := c.header().V
			newest[c.Type()] = newest[c.Type()] || v == versions[c.Type()]
			path := filepath.Join(goldenDir, fmt.Sprintf("%s.v%d.hex", name, v))
			want := golden.Check(t, path, fmt.Sprintf("fsm %T, type %d, version %d", c, c.Type(), v), b, *update)
			dec, err := Decode(want)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(dec, c) {
				t.Errorf("%s: golden bytes decode to\n%#v\nwant\n%#v", name, dec, c)
			}
		}
	}
	for typ := range versions {
		if !newest[typ] {
			t.Errorf("type %d has no golden sample at its newest version %d", typ, versions[typ])
		}
	}
	for typ := Type(1); typ < 255; typ++ {
		if (newCommand(typ) != nil) != (versions[typ] != 0) {
			t.Errorf("type %d: newCommand and versions disagree", typ)
		}
	}
}

// Entries written by release 47bad8b (before versions: no "v" key) decode
// as version 1 to the same values. The files were made by encoding
// goldenSamples with that release's fsm.Encode.
func TestLegacyEntriesDecode(t *testing.T) {
	for name, want := range goldenSamples() {
		if want.Type() > TypePutImage {
			continue // a type 47bad8b did not have
		}
		b := golden.Read(t, filepath.Join(goldenDir, "legacy-47bad8b", name+".hex"))
		if _, v, err := Peek(b); err != nil || v != 1 {
			t.Fatalf("%s: Peek = %d, %v", name, v, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want = asVersion1(want)
		want.header().V = 1
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: legacy bytes decode to\n%#v\nwant\n%#v", name, got, want)
		}
		// Apart from the version, today's encoding is the legacy one:
		// a 47bad8b node in a mixed cluster reads what this one writes.
		cur := mustEncode(t, want)
		if stripped := stripVersion(t, cur); string(stripped) != string(b) {
			t.Errorf("%s: without its version, the encoding differs from 47bad8b's:\n got %x\nwant %x", name, stripped, b)
		}
	}
}

// asVersion1 is a sample without the fields later versions added (47bad8b
// wrote version 1 of every type).
func asVersion1(c Command) Command {
	if p, ok := c.(*SetProfile); ok {
		v1 := *p
		v1.RetireAt = 0 // SetProfile v2
		return &v1
	}
	return c
}

// stripVersion removes the "v":1 pair of an encoded command: keys are
// sorted and every sample's other keys sort before "v", so it is the last
// pair of a fixmap.
func stripVersion(t *testing.T, b []byte) []byte {
	t.Helper()
	n := len(b)
	if b[1] < 0x81 || b[1] > 0x8f || string(b[n-3:]) != "\xa1v\x01" {
		t.Fatalf("no trailing version in %x", b)
	}
	return append([]byte{b[0], b[1] - 1}, b[2:n-3]...)
}

// An entry of an unknown type, or of a known type at a newer version, is
// refused as ErrTooNew, before any field is decoded.
func TestDecodeRefusesNewer(t *testing.T) {
	b := mustEncode(t, &DeleteLink{Now: 1, Code: "x", Actor: 1})
	unknown := append([]byte{200}, b[1:]...)
	newer := append([]byte(nil), b...)
	newer[len(newer)-1] = 2 // "v": 2 (the last key)
	for name, in := range map[string][]byte{"unknown type": unknown, "newer version": newer} {
		if _, err := Decode(in); !errors.Is(err, ErrTooNew) {
			t.Errorf("%s: Decode err = %v, want ErrTooNew", name, err)
		}
		if err := Check(in); !errors.Is(err, ErrTooNew) {
			t.Errorf("%s: Check err = %v, want ErrTooNew", name, err)
		}
	}
	if err := Check(b); err != nil {
		t.Errorf("Check(current) = %v", err)
	}
	if _, err := Encode(&DeleteLink{Header: Header{V: 2}}); err == nil {
		t.Error("encoding a version this binary does not know succeeded")
	}
}

// goldenStateCommands build a small state touching every table: users,
// keys, sessions, invites, links, idempotency, ranges, members, clicks,
// salts, profiles and images.
func goldenStateCommands() []Command {
	s := goldenSamples()
	url := "https://changed.test"
	return []Command{
		s["01-init"], s["02-alloc-range"], s["06-set-member"], s["09-set-salt"],
		&CreateUser{Now: 1700000000100, Email: "ann@x.test", PasswordHash: "$argon2id$x", Role: 1},
		&CreateAPIKey{Now: 1700000000101, Hash: []byte{3, 3}, ID: "key1", Name: "ci", Owner: 2, Scopes: []string{"links:read"}},
		&CreateSession{Now: 1700000000102, Hash: []byte{2, 2}, User: 2, ExpiresAt: 1800000000000},
		s["17-create-invite"],
		s["03-create-link"],
		&UpdateLink{Now: 1700000000103, Code: "abc1234", Actor: 7, URL: &url},
		&CreateLink{Now: 1700000000104, Code: "gone123", URL: "https://gone.test", Owner: 2, RedirectStatus: 302},
		&DeleteLink{Now: 1700000000105, Code: "gone123", Actor: 2},
		s["08-clicks"],
		&SetProfile{Now: 1700000000106, User: 2, Handle: "ann", Theme: "classic", PageCode: "pg12345",
			PageURL: "https://sho.rt/@ann", Links: []store.ProfileLink{{Code: "l123456", Title: "Blog", URL: "https://blog.test", Enabled: true}},
			NewCodes: []string{"pg12345", "l123456"}},
		s["20-put-image"],
	}
}

// The state those commands produce, as a snapshot stream (what raft ships
// between nodes, and backups carry), is pinned: a change of any record,
// key layout or apply rule shows here.
func TestGoldenState(t *testing.T) {
	testGoldenState(t, "state.snapshot.hex", goldenStateCommands())
	// The same with Clicks at version 2: the clicks land in one DayAgg record.
	cmds := goldenStateCommands()
	for i, c := range cmds {
		if _, ok := c.(*Clicks); ok {
			cmds[i] = clicksV2()
		}
	}
	testGoldenState(t, "state-clicks-v2.snapshot.hex", cmds)
}

func testGoldenState(t *testing.T, name string, cmds []Command) {
	f, st := mustFSM(t, vfs.NewMem(), "/db")
	defer st.Close()
	for i, r := range f.ApplyBatch(logsFor(t, 1, cmds...)) {
		if err := r.(*Result).Err; err != nil {
			t.Fatalf("command %d (%T): %v", i, cmds[i], err)
		}
	}
	snap := golden.Check(t, filepath.Join(goldenDir, name), "snapshot stream of goldenStateCommands ("+name+")",
		snapshotOf(t, st), *update)
	f2, st2 := mustFSM(t, vfs.NewMem(), "/r")
	defer st2.Close()
	if err := f2.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if p, err := st2.ProfileByHandle("ann"); err != nil || p.Links[0].Code != "l123456" {
		t.Fatalf("profile from the golden state: %+v, %v", p, err)
	}
}

// BenchmarkCheck is what a leader pays per proposal to refuse commands it
// could not apply.
func BenchmarkCheck(b *testing.B) {
	c, _ := Encode(goldenSamples()["03-create-link"])
	for b.Loop() {
		if err := Check(c); err != nil {
			b.Fatal(err)
		}
	}
}
