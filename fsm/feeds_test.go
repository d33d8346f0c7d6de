package fsm

import (
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/store"
)

// feedGoldenSamples pins the encoding of the feed commands (types 100–104).
func feedGoldenSamples() map[string]Command {
	return map[string]Command{
		"100-put-feed": &PutFeed{Now: 1700000000100, ID: 12, Name: "urlhaus", URL: "https://feeds.test/u.csv", Format: 3,
			Every: 3600000, Reason: "malware", Actor: 1},
		"101-delete-feed":  &DeleteFeed{Now: 1700000000101, ID: 12, Actor: 1},
		"102-stage-feed":   &StageFeed{Now: 1700000000102, ID: 12, Ver: 1700000000102, Seq: 1, Entries: []string{"\x03evil.test", "\x01host.test/p"}},
		"103-commit-feed":  &CommitFeed{Now: 1700000000103, ID: 12, Ver: 1700000000102, Count: 2, Hash: []byte{1, 2}},
		"104-checked-feed": &CheckedFeed{Now: 1700000000104, ID: 12, Error: "HTTP 503"},
	}
}

func stage(id, ver, seq uint64, entries ...string) *StageFeed {
	return &StageFeed{Now: int64(ver), ID: id, Ver: ver, Seq: seq, Entries: entries}
}

func wantStatus(t *testing.T, st *store.Store, want map[string]store.LinkStatus) {
	t.Helper()
	for code, w := range want {
		if got := linkStatus(t, st, code); got != w {
			t.Errorf("%s: status %v, want %v", code, got, w)
		}
	}
}

// A feed version is staged in chunks and committed at once: the commit
// blocks what it lists, a later version lifts the feed's takedowns of
// what it no longer lists (takedowns by hand and by the blocklist stay),
// and creating a listed destination is refused.
func TestFeedVersions(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "")
	url, host, dom := string(rune(store.BlockURL)), string(rune(store.BlockHost)), string(rune(store.BlockDomain))
	wantErrs(t, modRun(t, f,
		create("a1", "https://evil.test/1", 1),
		create("a2", "https://x.bad.test/2", 2),
		create("a3", "https://exact.test/p?q", 3),
		create("a4", "https://exact.test/other", 4),
		create("a5", "https://hand.bad.test/", 5),
		create("a6", "https://both.test/", 6),
		&Takedown{Now: 7, Code: "a5", Actor: 1, Block: true, Reason: "by hand"},
		&AddBlock{Now: 8, ID: 50, Kind: uint8(store.BlockHost), Value: "both.test", Actor: 1},
		stage(9, 10, 0, dom+"evil.test"), // no such feed
		&PutFeed{Now: 11, ID: 9, Name: "f", URL: "http://feed.test/l", Format: uint8(store.FeedList), Every: 60000, Actor: 1},
		stage(9, 20, 0, dom+"evil.test", dom+"bad.test"),
		stage(9, 20, 2, url+"exact.test/p"), // out of order
		stage(9, 20, 1, url+"exact.test/p", host+"both.test", dom+"evil.test"),
		stage(9, 20, 2, "\x09bogus"),
		&CommitFeed{Now: 21, ID: 9, Ver: 20, Count: 5},
		&CommitFeed{Now: 22, ID: 9, Ver: 20, Count: 4},
		create("b1", "https://deep.evil.test/", 23),
		create("b2", "http://EXACT.test/p/", 24),
	), nil, nil, nil, nil, nil, nil, nil, nil, ErrFeedNotFound, nil, nil, ErrFeedStage, nil, ErrFeedEntry,
		ErrFeedStage, nil, ErrBlockedDestination, ErrBlockedDestination)
	wantStatus(t, st, map[string]store.LinkStatus{"a1": store.StatusBlocked, "a2": store.StatusBlocked,
		"a3": store.StatusBlocked, "a4": store.StatusActive, "a5": store.StatusBlocked, "a6": store.StatusBlocked})
	if td, err := st.Takedown("a1"); err != nil || td.Feed != 9 {
		t.Fatalf("takedown %+v, %v", td, err)
	}
	// Version 2 drops bad.test, exact.test/p and both.test: a2 and a3 are
	// unblocked, a5 (by hand) and a6 (blocklist) are not.
	wantErrs(t, modRun(t, f,
		stage(9, 30, 0, dom+"evil.test"),
		&CommitFeed{Now: 31, ID: 9, Ver: 30, Count: 1},
		create("b3", "https://x.bad.test/", 32),
	), nil, nil, nil)
	wantStatus(t, st, map[string]store.LinkStatus{"a1": store.StatusBlocked, "a2": store.StatusActive,
		"a3": store.StatusActive, "a5": store.StatusBlocked, "a6": store.StatusBlocked})
	fs, err := st.Feeds()
	if err != nil || len(fs) != 1 || fs[0].Version != 30 || fs[0].Entries != 1 || fs[0].Staging != 0 {
		t.Fatalf("feeds %+v, %v", fs, err)
	}
	// A failed fetch keeps the last good version; a staged version that
	// is never committed is dropped by the next one.
	wantErrs(t, modRun(t, f,
		&CheckedFeed{Now: 40, ID: 9, Error: "HTTP 500"},
		stage(9, 41, 0, dom+"other.test"),
		stage(9, 42, 0, dom+"evil.test", dom+"x.test"),
		&CommitFeed{Now: 43, ID: 9, Ver: 41, Count: 1},
	), nil, nil, nil, ErrFeedStage)
	if fs, _ := st.Feeds(); fs[0].Error != "HTTP 500" || fs[0].Version != 30 {
		t.Fatalf("after a failed fetch: %+v", fs[0])
	}
	txn := st.Begin()
	vers, err := txn.FeedVersions(9)
	txn.Abort()
	if err != nil || len(vers) != 2 || vers[0] != 30 || vers[1] != 42 {
		t.Fatalf("versions %v, %v", vers, err)
	}
	// Deleting the feed lifts its takedowns and leaves no entry behind.
	wantErrs(t, modRun(t, f, &DeleteFeed{Now: 50, ID: 9, Actor: 1}, &DeleteFeed{Now: 51, ID: 9, Actor: 1},
		create("b4", "https://evil.test/1", 52)), nil, ErrFeedNotFound, nil)
	wantStatus(t, st, map[string]store.LinkStatus{"a1": store.StatusActive, "a5": store.StatusBlocked})
	txn = st.Begin()
	defer txn.Abort()
	if vers, err := txn.FeedVersions(9); err != nil || len(vers) != 0 {
		t.Fatalf("versions after delete %v, %v", vers, err)
	}
	if id, err := txn.FeedListed(store.BlockDomain, "evil.test"); err != nil || id != 0 {
		t.Fatalf("index after delete: %d, %v", id, err)
	}
	log, err := st.AuditLog(3)
	if err != nil || log[0].Action != "feed.delete" || log[1].Action != "feed.update" {
		t.Fatalf("audit %+v %v", log, err)
	}
}

