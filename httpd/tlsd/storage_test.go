package tlsd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/clustertest"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/tlsd"
	"github.com/linkd/linkd/node"
)

// storages returns the certificate storage of every node of a 3-node
// cluster, the leader's first, each proposing through its own node (so
// only the leader can write). The leader's proposes through whichever node
// leads at the time and retries when leadership moves under load (PutCert
// and DeleteCert are idempotent), as the next leader's certmagic would.
func storages(t *testing.T) (*clustertest.Cluster, []*clustertest.Node, []*tlsd.Storage) {
	c := clustertest.Start(t, 3)
	leader := c.Leader()
	propose := func(ctx context.Context, cmd fsm.Command) (*fsm.Result, error) {
		for attempt := 0; ; attempt++ {
			r, err := c.Leader().Node.Propose(ctx, cmd)
			if attempt == 20 || !errors.Is(err, node.ErrNotApplied) && !errors.Is(err, node.ErrUnknownOutcome) {
				return r, err
			}
		}
	}
	nodes := append([]*clustertest.Node{leader}, c.Followers()...)
	out := []*tlsd.Storage{tlsd.NewStorage(leader.Node.Store(), propose)}
	for _, f := range nodes[1:] {
		out = append(out, tlsd.NewStorage(f.Node.Store(), f.Node.Propose))
	}
	return c, nodes, out
}

// waitLoad waits (on the table's change notification, not a poll) until
// s, the storage over nd's store, holds want under key.
func waitLoad(t *testing.T, nd *clustertest.Node, s *tlsd.Storage, key string, want []byte) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		changed := nd.Node.Store().CertsChanged()
		if v, err := s.Load(context.Background(), key); err == nil && bytes.Equal(v, want) {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("node %s never loaded %s", nd.ID, key)
		}
	}
}

