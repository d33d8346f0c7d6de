package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/raft"

	"github.com/linkd/linkd/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func mustFSM(t testing.TB, fs vfs.FS, dir string) (*FSM, *store.Store) {
	t.Helper()
	st, err := store.Open(dir, store.Options{FS: fs, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(st, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return f, st
}

func mustEncode(t testing.TB, c Command) []byte {
	t.Helper()
	b, err := Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logsFor turns commands into raft log entries starting at index first.
func logsFor(t testing.TB, first uint64, cmds ...Command) []*raft.Log {
	logs := make([]*raft.Log, len(cmds))
	for i, c := range cmds {
		logs[i] = &raft.Log{Index: first + uint64(i), Term: 1, Type: raft.LogCommand, Data: mustEncode(t, c)}
	}
	return logs
}

func create(code, url string, now int64) *CreateLink {
	return &CreateLink{Now: now, Code: code, URL: url, Owner: 1, RedirectStatus: 302}
}

// workload is a mix of every command type, including failures.
func workload() []Command {
	cmds := []Command{&Init{Now: 1, ClusterID: "c", PermKey: bytes.Repeat([]byte{7}, 32), AdminKeyID: "k", AdminKeyHash: store.TokenHash("t")}}
	for i := 0; i < 200; i++ {
		cmds = append(cmds, create(fmt.Sprintf("c%03d", i), fmt.Sprintf("https://e.test/%d", i), int64(10+i)))
	}
	url := "https://changed.test"
	blocked := true
	cmds = append(cmds,
		create("c005", "https://dup.test", 300), // alias taken
		&AllocRange{Now: 301, NodeID: "n1", Size: 4096},
		&SetMember{Now: 301, NodeID: "n2", HTTPAddr: "n2:8080"},
		&DelMember{Now: 301, NodeID: "n2"},
		&SetMember{Now: 301, NodeID: "n3", HTTPAddr: "n3:8080"},
		&UpdateLink{Now: 302, Code: "c001", Actor: 1, URL: &url},
		&UpdateLink{Now: 303, Code: "c002", Actor: 1, Admin: true, Blocked: &blocked},
		&DeleteLink{Now: 304, Code: "c003", Actor: 1},
		&DeleteLink{Now: 305, Code: "c003", Actor: 1}, // a replayed delete succeeds
		&CreateLink{Now: 306, Code: "i1", URL: "https://i.test", Owner: 1, RedirectStatus: 302, IdemKey: "key", BodyHash: []byte{1}},
		&CreateLink{Now: 307, Code: "i2", URL: "https://i.test", Owner: 1, RedirectStatus: 302, IdemKey: "key", BodyHash: []byte{1}},
	)
	return append(cmds, accountWorkload()...)
}

func snapshotOf(t testing.TB, st *store.Store) []byte {
	t.Helper()
	sn := st.Snapshot()
	defer sn.Close()
	var b bytes.Buffer
	if _, err := sn.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func applyInBatches(f *FSM, logs []*raft.Log, size int) []any {
	var out []any
	for i := 0; i < len(logs); i += size {
		out = append(out, f.ApplyBatch(logs[i:min(i+size, len(logs))])...)
	}
	return out
}

func TestCommandRoundTrip(t *testing.T) {
	for _, c := range workload() {
		got, err := Decode(mustEncode(t, c))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip of %T: got %+v want %+v", c, got, c)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range workload()[:3] {
		b, _ := Encode(c)
		f.Add(b)
	}
	f.Add([]byte{byte(TypeCreateLink), 0xde, 0xad})
	f.Add([]byte{200})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			return
		}
		if _, err := Encode(c); err != nil {
			t.Fatalf("decoded command does not encode: %v", err)
		}
	})
}

// The same log applied in batches of different sizes gives the same state:
// batch boundaries differ between nodes, state must not.
func TestDeterministicAcrossBatchSplits(t *testing.T) {
	logs := logsFor(t, 1, workload()...)
	fs := vfs.NewMem()
	var want []byte
	for _, size := range []int{1, 7, 64, len(logs)} {
		f, st := mustFSM(t, fs, fmt.Sprintf("s%d", size))
		applyInBatches(f, logs, size)
		got := snapshotOf(t, st)
		if want == nil {
			want = got
		} else if !bytes.Equal(got, want) {
			t.Fatalf("batch size %d gives a different state", size)
		}
		st.Close()
	}
}

func TestReplayAfterRestartIsIdempotent(t *testing.T) {
	fs := vfs.NewMem()
	logs := logsFor(t, 1, workload()...)
	f, st := mustFSM(t, fs, "/db")
	applyInBatches(f, logs, 16)
	want := snapshotOf(t, st)
	st.Close()

	f, st = mustFSM(t, fs, "/db")
	defer st.Close()
	if f.Applied() != uint64(len(logs)) {
		t.Fatalf("applied after reopen = %d, want %d", f.Applied(), len(logs))
	}
	applyInBatches(f, logs, 5) // raft replays everything after its last snapshot
	if !bytes.Equal(snapshotOf(t, st), want) {
		t.Fatal("replaying applied entries changed the state")
	}
}

func TestResults(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "db")
	defer st.Close()
	cmds := workload()
	res := applyInBatches(f, logsFor(t, 1, cmds...), 32)
	n := len(cmds) - len(accountWorkload()) // TestAccountCommands checks the rest
	check := func(i int, want error) *Result {
		t.Helper()
		r := res[i].(*Result)
		if !errors.Is(r.Err, want) {
			t.Fatalf("command %d (%T): err %v, want %v", i, cmds[i], r.Err, want)
		}
		return r
	}
	check(n-11, ErrExists)
	if r := check(n-10, nil); r.Range.End-r.Range.Start != 4096 {
		t.Fatalf("range %+v", r.Range)
	}
	if r := check(n-6, nil); r.Link.URL != "https://changed.test" {
		t.Fatalf("update: %+v", r.Link)
	}
	if r := check(n-5, nil); r.Link.Status != store.StatusBlocked {
		t.Fatalf("block: %+v", r.Link)
	}
	check(n-4, nil)
	check(n-3, nil)
	first := check(n-2, nil)
	if r := check(n-1, nil); !r.Replayed || r.Link.Code != first.Link.Code {
		t.Fatalf("idempotent retry: %+v", r)
	}
}

