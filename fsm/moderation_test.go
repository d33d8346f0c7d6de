package fsm

import (
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/store"
)

// moderationGoldenSamples pins the encoding of the moderation commands
// (types 60–63), every field set.
func moderationGoldenSamples() map[string]Command {
	return map[string]Command{
		"60-add-block":    &AddBlock{Now: 1700000000060, ID: 9, Kind: 3, Value: "evil.test", Reason: "phishing", Actor: 1, Source: "feed1"},
		"61-delete-block": &DeleteBlock{Now: 1700000000061, ID: 9, Actor: 1},
		"62-takedown":     &Takedown{Now: 1700000000062, Code: "abc1234", Actor: 1, Block: true, Reason: "malware"},
		"63-appeal":       &Appeal{Now: 1700000000063, Code: "abc1234", Actor: 2, Note: "it is my blog"},
	}
}

// modRun applies cmds one by one (each its own raft batch) and returns the
// domain errors.
func modRun(t *testing.T, f *FSM, cmds ...Command) []error {
	t.Helper()
	var errs []error
	for _, c := range cmds {
		r := f.ApplyBatch(logsFor(t, f.Applied()+1, c))[0].(*Result)
		errs = append(errs, r.Err)
	}
	return errs
}

func wantErrs(t *testing.T, got []error, want ...error) {
	t.Helper()
	for i := range want {
		if !errors.Is(got[i], want[i]) {
			t.Errorf("command %d: err %v, want %v", i, got[i], want[i])
		}
	}
}

func linkStatus(t *testing.T, st *store.Store, code string) store.LinkStatus {
	t.Helper()
	txn := st.Begin()
	defer txn.Abort()
	l, err := txn.Link(code)
	if err != nil {
		t.Fatal(err)
	}
	return l.Status
}