// What the leader stores, every node reads, with certmagic's semantics
// for List, Stat, Exists and Delete (a directory with its contents).
func TestStorageReplicates(t *testing.T) {
	_, nodes, ss := storages(t)
	ctx := context.Background()
	leader := ss[0]
	files := map[string]string{
		"certificates/ca/sho.rt/sho.rt.crt":  "cert",
		"certificates/ca/sho.rt/sho.rt.key":  "key",
		"certificates/ca/sho.rt/sho.rt.json": "meta",
		"certificates/ca/bio.ex/bio.ex.crt":  "cert2",
		"acme/ca/users/ops/ops.json":         "acct",
	}
	for k, v := range files {
		if err := leader.Store(ctx, k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range ss {
		for k, v := range files {
			waitLoad(t, nodes[i], s, k, []byte(v))
		}
		if l, err := s.List(ctx, "certificates/ca", false); err != nil ||
			!slices.Equal(l, []string{"certificates/ca/bio.ex", "certificates/ca/sho.rt"}) {
			t.Errorf("node %d: List: %v %v", i, l, err)
		}
		if l, err := s.List(ctx, "certificates", true); err != nil || len(l) != 4 {
			t.Errorf("node %d: recursive List: %v %v", i, l, err)
		}
		if _, err := s.List(ctx, "nothing", true); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("node %d: List of nothing: %v", i, err)
		}
		ki, err := s.Stat(ctx, "certificates/ca/sho.rt/sho.rt.key")
		if err != nil || !ki.IsTerminal || ki.Size != 3 || time.Since(ki.Modified) > time.Minute {
			t.Errorf("node %d: Stat: %+v %v", i, ki, err)
		}
		if ki, err := s.Stat(ctx, "certificates/ca"); err != nil || ki.IsTerminal {
			t.Errorf("node %d: Stat of a directory: %+v %v", i, ki, err)
		}
		if !s.Exists(ctx, "certificates/ca/sho.rt") || s.Exists(ctx, "certificates/ca/sho") {
			t.Errorf("node %d: Exists", i)
		}
		if _, err := s.Load(ctx, "missing"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("node %d: Load of a missing key: %v", i, err)
		}
	}
	// A follower cannot write: only the leader orders certificates.
	for i := 1; i < len(ss); i++ {
		if !nodes[i].Node.IsLeader() {
			if err := ss[i].Store(ctx, "x", []byte("y")); !errors.Is(err, node.ErrNotLeader) {
				t.Errorf("a follower's Store: %v, want ErrNotLeader", err)
			}
			break
		}
	}
	if err := leader.Delete(ctx, "certificates/ca/sho.rt"); err != nil {
		t.Fatal(err)
	}
	if err := leader.Delete(ctx, "certificates/ca/never"); err != nil {
		t.Errorf("deleting a missing key: %v", err)
	}
	if err := leader.Store(ctx, "marker", []byte("m")); err != nil {
		t.Fatal(err)
	}
	for i, s := range ss {
		waitLoad(t, nodes[i], s, "marker", []byte("m"))
		if s.Exists(ctx, "certificates/ca/sho.rt") || s.Exists(ctx, "certificates/ca/sho.rt/sho.rt.key") ||
			!s.Exists(ctx, "certificates/ca/bio.ex/bio.ex.crt") {
			t.Errorf("node %d: Delete removed the wrong keys", i)
		}
	}
}

// Values are capped at MaxValue bytes (checked before proposing) and the
// table at MaxKeys keys (decided in Apply); overwriting an existing key
// is allowed at the cap.
func TestStorageCaps(t *testing.T) {
	c, nodes, ss := storages(t)
	ctx := context.Background()
	leader := ss[0]
	if err := leader.Store(ctx, "big", make([]byte, tlsd.MaxValue)); err != nil {
		t.Fatalf("a value of exactly MaxValue: %v", err)
	}
	if err := leader.Store(ctx, "bigger", make([]byte, tlsd.MaxValue+1)); !errors.Is(err, fsm.ErrCertTooLarge) {
		t.Fatalf("a value over MaxValue: %v", err)
	}
	if err := leader.Store(ctx, string(make([]byte, fsm.MaxCertKey+1)), nil); !errors.Is(err, fsm.ErrCertTooLarge) {
		t.Fatalf("a key over MaxCertKey: %v", err)
	}
	// The Apply check holds even for a proposer that skips its own.
	if _, err := c.Leader().Node.Propose(ctx, &fsm.PutCert{Key: "raw", Value: make([]byte, 11), MaxValue: 10, MaxKeys: 10}); !errors.Is(err, fsm.ErrCertTooLarge) {
		t.Fatalf("Apply let an oversized value in: %v", err)
	}
	// Fill the table to MaxKeys ("big" is one).
	var wg sync.WaitGroup
	errs := make(chan error, tlsd.MaxKeys)
	sem := make(chan struct{}, 16)
	for i := 1; i < tlsd.MaxKeys; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := leader.Store(ctx, fmt.Sprintf("k/%04d", i), []byte("v")); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("storing up to MaxKeys: %v", err)
	}
	if err := leader.Store(ctx, "one-too-many", []byte("v")); !errors.Is(err, fsm.ErrCertFull) {
		t.Fatalf("key MaxKeys+1: %v", err)
	}
	if err := leader.Store(ctx, "k/0001", []byte("overwrite")); err != nil {
		t.Fatalf("overwriting at the cap: %v", err)
	}
	if err := leader.Delete(ctx, "k/0002"); err != nil {
		t.Fatal(err)
	}
	if err := leader.Store(ctx, "one-too-many", []byte("v")); err != nil {
		t.Fatalf("after a delete, a new key: %v", err)
	}
	for i, s := range ss {
		waitLoad(t, nodes[i], s, "one-too-many", []byte("v"))
		if l, _ := s.List(ctx, "", true); len(l) != tlsd.MaxKeys {
			t.Errorf("node %d holds %d keys, want %d", i, len(l), tlsd.MaxKeys)
		}
	}
}

// Lock excludes within the process and honours the context; Unlock of a
// lock not held is an error.
func TestStorageLock(t *testing.T) {
	s := tlsd.NewStorage(nil, nil)
	ctx := context.Background()
	if err := s.Lock(ctx, "issue_cert_sho.rt"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.Lock(short, "issue_cert_sho.rt"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Lock: %v", err)
	}
	if err := s.Lock(ctx, "issue_cert_other"); err != nil {
		t.Fatalf("another name: %v", err)
	}
	got := make(chan error)
	go func() { got <- s.Lock(ctx, "issue_cert_sho.rt") }()
	if err := s.Unlock(ctx, "issue_cert_sho.rt"); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiting Lock: %v", err)
	}
	if err := s.Unlock(ctx, "never"); err == nil {
		t.Fatal("Unlock of a lock not held succeeded")
	}
}