func TestIdempotencyKeyMismatchAndExpiry(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "db")
	defer st.Close()
	mk := func(code string, body byte, now int64) Command {
		return &CreateLink{Now: now, Code: code, URL: "https://x.test", Owner: 1, RedirectStatus: 302, IdemKey: "k", BodyHash: []byte{body}}
	}
	day := store.IdemTTL.Milliseconds()
	res := f.ApplyBatch(logsFor(t, 1, mk("a1", 1, 0), mk("a2", 2, 1), mk("a3", 1, day), mk("a4", 2, day+1)))
	if !errors.Is(res[1].(*Result).Err, ErrIdempotencyMismatch) {
		t.Fatalf("different body under the same key: %v", res[1].(*Result).Err)
	}
	if r := res[2].(*Result); r.Err != nil || r.Replayed || r.Link.Code != "a3" {
		t.Fatalf("after 24 h the key is free again: %+v", r)
	}
	if !errors.Is(res[3].(*Result).Err, ErrIdempotencyMismatch) {
		t.Fatal("the re-used key is remembered again")
	}
}

// A create applied twice (re-proposed after its outcome was unknown) returns
// the link it made the first time; another create of the same code loses.
func TestCreateReplayIsRecognised(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "db")
	defer st.Close()
	c := create("abc1234", "https://a.test", 5)
	res := f.ApplyBatch(logsFor(t, 1, c, c, create("abc1234", "https://a.test", 6)))
	if r := res[1].(*Result); r.Err != nil || !r.Replayed || r.Link.CreatedAt != 5 {
		t.Fatalf("replay: %+v", r)
	}
	if !errors.Is(res[2].(*Result).Err, ErrExists) {
		t.Fatalf("another create of the code: %v", res[2].(*Result).Err)
	}
}

// Two creates racing for one alias inside a single raft batch: exactly one
// wins, because the second reads the first's write through the Txn.
func TestAliasRaceInOneBatch(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "db")
	defer st.Close()
	res := f.ApplyBatch(logsFor(t, 1, create("same", "https://a.test", 1), create("same", "https://b.test", 2)))
	if res[0].(*Result).Err != nil || !errors.Is(res[1].(*Result).Err, ErrExists) {
		t.Fatalf("race results: %v, %v", res[0].(*Result).Err, res[1].(*Result).Err)
	}
}

