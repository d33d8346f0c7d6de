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
		"64-report": &Report{Now: 1700000000064, ID: 77, Code: "abc1234", Reason: "phishing", Note: "fake bank",
			AddrHash: []byte{1, 2, 3}, MaxPerLink: 20, MaxOpen: 10000},
		"65-resolve-report": &ResolveReport{Now: 1700000000065, ID: 77, Actor: 1, Action: ActionBlockDomain, BlockID: 5, Domain: "evil.test"},
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

// Reports: deduplicated by link, reason and address hash; capped per link
// (further ones merge) and in total (refused); a block-domain decision
// closes every open report of the link and blocks the domain's links.
func TestReportsBoundedAndResolved(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "")
	rep := func(id uint64, code, reason string, addr byte) *Report {
		return &Report{Now: int64(id), ID: id, Code: code, Reason: reason, AddrHash: []byte{addr}, MaxPerLink: 3, MaxOpen: 4}
	}
	wantErrs(t, modRun(t, f,
		create("r1", "https://a.phish.test/x", 1), create("r2", "https://other.test", 2), create("r3", "https://b.phish.test", 3),
		rep(10, "r1", "phishing", 1),
		rep(11, "r1", "phishing", 1), // duplicate: merged
		rep(12, "r1", "spam", 1),
		rep(13, "r1", "phishing", 2),
		rep(14, "r1", "malware", 3), // fourth on r1: over the per-link cap, merged
		rep(15, "r2", "spam", 1),
		rep(16, "r3", "spam", 1), // fifth open report: over the total cap
		rep(17, "nope", "spam", 1),
	), nil, nil, nil, nil, nil, nil, nil, nil, nil, ErrReportsFull, ErrNotFound)
	open, err := st.Reports(false, 100)
	if err != nil || len(open) != 4 {
		t.Fatalf("open reports %d, %v", len(open), err)
	}
	wantErrs(t, modRun(t, f,
		&ResolveReport{Now: 20, ID: 15, Actor: 1, Action: ActionDismiss},
		&ResolveReport{Now: 21, ID: 10, Actor: 1, Action: ActionBlockDomain, BlockID: 9, Domain: "phish.test"},
		&ResolveReport{Now: 22, ID: 99, Actor: 1, Action: ActionDismiss},
		rep(23, "r3", "spam", 1), // room again; r3 is blocked but may still be reported
	), nil, nil, ErrReportNotFound, nil)
	if open, _ := st.Reports(false, 100); len(open) != 1 || open[0].Code != "r3" {
		t.Fatalf("open after review: %+v", open)
	}
	if linkStatus(t, st, "r1") != store.StatusBlocked || linkStatus(t, st, "r3") != store.StatusBlocked || linkStatus(t, st, "r2") != store.StatusActive {
		t.Fatal("block-domain did not block the domain's links")
	}
	all, _ := st.Reports(true, 100)
	if len(all) != 5 {
		t.Fatalf("all reports: %d", len(all))
	}
}

func ptr[T any](v T) *T { return &v }
