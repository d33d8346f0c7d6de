package fsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/raft"

	"github.com/linkd/linkd/store"
)

// An entry written by a newer linkd stops the fsm without a panic: the
// batch holding it is discarded (so the store's applied index stays below
// it and an upgraded binary applies it after a restart), later batches are
// refused, snapshots fail (so raft keeps the log), and one clear error is
// logged. Reopening the store resumes from the last applied entry.
func TestNewerEntryHaltsWithoutPanic(t *testing.T) {
	for name, newer := range map[string]func([]byte) []byte{
		"unknown type":  func(b []byte) []byte { return append([]byte{200}, b[1:]...) },
		"newer version": func(b []byte) []byte { b[len(b)-1] = versions[TypeCreateLink] + 1; return b }, // one past create-link's newest version
	} {
		t.Run(name, func(t *testing.T) {
			fs := vfs.NewMem()
			var logBuf bytes.Buffer
			st, err := store.Open("/db", store.Options{FS: fs, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			f, err := New(st, slog.New(slog.NewTextHandler(&logBuf, nil)))
			if err != nil {
				t.Fatal(err)
			}
			f.ApplyBatch(logsFor(t, 1, create("a", "https://a.test", 1)))
			batch := logsFor(t, 2, create("b", "https://b.test", 2), create("c", "https://c.test", 3), create("d", "https://d.test", 4))
			batch[1].Data = newer(batch[1].Data)
			out := f.ApplyBatch(batch) // must not panic
			for i, r := range out {
				if res, ok := r.(*Result); !ok || !errors.Is(res.Err, ErrHalted) || !errors.Is(res.Err, ErrTooNew) {
					t.Fatalf("result %d = %#v, want an ErrHalted/ErrTooNew result", i, r)
				}
			}
			if f.Halted() == nil || f.Applied() != 1 {
				t.Fatalf("Halted() = %v, Applied() = %d; want halted at 1", f.Halted(), f.Applied())
			}
			if _, err := st.Link("b"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("an entry of the refused batch was applied: %v", err)
			}
			later := f.ApplyBatch(logsFor(t, 5, create("e", "https://e.test", 5)))
			if res := later[0].(*Result); !errors.Is(res.Err, ErrHalted) {
				t.Fatalf("a batch after the halt gave %+v", res)
			}
			if _, err := f.Snapshot(); !errors.Is(err, ErrHalted) {
				t.Fatalf("Snapshot while halted: %v", err)
			}
			if n := strings.Count(logBuf.String(), "REFUSING a raft entry written by a newer linkd"); n != 1 {
				t.Fatalf("%d refusal log lines, want 1:\n%s", n, logBuf.String())
			}
			if applied, _ := st.AppliedIndex(); applied != 1 {
				t.Fatalf("store applied index %d, want 1", applied)
			}
			st.Close()

			f, st = mustFSM(t, fs, "/db") // a restart: the log is replayed from index 2
			defer st.Close()
			if f.Halted() != nil || f.Applied() != 1 {
				t.Fatalf("after reopen: Halted() = %v, Applied() = %d", f.Halted(), f.Applied())
			}
		})
	}
}

// A record in the store that a newer linkd wrote (it arrived in a snapshot)
// halts the fsm too, instead of being taken for corruption.
func TestNewerRecordHalts(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "/db")
	defer st.Close()
	f.ApplyBatch(logsFor(t, 1, create("a", "https://a.test", 1)))
	// A snapshot holding link "a" as a version-4 record (this binary
	// reads link records up to version 3).
	snap := snapshotOf(t, st)
	i := bytes.Index(snap, []byte("\x02la")) // the frame of key "la"
	if i < 0 || snap[i+4] != 1 {
		t.Fatal("link record not found in the snapshot")
	}
	snap[i+4] = 4 // key len, key, value len, then the record's version
	binary.BigEndian.PutUint32(snap[len(snap)-4:], crc32.Checksum(snap[:len(snap)-4], crc32.MakeTable(crc32.Castagnoli)))
	if err := f.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	url := "https://changed.test"
	out := f.ApplyBatch([]*raft.Log{{Index: 2, Type: raft.LogCommand, Data: mustEncode(t, &UpdateLink{Now: 2, Code: "a", Actor: 1, URL: &url})}})
	if res := out[0].(*Result); !errors.Is(res.Err, store.ErrNewerRecord) {
		t.Fatalf("update of a newer record gave %+v, want ErrNewerRecord", res)
	}
	if f.Halted() == nil {
		t.Fatal("fsm not halted")
	}
}
