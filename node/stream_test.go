package node

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/linkd/linkd/internal/freeport"
)

// openStream listens on a free loopback port and dials it once; it returns
// the stream and the connection it accepted.
func openStream(t *testing.T) (*ownedStream, net.Conn) {
	t.Helper()
	addr := freeport.Addr(t)
	adv, _ := net.ResolveTCPAddr("tcp", addr)
	tcp, err := listenTCP(addr, adv)
	if err != nil {
		t.Fatal(err)
	}
	s := ownStream(tcp)
	t.Cleanup(func() { s.Close() })
	client, err := s.Dial(raft.ServerAddress(addr), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	c, err := s.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// Close ends the connections peers opened and returns only once their
// handlers have returned: after it, nothing raft's transport runs for a
// peer can touch the stores (a heartbeat handler still running when the
// node closed raft.db made raft panic: "failed to save current term").
func TestStreamCloseWaitsForConnectionHandlers(t *testing.T) {
	s, c := openStream(t)
	var handlerDone atomic.Bool
	go func() { // as raft's handleConn: read until the read fails, then work, then Close
		c.Read(make([]byte, 1))
		time.Sleep(200 * time.Millisecond) // e.g. a store write in progress
		handlerDone.Store(true)
		c.Close()
	}()
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !handlerDone.Load() {
		t.Fatalf("Close returned after %v, before the handler did", time.Since(start))
	}
	if err := s.Close(); err != nil { // the node asks again after raft's transport did
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Accept(); err == nil {
		t.Fatal("Accept after Close succeeded")
	}
}

// A handler that does not return within the bound is reported, so the node
// leaves raft.db open rather than closing it under the handler.
func TestStreamCloseReportsAHandlerStillRunning(t *testing.T) {
	s, c := openStream(t)
	s.wait = 100 * time.Millisecond
	release := make(chan struct{})
	go func() {
		c.Read(make([]byte, 1))
		<-release
		c.Close()
	}()
	defer close(release)
	if err := s.Close(); !errors.Is(err, errHandlersRunning) {
		t.Fatalf("Close = %v, want errHandlersRunning", err)
	}
	if err := s.Close(); !errors.Is(err, errHandlersRunning) {
		t.Fatalf("second Close = %v, want the same answer", err)
	}
}

// Replication must not use raft's pipeline (see transportInFlight): the
// transport refuses to open one, so raft replicates with one synchronous
// AppendEntries at a time.
func TestTransportRefusesPipelines(t *testing.T) {
	addr := freeport.Addr(t)
	n := &Node{cfg: Config{RaftAddr: addr, RaftAdvertise: addr}}
	trans, err := n.transport(hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer trans.(io.Closer).Close()
	if _, err := trans.AppendEntriesPipeline("peer", raft.ServerAddress(addr)); !errors.Is(err, raft.ErrPipelineReplicationNotSupported) {
		t.Fatalf("AppendEntriesPipeline: %v, want %v", err, raft.ErrPipelineReplicationNotSupported)
	}
}
