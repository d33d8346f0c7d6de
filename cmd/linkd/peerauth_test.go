package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/linkd/linkd/cluster"
	"github.com/linkd/linkd/cluster/peerauth"
	"github.com/linkd/linkd/cluster/peerauth/peerauthtest"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/store"
)

// Attacks on the raft/RPC port by a process that is not a member. Each is
// first shown to work against a node started with --insecure-cluster,
// which speaks the port as every node did before peer authentication (so
// these tests can fail); then a cluster with a secret gives every kind of
// outsider nothing.

// The protocol bytes of cluster/mux.go; an attacker knows the protocol.
const (
	muxRaftByte byte = 1
	muxRPCByte  byte = 2
	evilToken        = "lk_evil_admin_key_made_by_a_forged_apply"
	privateURL       = "https://private.test/only-members-may-read-this"
)

// attacker is a process that is not a member. With tls nil it speaks
// plaintext; otherwise it presents what certificate it has and believes any
// server (so what is tested is the member's check of the attacker).
type attacker struct {
	name string
	tls  *tls.Config
}

func permissive(a *peerauth.Auth) *tls.Config {
	c := &tls.Config{InsecureSkipVerify: true}
	if a != nil {
		c.GetClientCertificate = a.ClientTLS().GetClientCertificate
	}
	return c
}

// outsiders are the attackers of a cluster with testSecret.
func outsiders(t *testing.T) []attacker {
	wrong, err := peerauth.FromSecrets([]string{"a-wrong-secret-a-wrong-secret-a-wrong-secret"}, "evil")
	if err != nil {
		t.Fatal(err)
	}
	ca := peerauthtest.NewCA(t, "another CA")
	cf, kf := ca.Member(t, "evil")
	other, err := peerauth.FromFiles(peerauthtest.WriteCAs(t, ca), cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	return []attacker{{"plaintext", nil}, {"TLS without a certificate", permissive(nil)},
		{"a wrong secret", permissive(wrong)}, {"a certificate from another CA", permissive(other)}}
}

// dial opens a connection to a node's raft port and names the protocol.
func (a attacker) dial(addr string, proto byte) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if a.tls != nil {
		tc := tls.Client(c, a.tls)
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, err
		}
		c = tc
	}
	if _, err := c.Write([]byte{proto}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// rpc sends one internode RPC. It returns the HTTP answer, or the error and
// every byte that came back instead.
func (a attacker) rpc(addr, method, path string, body []byte) (status int, answer []byte, err error) {
	c, err := a.dial(addr, muxRPCByte)
	if err != nil {
		return 0, nil, err
	}
	defer c.Close()
	req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
	if err := req.Write(c); err != nil {
		return 0, nil, err
	}
	var got bytes.Buffer
	resp, err := http.ReadResponse(bufio.NewReader(io.TeeReader(c, &got)), req)
	if err != nil {
		return 0, got.Bytes(), err
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

// raftTransport is hashicorp/raft's own transport speaking for the
// attacker, dialling through a and listening on ln.
func (a attacker) raftTransport(ln net.Listener) *raft.NetworkTransport {
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: attackerLayer{ln, a}, MaxPool: 1, Timeout: 5 * time.Second, Logger: hclog.NewNullLogger(),
	})
}

type attackerLayer struct {
	net.Listener
	a attacker
}

func (l attackerLayer) Dial(addr raft.ServerAddress, _ time.Duration) (net.Conn, error) {
	return l.a.dial(string(addr), muxRaftByte)
}

// rawRaft sends raft RPCs to target as if from a leader: an AppendEntries
// (its answer tells the term and log length) and an InstallSnapshot, each
// on its own connection. It returns the AppendEntries answer and the error
// of each.
func rawRaft(tr *raft.NetworkTransport, target string) (*raft.AppendEntriesResponse, error, error) {
	hdr := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("evil"), Addr: []byte(tr.LocalAddr())}
	var ae raft.AppendEntriesResponse
	aeErr := tr.AppendEntries("victim", raft.ServerAddress(target), &raft.AppendEntriesRequest{RPCHeader: hdr}, &ae)
	var is raft.InstallSnapshotResponse
	isErr := tr.InstallSnapshot("victim", raft.ServerAddress(target),
		&raft.InstallSnapshotRequest{RPCHeader: hdr, SnapshotVersion: raft.SnapshotVersionMax, LastLogIndex: 1}, &is, bytes.NewReader(nil))
	return &ae, aeErr, isErr
}

