package store

import (
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// N concurrent misses for one code make one Pebble read, and all get its
// answer.
func TestConcurrentMissesShareOneRead(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), "db")
	defer s.Close()
	txn := s.Begin()
	txn.CreateLink(testLink("abc", "https://e.test", 1))
	mustCommit(t, txn, 1) // the commit evicts: the next Resolve misses
	const n = 32
	release := make(chan struct{})
	var joined sync.WaitGroup
	joined.Add(n - 1)
	s.readHook = func() { <-release } // the first miss holds its read...
	s.joinHook = joined.Done          // ...until every other miss has joined it
	urls := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, _, err := s.Resolve(nil, []byte("abc"))
			if err != nil {
				t.Error(err)
			}
			urls[i] = string(e.URL)
		}()
	}
	joined.Wait()
	close(release)
	wg.Wait()
	if r := s.MissReads(); r != 1 {
		t.Fatalf("%d concurrent misses made %d reads, want 1", n, r)
	}
	for i, u := range urls {
		if u != "https://e.test" {
			t.Fatalf("miss %d got %q", i, u)
		}
	}
	s.readHook, s.joinHook = nil, nil
	if e, _, _ := s.Resolve(nil, []byte("abc")); string(e.URL) != "https://e.test" || s.MissReads() != 1 {
		t.Fatalf("the shared read did not fill the hot set: %q, %d reads", e.URL, s.MissReads())
	}
}

// A miss that arrives after a commit changed the code does not take the
// answer of a read that started before the commit.
func TestMissAfterCommitDoesNotJoinOlderRead(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), "db")
	defer s.Close()
	txn := s.Begin()
	l := testLink("abc", "https://old.test", 1)
	txn.CreateLink(l)
	mustCommit(t, txn, 1)
	reading, release := make(chan struct{}), make(chan struct{})
	s.readHook = func() { close(reading); <-release }
	first := make(chan string)
	go func() {
		e, _, _ := s.Resolve(nil, []byte("abc"))
		first <- string(e.URL)
	}()
	<-reading // the first miss is inside its read (of the old URL)...
	s.readHook = nil
	txn = s.Begin()
	l.URL = "https://new.test"
	txn.UpdateLink(l)
	mustCommit(t, txn, 2) // ...when an update commits
	if e, _, _ := s.Resolve(nil, []byte("abc")); string(e.URL) != "https://new.test" {
		t.Fatalf("a miss after the commit got %q", e.URL)
	}
	close(release)
	<-first
	if e, _, _ := s.Resolve(nil, []byte("abc")); string(e.URL) != "https://new.test" {
		t.Fatalf("the stale read landed in the hot set: %q", e.URL)
	}
}