func TestTakedownSticks(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "")
	owner := func(c *CreateLink) *CreateLink { c.Owner = 2; return c }
	url := "https://e.test/x"
	wantErrs(t, modRun(t, f,
		owner(create("aaa", url, 10)),
		&Takedown{Now: 11, Code: "aaa", Actor: 1, Block: true, Reason: "phishing"},
		&UpdateLink{Now: 12, Code: "aaa", Actor: 2, URL: ptr("https://other.test")},
		&DeleteLink{Now: 13, Code: "aaa", Actor: 2},
		owner(create("bbb", url, 14)),
		owner(create("ccc", "http://E.test/x/?x#y", 15)),
		owner(create("ddd", "https://ok.test", 16)),
		&UpdateLink{Now: 17, Code: "ddd", Actor: 2, URL: ptr(url + "?x")},
		&Appeal{Now: 18, Code: "aaa", Actor: 2, Note: "mine"},
		&Appeal{Now: 19, Code: "ddd", Actor: 2, Note: "x"},
		&Appeal{Now: 20, Code: "aaa", Actor: 3, Note: "not mine"},
	), nil, nil, ErrLinkBlocked, ErrLinkBlocked, ErrBlockedDestination, ErrBlockedDestination, nil,
		ErrBlockedDestination, nil, ErrNotBlocked, ErrNotFound)
	if s := linkStatus(t, st, "aaa"); s != store.StatusBlocked {
		t.Fatalf("status %v", s)
	}
	td, err := st.Takedown("aaa")
	if err != nil || td.Reason != "phishing" || td.Appeal != "mine" || td.DestKey != "e.test/x" {
		t.Fatalf("takedown %+v, %v", td, err)
	}
	// Unblocking (admin) lifts the destination ban too, and is audited.
	wantErrs(t, modRun(t, f, &UpdateLink{Now: 21, Code: "aaa", Actor: 1, Admin: true, Blocked: ptr(false)},
		owner(create("eee", url, 22))), nil, nil)
	if _, err := st.Takedown("aaa"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("takedown after unblock: %v", err)
	}
	log, err := st.AuditLog(10)
	if err != nil || len(log) != 3 || log[0].Action != "link.unblock" || log[1].Action != "link.appeal" || log[2].Action != "link.block" {
		t.Fatalf("audit %+v, %v", log, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestBlocklistRescan(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "")
	wantErrs(t, modRun(t, f,
		create("a1", "https://evil.test/1", 1),
		create("a2", "https://x.y.evil.test/2?q", 2),
		create("a3", "https://notevil.test/", 3),
		create("a4", "https://host.test/p", 4),
		create("a5", "https://host.test/other", 5),
		create("a6", "https://sub.host.test/p", 6),
		&AddBlock{Now: 10, ID: 1, Kind: uint8(store.BlockDomain), Value: "evil.test", Actor: 1},
		&AddBlock{Now: 11, ID: 2, Kind: uint8(store.BlockURL), Value: "host.test/p", Actor: 1},
		&AddBlock{Now: 12, ID: 3, Kind: uint8(store.BlockURL), Value: "host.test/p", Actor: 1},
		&AddBlock{Now: 13, ID: 2, Kind: uint8(store.BlockHost), Value: "z.test", Actor: 1},
		create("b1", "https://deep.evil.test", 14),
		create("b2", "https://host.test/p/?utm=1", 15),
		create("b3", "https://sub.host.test/p", 16),
	), nil, nil, nil, nil, nil, nil, nil, nil, ErrBlockExists, ErrBlockExists, ErrBlockedDestination, ErrBlockedDestination, nil)
	for code, want := range map[string]store.LinkStatus{"a1": store.StatusBlocked, "a2": store.StatusBlocked,
		"a3": store.StatusActive, "a4": store.StatusBlocked, "a5": store.StatusActive, "a6": store.StatusActive} {
		if got := linkStatus(t, st, code); got != want {
			t.Errorf("%s: status %v, want %v", code, got, want)
		}
	}
	// Deleting entry 1 lifts its takedowns only.
	wantErrs(t, modRun(t, f, &DeleteBlock{Now: 20, ID: 1, Actor: 1}, &DeleteBlock{Now: 21, ID: 1, Actor: 1}),
		nil, ErrBlockNotFound)
	if linkStatus(t, st, "a1") != store.StatusActive || linkStatus(t, st, "a4") != store.StatusBlocked {
		t.Error("delete lifted the wrong takedowns")
	}
	bl, err := st.Blocks()
	if err != nil || len(bl) != 1 || bl[0].ID != 2 {
		t.Fatalf("blocks %+v, %v", bl, err)
	}
}

// Profile links: a blocked one cannot be changed, survives being dropped
// (still 451), and its destination cannot come back with "?x".
func TestProfileTakedown(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "")
	prof := func(now int64, links []store.ProfileLink, newCodes ...string) *SetProfile {
		return &SetProfile{Now: now, User: 1, Handle: "ann", PageCode: "pg", PageURL: "https://sho.rt/@ann",
			Links: links, NewCodes: newCodes}
	}
	bad := store.ProfileLink{Code: "p1", URL: "https://bad.test/a", Title: "A", Enabled: true}
	wantErrs(t, modRun(t, f,
		&Init{Now: 1, ClusterID: "c", PermKey: make([]byte, 32), AdminKeyID: "k", AdminKeyHash: store.TokenHash("t")},
		prof(2, []store.ProfileLink{bad}, "pg", "p1"),
		&Takedown{Now: 3, Code: "p1", Actor: 1, Block: true},
		prof(4, []store.ProfileLink{{Code: "p1", URL: "https://bad.test/b", Title: "A"}}),
		prof(5, []store.ProfileLink{bad, {Code: "p2", URL: "https://bad.test/a?x", Title: "A"}}, "p2"),
		prof(6, nil),
	), nil, nil, nil, ErrLinkBlocked, ErrBlockedDestination, nil)
	if s := linkStatus(t, st, "p1"); s != store.StatusBlocked {
		t.Fatalf("dropped blocked profile link: status %v", s)
	}
}