// forgedAdminKey is an encoded CreateAPIKey{Owner: the bootstrap admin,
// Scopes: [admin]} for evilToken.
func forgedAdminKey(t *testing.T) []byte {
	b, err := fsm.Encode(&fsm.CreateAPIKey{Now: time.Now().UnixMilli(), Hash: store.TokenHash(evilToken),
		ID: "e0e0e0e0e0e0e0e0", Name: "evil", Owner: fsm.AdminUser, Scopes: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tokenWorks reports whether token may read the cluster's admin API.
func tokenWorks(t *testing.T, p *proc, token string) bool {
	req, _ := http.NewRequest("GET", p.URL+"/api/v1/cluster", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// listenAsAttacker opens the attacker's own raft port (plaintext, so a
// node that admits it can replicate to it).
func listenAsAttacker(t *testing.T) *cluster.Mux {
	mux, err := cluster.Listen(httpdtest.FreeAddr(t), "", peerauth.Insecure(), httpdtest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mux.Close() })
	return mux
}

// receivesData waits for raft traffic to tr that carries want, in log
// entries or a snapshot.
func receivesData(tr *raft.NetworkTransport, want []byte, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case rpc := <-tr.Consumer():
			switch req := rpc.Command.(type) {
			case *raft.AppendEntriesRequest:
				for _, e := range req.Entries {
					if bytes.Contains(e.Data, want) {
						return true
					}
				}
				// "Behind": the leader then sends everything from the start.
				rpc.Respond(&raft.AppendEntriesResponse{Term: req.Term, LastLog: 0}, nil)
			case *raft.InstallSnapshotRequest:
				b, _ := io.ReadAll(io.LimitReader(rpc.Reader, req.Size))
				if bytes.Contains(b, want) {
					return true
				}
				rpc.Respond(&raft.InstallSnapshotResponse{Term: req.Term}, nil)
			default:
				rpc.Respond(nil, fmt.Errorf("no"))
			}
		case <-deadline:
			return false
		}
	}
}

// Each attack works against --insecure-cluster (as against every node
// before peer authentication): a forged apply makes a working admin key, a
// forged non-voter join receives the cluster's data, and raw raft RPCs are
// answered.
func TestPeerAttacksWorkWithoutAuthentication(t *testing.T) {
	p := mustStart(t, t.TempDir(), "--insecure-cluster")
	mustCreateOn(t, p, privateURL)
	plain := attacker{name: "plaintext"}

	if st, b, err := plain.rpc(p.raftAddr, "POST", "/v1/apply", forgedAdminKey(t)); err != nil || st != 200 {
		t.Fatalf("forged apply on an insecure node: %d %s %v", st, b, err)
	}
	if !tokenWorks(t, p, evilToken) {
		t.Fatal("the forged admin key does not work; the attack this test guards against is not reproduced")
	}

	mux := listenAsAttacker(t)
	tr := plain.raftTransport(mux.RaftLayer())
	defer tr.Close()
	if ae, aeErr, isErr := rawRaft(tr, p.raftAddr); aeErr != nil || isErr != nil || ae.Term == 0 || ae.LastLog == 0 {
		t.Fatalf("raw raft on an insecure node: %+v %v %v", ae, aeErr, isErr)
	}
	join, _ := json.Marshal(map[string]any{"id": "evil", "raftAddr": mux.Addr().String(), "voter": false})
	if st, b, err := plain.rpc(p.raftAddr, "POST", "/v1/join", join); err != nil || st != 200 {
		t.Fatalf("forged join on an insecure node: %d %s %v", st, b, err)
	}
	if !receivesData(tr, []byte(privateURL), 20*time.Second) {
		t.Fatal("a forged non-voter received no data from an insecure node")
	}
}

// Against a cluster with a secret every outsider (plaintext, TLS without a
// certificate, a wrong secret, a certificate from another CA) gets
// nothing: no HTTP answer to a forged join, apply or probe, no raft answer,
// no admin key, no membership; anonymous /_/status names no member.
func TestPeerAttacksGetNothing(t *testing.T) {
	procs := startCluster(t, 3)
	leader := leaderOf(t, procs)
	mustCreateOn(t, leader, privateURL)
	mux := listenAsAttacker(t)
	join, _ := json.Marshal(map[string]any{"id": "evil", "raftAddr": mux.Addr().String(), "voter": false})
	for _, a := range outsiders(t) {
		for _, call := range []struct {
			method, path string
			body         []byte
		}{{"POST", "/v1/apply", forgedAdminKey(t)}, {"POST", "/v1/join", join}, {"GET", "/v1/probe", nil}} {
			for _, p := range procs {
				st, got, err := a.rpc(p.raftAddr, call.method, call.path, call.body)
				if err == nil || len(got) > 0 {
					t.Errorf("%s: %s %s on %s answered %d %q (err %v)", a.name, call.method, call.path, p.id, st, got, err)
				}
			}
		}
		tr := a.raftTransport(mux.RaftLayer())
		for _, p := range procs {
			if ae, aeErr, isErr := rawRaft(tr, p.raftAddr); aeErr == nil || isErr == nil {
				t.Errorf("%s: raw raft to %s answered: AppendEntries %+v (err %v), InstallSnapshot err %v", a.name, p.id, ae, aeErr, isErr)
			}
		}
		tr.Close()
	}
	if tokenWorks(t, leader, evilToken) {
		t.Fatal("a forged apply made a working admin key")
	}
	s, err := status(leader)
	if err != nil || len(s.Members) != 3 {
		t.Fatalf("membership after forged joins: %+v %v", s, err)
	}
	for _, p := range procs {
		if !strings.Contains(p.logs.String(), "did not prove cluster membership") {
			t.Errorf("%s logged no refused peer", p.id)
		}
		resp, err := http.Get(p.URL + "/_/status")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, q := range procs {
			if bytes.Contains(b, []byte(q.raftAddr)) || bytes.Contains(b, []byte("members")) {
				t.Fatalf("anonymous /_/status of %s shows members: %s", p.id, b)
			}
		}
	}
}

// withArgs returns the spec with every value of flag name replaced.
func withArgs(s spec, name, value string) spec {
	args := append([]string(nil), s.args...)
	for i := range args[:len(args)-1] {
		if args[i] == name {
			args[i+1] = value
		}
	}
	s.args = args
	return s
}

// A 3-node cluster with a secret forms and replicates, and rotates its
// secret with two rolling restarts ("new,old", then "new") while writes
// keep being accepted and replicated; afterwards a node with only the old
// secret cannot join.
func TestClusterSecretRotation(t *testing.T) {
	const (
		oldSecret = "rotation-test-old-secret-0123456789abcdef"
		newSecret = "rotation-test-new-secret-fedcba9876543210"
	)
	procs := startCluster(t, 3, "--cluster-secret", oldSecret)
	links := map[string]string{}
	write := func(step string) {
		for i, p := range procs {
			url := fmt.Sprintf("https://rotation.test/%s/%d", step, i)
			links[mustCreateOn(t, p, url)] = url
		}
	}
	write("before")
	for _, secrets := range []string{newSecret + "," + oldSecret, newSecret} {
		for i, p := range procs {
			p.stop(t)
			procs[i] = launch(t, withArgs(p.spec, "--cluster-secret", secrets))
			procs[i].waitReady(t, 30*time.Second)
			write(fmt.Sprintf("%d-%s", i, secrets[:3]))
		}
	}
	for code, url := range links {
		for _, p := range procs {
			redirectsTo(t, p, code, url)
		}
	}
	joins := strings.Join([]string{procs[0].raftAddr, procs[1].raftAddr, procs[2].raftAddr}, ",")
	stale := launch(t, newSpec(t, "n4", "--join", joins, "--cluster-secret", oldSecret))
	eventually(t, 20*time.Second, "the nodes to refuse n4", func() bool {
		return strings.Contains(procs[0].logs.String()+procs[1].logs.String()+procs[2].logs.String(), "did not prove cluster membership")
	})
	time.Sleep(2 * time.Second) // n4 keeps trying meanwhile
	if s, err := status(procs[0]); err != nil || len(s.Members) != 3 {
		t.Fatalf("members after a node with the old secret tried to join: %+v %v", s, err)
	}
	if resp, err := http.Get(stale.URL + "/_/readyz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("a node with the old secret became ready")
		}
	}
}

// An operator's PKI: three nodes with certificates of one CA form a
// cluster; a node with a certificate of another CA is refused.
func TestClusterMutualTLSFiles(t *testing.T) {
	ca := peerauthtest.NewCA(t, "ops CA")
	caFile := peerauthtest.WriteCAs(t, ca)
	cert, key := ca.Member(t, "linkd")
	procs := startCluster(t, 3, "--cluster-ca", caFile, "--cluster-cert", cert, "--cluster-key", key)
	code := mustCreateOn(t, procs[0], "https://pki.test/")
	for _, p := range procs {
		redirectsTo(t, p, code, "https://pki.test/")
	}
	other := peerauthtest.NewCA(t, "other CA")
	ocert, okey := other.Member(t, "evil")
	joins := strings.Join([]string{procs[0].raftAddr, procs[1].raftAddr, procs[2].raftAddr}, ",")
	launch(t, newSpec(t, "n4", "--join", joins, "--cluster-ca", peerauthtest.WriteCAs(t, other, ca), "--cluster-cert", ocert, "--cluster-key", okey))
	eventually(t, 20*time.Second, "the nodes to refuse n4", func() bool {
		return strings.Contains(procs[0].logs.String()+procs[1].logs.String()+procs[2].logs.String(), "did not prove cluster membership")
	})
	if s, err := status(procs[0]); err != nil || len(s.Members) != 3 {
		t.Fatalf("members after a node of another CA tried to join: %+v %v", s, err)
	}
}

// A node asked to cluster without credentials refuses to start, with a
// message that says what to do; contradictory options are refused too.
func TestClusteredNodeNeedsCredentials(t *testing.T) {
	base := []string{"serve", "--data-dir", t.TempDir(), "--http-addr", "127.0.0.1:0", "--raft-addr", httpdtest.FreeAddr(t)}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--join", "127.0.0.1:1", "--bootstrap-expect", "3"}, "needs peer authentication"},
		{[]string{"--join", "127.0.0.1:1"}, "--cluster-secret"},
		{[]string{"--join", "127.0.0.1:1", "--cluster-secret", "short"}, "at least 32"},
		{[]string{"--cluster-secret", testSecret, "--cluster-ca", "ca.pem"}, "not both"},
		{[]string{"--cluster-secret", testSecret, "--insecure-cluster"}, "contradicts"},
		{[]string{"--cluster-ca", "ca.pem"}, "all three"},
	} {
		var stderr bytes.Buffer
		code := run(append(base, c.args...), io.Discard, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, want 1 and %q in:\n%s", c.args, code, c.want, stderr.String())
		}
	}
}

// A cluster that ran with --insecure-cluster moves to a secret with one
// full restart, keeping its data.
func TestInsecureClusterMovesToSecret(t *testing.T) {
	procs := startCluster(t, 3, "--insecure-cluster")
	code := mustCreateOn(t, procs[0], "https://migrated.test/")
	for _, p := range procs {
		p.stop(t)
	}
	for i, p := range procs {
		s := p.spec
		s.args = slices.DeleteFunc(slices.Clone(s.args), func(a string) bool { return a == "--insecure-cluster" })
		s.args = append(s.args, "--cluster-secret", testSecret)
		procs[i] = launch(t, s)
	}
	for _, p := range procs {
		p.waitReady(t, 30*time.Second)
		redirectsTo(t, p, code, "https://migrated.test/")
	}
	if s, err := status(procs[0]); err != nil || len(s.Members) != 3 {
		t.Fatalf("members after the move: %+v %v", s, err)
	}
}
