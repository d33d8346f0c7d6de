package fsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/raft"
)

// groupSamples is the golden sample of the group command (type 110).
func groupSamples() map[string]Command {
	one, _ := Encode(&CreateLink{Now: 1700000000110, Code: "abc1234", URL: "https://example.com/1", Owner: 7, RedirectStatus: 302})
	two, _ := Encode(&DeleteLink{Now: 1700000000111, Code: "abc1233", Actor: 7})
	return map[string]Command{"110-group": &Group{Cmds: [][]byte{one, two}}}
}

// groupLogs wraps cmds in groups of size, numbered so that the last group
// has index last (the applied index the ungrouped log would reach).
func groupLogs(t *testing.T, cmds []Command, size int, last uint64) []*raft.Log {
	var groups []Command
	for i := 0; i < len(cmds); i += size {
		g := &Group{}
		for _, c := range cmds[i:min(i+size, len(cmds))] {
			g.Cmds = append(g.Cmds, mustEncode(t, c))
		}
		groups = append(groups, g)
	}
	return logsFor(t, last-uint64(len(groups))+1, groups...)
}

// A group applies its commands exactly as separate entries would: the same
// state and, item by item, the same results (domain refusals included).
// Only the outbox differs: its changes are numbered by raft index (a
// group's commands share one), so its tables are left out of the
// comparison.
func TestGroupAppliesLikeSeparateEntries(t *testing.T) {
	cmds := workload()
	fs := vfs.NewMem()
	f, st := mustFSM(t, fs, "plain")
	want := applyInBatches(f, logsFor(t, 1, cmds...), 64)
	wantState := withoutOutbox(t, snapshotOf(t, st))
	st.Close()
	for _, size := range []int{2, 7, len(cmds)} {
		f, st := mustFSM(t, fs, fmt.Sprintf("grouped%d", size))
		var got []any
		for _, r := range applyInBatches(f, groupLogs(t, cmds, size, uint64(len(cmds))), 3) {
			for _, it := range r.(*Result).Items {
				got = append(got, it)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("size %d: %d results, want %d", size, len(got), len(want))
		}
		for i := range want {
			w, g := want[i].(*Result), got[i].(*Result)
			if !errors.Is(g.Err, w.Err) || !reflect.DeepEqual(g.Link, w.Link) || g.Replayed != w.Replayed {
				t.Fatalf("size %d, command %d (%T): got %+v, want %+v", size, i, cmds[i], g, w)
			}
		}
		if !reflect.DeepEqual(withoutOutbox(t, snapshotOf(t, st)), wantState) {
			t.Fatalf("group size %d gives a different state", size)
		}
		st.Close()
	}
}

// A leader never appends a group it could not apply whole: a nested group
// or a command too new for this binary inside it fails Check.
func TestGroupCheck(t *testing.T) {
	ok := mustEncode(t, create("aaa", "https://e.test", 1))
	inner := mustEncode(t, &Group{Cmds: [][]byte{ok}})
	if err := Check(mustEncode(t, &Group{Cmds: [][]byte{ok, ok}})); err != nil {
		t.Fatal(err)
	}
	if err := Check(mustEncode(t, &Group{Cmds: [][]byte{ok, inner}})); !errors.Is(err, ErrNestedGroup) {
		t.Fatalf("nested: %v", err)
	}
	tooNew := append([]byte{200}, ok[1:]...)
	if err := Check(mustEncode(t, &Group{Cmds: [][]byte{ok, tooNew}})); !errors.Is(err, ErrTooNew) {
		t.Fatalf("too new inside: %v", err)
	}
}

// A command too new inside a group halts the fsm before anything of the
// group (or its raft batch) is applied, as it would as an entry of its own.
func TestGroupWithTooNewCommandHalts(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "d")
	defer st.Close()
	ok := mustEncode(t, create("aaa", "https://e.test", 1))
	tooNew := append([]byte{200}, ok[1:]...)
	res := f.ApplyBatch(logsFor(t, 1, create("bbb", "https://e.test", 1), &Group{Cmds: [][]byte{ok, tooNew}}))
	if !errors.Is(res[1].(*Result).Err, ErrHalted) || f.Applied() != 0 {
		t.Fatalf("got %+v, applied %d", res[1], f.Applied())
	}
	if _, err := st.Link("aaa"); err == nil {
		t.Fatal("part of a refused group was applied")
	}
}

// withoutOutbox parses a store snapshot (magic, applied index, then
// uvarint-length-prefixed keys and values up to an empty key) into its
// records, leaving out the outbox tables (q, g, E, w: keyed by raft index).
func withoutOutbox(t *testing.T, snap []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	b := snap[len("LINKDSNAP\x01")+8:]
	next := func() []byte {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			t.Fatal("snapshot: bad length")
		}
		p := b[k : k+int(n)]
		b = b[k+int(n):]
		return p
	}
	for len(b) > 0 && b[0] != 0 {
		k, v := next(), next()
		if !bytes.ContainsAny(k[:1], "qgEw") {
			out[string(k)] = string(v)
		}
	}
	return out
}
