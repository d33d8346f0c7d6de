package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/internal/diskscan"
)

// filesHolding returns the files under dir whose raw bytes contain s.
func filesHolding(t *testing.T, dir, s string) []string {
	t.Helper()
	out, err := diskscan.Holding(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// After a user's erasure and a Scrub, no Pebble file (SSTables, WALs,
// recycled or not, MANIFEST) holds the erased values, including the
// outbox's (an endpoint deleted with its deliveries; purge entries and an
// admin's deliveries rewritten without URL and title). The canaries are
// random hex, which Snappy leaves as literals, and the check is shown to
// find them in an SSTable and a WAL first. Without noRecycleCleaner the
// flushed WAL is reused by the scrub's flush and its tail keeps the canary.
func TestScrubLeavesNoErasedValue(t *testing.T) {
	dir := t.TempDir()
	var onErase int
	s, err := Open(dir, Options{FS: vfs.Default, OnErase: func(index uint64) { onErase += int(index) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := make([]byte, 8)
	rand.Read(r)
	canary := "canary" + hex.EncodeToString(r)
	u := &User{ID: 9, Email: canary + "@x.test", CreatedAt: 1}
	txn := s.Begin()
	txn.PutUser(nil, u)
	for i := range 50 {
		l := testLink(fmt.Sprintf("c%02d", i), "https://dest.test/"+canary, int64(i))
		l.Owner, l.Title = u.ID, "title-"+canary
		txn.CreateLink(l)
	}
	txn.PutProfile(nil, &Profile{User: u.ID, Handle: "h9", Bio: "bio-" + canary})
	// The outbox as the fsm leaves it, unacknowledged: the user's webhook
	// endpoint, and each change in the purge queue and in the deliveries
	// of the user's and an admin's endpoint.
	own := &Endpoint{ID: 70, Owner: u.ID, URL: "https://hooks.test/" + canary, Secret: "whsec_" + canary}
	admin := &Endpoint{ID: 71, Owner: 1, All: true, URL: "https://admin-hooks.test/", Secret: "whsec_admin"}
	h := &OutboxHead{}
	for i, ch := range txn.TakeChanges().Links {
		c := &Change{Kind: ChangeLinkCreated, Owner: u.ID, Code: ch.New.Code, URL: ch.New.URL, Title: ch.New.Title}
		p := Pos{Index: 1, Seq: uint16(i)}
		if err := txn.EnqueuePurge(h, p, c, 10000); err != nil {
			t.Fatal(err)
		}
		for _, ep := range []*Endpoint{own, admin} {
			txn.QueueDelivery(ep.ID, &Delivery{Pos: p, Change: *c})
			ep.Pending++
		}
	}
	txn.PutEndpoint(own)
	txn.PutEndpoint(admin)
	txn.PutOutboxHead(h)
	mustCommit(t, txn, 1)
	if err := s.db.Flush(); err != nil { // an SSTable and an obsolete WAL hold the canary
		t.Fatal(err)
	}
	txn = s.Begin() // the memtable's WAL too
	l := testLink("later", "https://later.test/"+canary, 99)
	l.Owner = u.ID
	txn.CreateLink(l)
	mustCommit(t, txn, 2)
	if err := s.SyncWAL(); err != nil {
		t.Fatal(err)
	}
	var sst, wal bool
	for _, p := range filesHolding(t, dir, canary) {
		sst = sst || filepath.Ext(p) == ".sst"
		wal = wal || filepath.Ext(p) == ".log"
	}
	if !sst || !wal {
		t.Fatalf("the check cannot see the canary: in an sst %v, in a wal %v", sst, wal)
	}

	txn = s.Begin()
	if err := txn.DeleteUser(u, 100); err != nil {
		t.Fatal(err)
	}
	// What fsm's DeleteUser version 2 does to the outbox.
	if err := txn.DeleteEndpoint(own); err != nil {
		t.Fatal(err)
	}
	if n, err := txn.RedactChanges(u.ID, []uint64{admin.ID}, func(c *Change) { c.URL, c.Title = "", "" }); err != nil || n != 100 {
		t.Fatalf("RedactChanges: %d records, %v; want the 50 purges and the admin's 50 deliveries", n, err)
	}
	mustCommit(t, txn, 3)
	if onErase != 3 {
		t.Fatalf("OnErase got %d, want one call with the erasing Txn's index 3", onErase)
	}
	if _, err := s.Scrub(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := filesHolding(t, dir, canary); len(got) > 0 {
		t.Fatalf("after Scrub these files still hold the erased values: %v", got)
	}
	if got, err := s.Link("c07"); err != nil || got.Status != StatusDeleted {
		t.Fatalf("the tombstone after Scrub: %+v %v", got, err)
	}
	if _, cs, err := s.Purges(100); err != nil || len(cs) != 50 || cs[7].Code != "c07" || cs[7].URL != "" {
		t.Fatalf("the purge queue after Scrub: %d entries, %v", len(cs), err)
	}
}

// An erased key that bounded an SSTable stays in Pebble's MANIFEST (keys,
// not values) until the manifest is rewritten: a user with only an email,
// erased and scrubbed, left the email there. Scrub's version edits rewrite
// it from the live files. The check is shown to find the email in the
// MANIFEST first.
func TestScrubRewritesTheManifest(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{FS: vfs.Default})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := make([]byte, 8)
	rand.Read(r)
	email := "canary" + hex.EncodeToString(r) + "@x.test"
	u := &User{ID: 9, Email: email, CreatedAt: 1}
	txn := s.Begin()
	txn.PutUser(nil, u)
	mustCommit(t, txn, 1)
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	holding := filesHolding(t, dir, email)
	manifest := false
	for _, f := range holding {
		manifest = manifest || strings.HasPrefix(filepath.Base(f), "MANIFEST-")
	}
	if !manifest {
		t.Fatalf("the email should bound an SSTable in the MANIFEST before the erasure; found in %v", holding)
	}
	txn = s.Begin()
	if err := txn.DeleteUser(u, 2); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, txn, 2)
	if _, err := s.Scrub(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := filesHolding(t, dir, email); len(got) > 0 {
		t.Fatalf("after the scrub these files still hold the erased email: %v", got)
	}
}