func TestOwnershipIsolation(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "db")
	defer st.Close()
	url := "https://hijack.test"
	res := f.ApplyBatch(logsFor(t, 1, create("mine", "https://a.test", 1),
		&UpdateLink{Now: 2, Code: "mine", Actor: 2, URL: &url},
		&DeleteLink{Now: 3, Code: "mine", Actor: 2}))
	for _, r := range res[1:] {
		if !errors.Is(r.(*Result).Err, ErrNotFound) {
			t.Fatalf("another user changed the link: %v", r.(*Result).Err)
		}
	}
}

func TestSnapshotPersistRestore(t *testing.T) {
	fs := vfs.NewMem()
	f, st := mustFSM(t, fs, "a")
	defer st.Close()
	logs := logsFor(t, 1, workload()...)
	applyInBatches(f, logs, 50)
	snaps := raft.NewInmemSnapshotStore()
	persist(t, f, snaps, uint64(len(logs)))

	g, st2 := mustFSM(t, fs, "b")
	defer st2.Close()
	list, _ := snaps.List()
	_, rc, err := snaps.Open(list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Restore(rc); err != nil {
		t.Fatal(err)
	}
	if g.Applied() != uint64(len(logs)) || !bytes.Equal(snapshotOf(t, st2), snapshotOf(t, st)) {
		t.Fatal("restored fsm differs from the original")
	}
}

func persist(t testing.TB, f *FSM, snaps raft.SnapshotStore, index uint64) {
	t.Helper()
	s, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	sink, err := snaps.Create(raft.SnapshotVersionMax, index, 1, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Persist(sink); err != nil {
		t.Fatal(err)
	}
}

// The promise behind raft log truncation: once a snapshot is persisted
// (after which raft may drop its log up to that index), everything up to the
// snapshot index survives a crash that loses every unsynced write, even
// though the fsm commits without syncing.
func TestCrashAfterSnapshotLosesNothing(t *testing.T) {
	fs := vfs.NewCrashableMem()
	f, st := mustFSM(t, fs, "/db")
	cmds := workload()
	logs := logsFor(t, 1, cmds...)
	applyInBatches(f, logs[:150], 10)
	persist(t, f, raft.NewInmemSnapshotStore(), 150)
	atSnapshot := snapshotOf(t, st)
	applyInBatches(f, logs[150:], 10) // applied after the snapshot, not synced

	crashed := fs.CrashClone(vfs.CrashCloneCfg{}) // keep only what was synced
	st.Close()
	g, st2 := mustFSM(t, crashed, "/db")
	defer st2.Close()
	if g.Applied() < 150 {
		t.Fatalf("after the crash applied = %d, want >= 150 (the snapshot index)", g.Applied())
	}
	if g.Applied() == 150 && !bytes.Equal(snapshotOf(t, st2), atSnapshot) {
		t.Fatal("state at the snapshot index differs after the crash")
	}
	for i := 1; i <= 149; i++ {
		code := fmt.Sprintf("c%03d", i-1)
		if _, err := st2.Link(code); err != nil {
			t.Fatalf("link %s applied before the snapshot is lost: %v", code, err)
		}
	}
	// Replaying the rest of the log (as raft would) completes the state.
	applyInBatches(g, logs, 10)
	if g.Applied() != uint64(len(logs)) {
		t.Fatalf("applied after replay = %d", g.Applied())
	}
}

func TestResultRoundTrip(t *testing.T) {
	for _, r := range []*Result{
		{Link: &store.Link{Code: "abc", URL: "https://x.test", Status: store.StatusActive}, Replayed: true},
		{Range: store.Range{Start: 4096, End: 8192}},
		{Err: ErrExists}, {Err: ErrIdempotencyMismatch}, {},
	} {
		b, err := EncodeResult(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeResult(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.Err != r.Err || got.Range != r.Range || got.Replayed != r.Replayed ||
			(r.Link != nil && (got.Link == nil || got.Link.URL != r.Link.URL)) {
			t.Fatalf("round trip: got %+v want %+v", got, r)
		}
	}
}