// Two feeds listing one host: removing it from one keeps the link blocked
// by the other; deleting a blocklist entry leaves a feed's listing blocked.
func TestFeedOverlap(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "")
	dom := string(rune(store.BlockDomain))
	put := func(id uint64) *PutFeed {
		return &PutFeed{Now: 1, ID: id, Name: "f", URL: "http://feed.test/", Format: uint8(store.FeedList), Every: 60000}
	}
	wantErrs(t, modRun(t, f,
		create("c1", "https://evil.test/", 1),
		&AddBlock{Now: 2, ID: 5, Kind: uint8(store.BlockDomain), Value: "evil.test", Actor: 1},
		put(1), put(2),
		stage(1, 10, 0, dom+"evil.test"), &CommitFeed{Now: 11, ID: 1, Ver: 10, Count: 1},
		stage(2, 12, 0, dom+"evil.test"), &CommitFeed{Now: 13, ID: 2, Ver: 12, Count: 1},
		&DeleteBlock{Now: 14, ID: 5, Actor: 1},
	), nil, nil, nil, nil, nil, nil, nil, nil, nil)
	td, err := st.Takedown("c1")
	if err != nil || td.Feed != 1 || linkStatus(t, st, "c1") != store.StatusBlocked {
		t.Fatalf("after the blocklist entry went: %+v, %v", td, err)
	}
	wantErrs(t, modRun(t, f, stage(1, 20, 0), &CommitFeed{Now: 21, ID: 1, Ver: 20}), nil, nil)
	if td, err := st.Takedown("c1"); err != nil || td.Feed != 2 {
		t.Fatalf("after feed 1 dropped it: %+v, %v", td, err)
	}
	wantErrs(t, modRun(t, f, &DeleteFeed{Now: 30, ID: 2}), nil)
	if _, err := st.Takedown("c1"); !errors.Is(err, store.ErrNotFound) || linkStatus(t, st, "c1") != store.StatusActive {
		t.Fatalf("after both feeds dropped it: %v", err)
	}
}
