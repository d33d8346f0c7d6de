//go:build acme

// ACME suite: Let's Encrypt's pebble test CA (with pebble-challtestsrv as
// its DNS server, answering 127.0.0.1 for every name) issues certificates
// to a real 3-node cluster started with --https-addr. pebble validates
// challenges through a TCP forwarder that always picks a node that is NOT
// the leader, so every validation is answered by a follower from the
// replicated storage. Certificates live 60 seconds (pebble's profile
// validityPeriod), so renewal happens in test time. It fails (never skips) when pebble is missing. Run with:
//
//	go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3
//	go install github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@v2.10.3
//	go test -tags acme -run ACME -v -timeout 10m ./cmd/linkd/
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/peerauth/peerauthtest"
	"github.com/linkd/linkd/httpd/httpdtest"
)

const acmeHost = "sho.test"

// acmeTool returns the path of a pebble binary, failing loudly without it.
func acmeTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	gobin := filepath.Join(os.Getenv("HOME"), "go", "bin", name)
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		gobin = filepath.Join(strings.TrimSpace(string(out)), "bin", name)
	}
	if _, err := os.Stat(gobin); err != nil {
		t.Fatalf("%s is missing: go install github.com/letsencrypt/pebble/v2/cmd/%s@v2.10.3 (.ci/run installs it)", name, name)
	}
	return gobin
}

// pebbleServerCert makes a CA and a certificate for pebble's own HTTPS
// listener (127.0.0.1), and writes root.pem, cert.pem and key.pem in dir.
func pebbleServerCert(t *testing.T, dir string) {
	t.Helper()
	ca := peerauthtest.NewCA(t, "linkd test CA")
	ca.IssueServer(t, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), 2, "127.0.0.1", "localhost")
	if err := os.WriteFile(filepath.Join(dir, "root.pem"), ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
}

// runTool starts a helper process, collecting its output, killed at cleanup.
func runTool(t *testing.T, out *syncBuffer, bin string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = bufWriter{out}, bufWriter{out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s:\n%s", filepath.Base(bin), out.String())
		}
	})
}

// bufWriter adds what a process writes to a syncBuffer.
type bufWriter struct{ b *syncBuffer }

func (w bufWriter) Write(p []byte) (int, error) {
	w.b.add(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// forwarder is the "load balancer" the CA validates through: each
// connection goes to the address pick returns at that moment.
type forwarder struct {
	ln   net.Listener
	pick func() string
	mu   sync.Mutex
	hits map[string]int
}

func newForwarder(t *testing.T, pick func() string) *forwarder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln, pick: pick, hits: map[string]int{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *forwarder) serve(c net.Conn) {
	defer c.Close()
	to := f.pick()
	f.mu.Lock()
	f.hits[to]++
	f.mu.Unlock()
	b, err := net.Dial("tcp", to)
	if err != nil {
		return
	}
	defer b.Close()
	go io.Copy(b, c)
	io.Copy(c, b)
}

func (f *forwarder) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *forwarder) count() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.hits {
		out[k] = v
	}
	return out
}

// servedCert connects to addr with SNI name and returns the leaf it was
// given after verifying the chain against roots (nil: accept any, to see
// whether a certificate is served at all).
func servedCert(addr, name string, roots *x509.CertPool) (*x509.Certificate, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", addr,
		&tls.Config{ServerName: name, RootCAs: roots, InsecureSkipVerify: roots == nil})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0], nil
}

type acmeNode struct {
	*proc
	httpsAddr string
}

// acmeCluster is pebble, its DNS server, the forwarders it validates
// through, and three linkd nodes offering challenge (--acme-challenge).
type acmeCluster struct {
	nodes         []*acmeNode
	procs         []*proc
	httpLB, tlsLB *forwarder
	issuing       *x509.CertPool // pebble's issuing root
	pebbleOut     *syncBuffer
}

func startACMECluster(t *testing.T, challenge string) *acmeCluster {
	pebbleBin, challBin := acmeTool(t, "pebble"), acmeTool(t, "pebble-challtestsrv")
	dir := t.TempDir()
	pebbleServerCert(t, dir)

	// Nodes first (addresses only), so the forwarders can route to them.
	var nodes []*acmeNode
	var mu sync.Mutex
	follower := func(https bool) func() string {
		return func() string {
			mu.Lock()
			defer mu.Unlock()
			for _, n := range nodes {
				select {
				case <-n.done:
					continue
				default:
				}
				if s, err := status(n.proc); err == nil && s.State == "Follower" {
					if https {
						return n.httpsAddr
					}
					return n.httpAddr
				}
			}
			return "127.0.0.1:1"
		}
	}
	httpLB, tlsLB := newForwarder(t, follower(false)), newForwarder(t, follower(true))

	dns, chalMgmt := httpdtest.FreeAddr(t), httpdtest.FreeAddr(t)
	var chalOut syncBuffer
	pebbleOut := &syncBuffer{}
	runTool(t, &chalOut, challBin, nil, "-dnsserver", dns, "-management", chalMgmt, "-http01", "", "-https01", "",
		"-tlsalpn01", "", "-doh", "", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "")
	acmeAddr, mgmtAddr := httpdtest.FreeAddr(t), httpdtest.FreeAddr(t)
	cfg := fmt.Sprintf(`{"pebble": {"listenAddress": %q, "managementListenAddress": %q,
		"certificate": %q, "privateKey": %q, "httpPort": %d, "tlsPort": %d, "ocspResponderURL": "",
		"externalAccountBindingRequired": false, "retryAfter": {"authz": 1, "order": 1}, "keyAlgorithm": "ecdsa",
		"profiles": {"default": {"description": "60-second certificates", "validityPeriod": 60}}}}`,
		acmeAddr, mgmtAddr, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), httpLB.port(), tlsLB.port())
	if err := os.WriteFile(filepath.Join(dir, "pebble.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	runTool(t, pebbleOut, pebbleBin, []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0"},
		"-config", filepath.Join(dir, "pebble.json"), "-dnsserver", dns)

	// pebble's own HTTPS is signed by our root; its issuing root comes
	// from its management endpoint.
	caPool := x509.NewCertPool()
	rootPEM, _ := os.ReadFile(filepath.Join(dir, "root.pem"))
	caPool.AppendCertsFromPEM(rootPEM)
	mgmt := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool}}}
	var issuing *x509.CertPool
	eventually(t, 30*time.Second, "pebble's issuing root", func() bool {
		resp, err := mgmt.Get("https://" + mgmtAddr + "/roots/0")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		issuing = x509.NewCertPool()
		return resp.StatusCode == 200 && issuing.AppendCertsFromPEM(b)
	})

	specs := make([]spec, 3)
	var joins []string
	for i := range specs {
		specs[i] = newSpec(t, fmt.Sprintf("n%d", i+1))
		joins = append(joins, specs[i].raftAddr)
	}
	mu.Lock()
	for i := range specs {
		https := httpdtest.FreeAddr(t)
		specs[i].args = []string{"--join", strings.Join(joins, ","), "--bootstrap-expect", "3",
			"--cluster-secret", testSecret, "--raft-heartbeat", "500ms",
			"--public-url", "https://" + acmeHost, "--https-addr", https,
			"--acme-directory", "https://" + acmeAddr + "/dir", "--acme-ca-root", filepath.Join(dir, "root.pem"),
			"--acme-email", "ops@" + acmeHost, "--acme-renew-check", "2s", "--acme-challenge", challenge}
		nodes = append(nodes, &acmeNode{proc: launch(t, specs[i]), httpsAddr: https})
	}
	mu.Unlock()
	for _, n := range nodes {
		n.waitReady(t, 30*time.Second)
	}
	procs := []*proc{nodes[0].proc, nodes[1].proc, nodes[2].proc}
	return &acmeCluster{nodes: nodes, procs: procs, httpLB: httpLB, tlsLB: tlsLB, issuing: issuing, pebbleOut: pebbleOut}
}

func (c *acmeCluster) dump(t *testing.T) {
	for _, n := range c.nodes {
		t.Logf("logs of %s:\n%s", n.id, n.logs)
	}
}

// firstTry is how soon an order must be served: a failed validation waits
// out certmagic's one-minute retry, which a follower answering before it
// applied the challenge used to cause.
const firstTry = 45 * time.Second

// issued waits until all live nodes serve one certificate for acmeHost
// other than not (nil: any) that chains to pebble's root, and returns it.
func (c *acmeCluster) issued(t *testing.T, nodes []*acmeNode, not *x509.Certificate) *x509.Certificate {
	t.Helper()
	var got *x509.Certificate
	eventually(t, 90*time.Second, "one certificate on every live node", func() bool {
		got = nil
		for _, n := range nodes {
			cert, err := servedCert(n.httpsAddr, acmeHost, c.issuing)
			if err != nil || not != nil && cert.SerialNumber.Cmp(not.SerialNumber) == 0 ||
				got != nil && cert.SerialNumber.Cmp(got.SerialNumber) != 0 {
				return false
			}
			got = cert
		}
		return true
	})
	return got
}

// challengesViaFollowers checks that the CA's validations reached the
// cluster through lb, and only ever reached followers (not leader).
func (c *acmeCluster) challengesViaFollowers(t *testing.T, lb *forwarder, leader *proc) {
	t.Helper()
	hits := lb.count()
	if len(hits) == 0 || hits[leader.httpAddr] > 0 || hits[c.nodeOf(leader).httpsAddr] > 0 {
		c.dump(t)
		t.Fatalf("challenge connections %v: want some, none to the leader %s", hits, leader.id)
	}
	t.Logf("challenge connections (all to followers): %v", hits)
}

func (c *acmeCluster) nodeOf(p *proc) *acmeNode {
	for _, n := range c.nodes {
		if n.proc == p {
			return n
		}
	}
	return nil
}

// refusesUnknownNames checks that no node serves a certificate for an
// unknown server name (or none), and that nothing was ordered for it.
func (c *acmeCluster) refusesUnknownNames(t *testing.T) {
	t.Helper()
	for _, n := range c.nodes {
		if _, err := servedCert(n.httpsAddr, "unknown.test", nil); err == nil {
			t.Errorf("%s: unknown SNI: a certificate was served", n.id)
		}
		if _, err := servedCert(n.httpsAddr, "", nil); err == nil {
			t.Errorf("%s: no SNI: handshake succeeded", n.id)
		}
	}
	time.Sleep(2 * time.Second)
	for _, n := range c.nodes {
		for _, line := range strings.Split(n.logs.String(), "\n") {
			if strings.Contains(line, "unknown.test") && strings.Contains(line, "certificate") {
				t.Errorf("%s: %s", n.id, line)
			}
		}
	}
	if strings.Contains(c.pebbleOut.String(), "unknown.test") {
		t.Errorf("pebble saw unknown.test:\n%s", c.pebbleOut.String())
	}
}

// domainAtRuntime adds a domain through the API, with its own redirect and
// HSTS opt-ins (the cluster runs without --https-redirect and --hsts): the
// leader orders its certificate without a restart (validated through a
// follower, the redirect notwithstanding), every node serves it, and the
// opt-ins apply to that host alone. Deleting the domain makes every node
// refuse the name again.
func (c *acmeCluster) domainAtRuntime(t *testing.T) {
	t.Helper()
	const host = "go.test"
	api := leaderOf(t, c.procs).URL + "/api/v1/domains"
	start := time.Now()
	mustAPI(t, 201, "POST", api, testToken, `{"host":"`+host+`","kind":"links","httpsRedirect":true,"hsts":true}`)
	eventually(t, 90*time.Second, host+"'s certificate on every node", func() bool {
		for _, n := range c.nodes {
			if _, err := servedCert(n.httpsAddr, host, c.issuing); err != nil {
				return false
			}
		}
		return true
	})
	took := time.Since(start)
	t.Logf("domain %s added over the API: its certificate served by all three nodes %s later", host, took.Round(time.Millisecond))
	if took > firstTry {
		t.Errorf("%s's certificate took %s: a validation failed (validations by node: %v)", host, took, c.httpLB.count())
	}
	for _, n := range c.nodes {
		for _, h := range []string{host, acmeHost} {
			tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: h, RootCAs: c.issuing}}
			req, _ := http.NewRequest("GET", "https://"+n.httpsAddr+"/_/healthz", nil)
			req.Host = h
			resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatalf("%s: HTTPS for %s: %v", n.id, h, err)
			}
			resp.Body.Close()
			tr.CloseIdleConnections()
			if hsts := resp.Header.Get("Strict-Transport-Security"); (h == host) != (hsts != "") {
				t.Errorf("%s: HTTPS for %s: Strict-Transport-Security %q", n.id, h, hsts)
			}
			req, _ = http.NewRequest("GET", n.URL+"/x?y=1", nil)
			req.Host = h
			if resp, err = noRedirect.Do(req); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if redirected := resp.StatusCode == http.StatusPermanentRedirect; (h == host) != redirected ||
				redirected && !strings.HasPrefix(resp.Header.Get("Location"), "https://"+host+":") {
				t.Errorf("%s: plain HTTP for %s: %d %q", n.id, h, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	}
	mustAPI(t, 204, "DELETE", api+"/"+host, testToken, "")
	eventually(t, 10*time.Second, host+" refused on every node once deleted", func() bool {
		for _, n := range c.nodes {
			if _, err := servedCert(n.httpsAddr, host, nil); err == nil {
				return false
			}
		}
		return true
	})
}

// HTTP-01: issued through followers, served by all three nodes; an unknown
// name is refused without an order; a domain added over the API gets its
// certificate and its own redirect and HSTS; after the leader is killed the new
// leader renews (60-second certificates: pebble's ARI window is their
// whole life); when pebble validates again (it may reuse the account's
// valid authorization), only the follower left is asked.
func TestACMEHTTP01IssueServeFailoverRenew(t *testing.T) {
	c := startACMECluster(t, "http-01")
	start := time.Now()
	first := c.issued(t, c.nodes, nil)
	took := time.Since(start)
	t.Logf("issued in %s: serial %x, valid %s to %s", took.Round(time.Millisecond), first.SerialNumber,
		first.NotBefore.Format(time.TimeOnly), first.NotAfter.Format(time.TimeOnly))
	if took > firstTry {
		t.Errorf("issuance took %s: a validation failed", took)
	}
	leader := leaderOf(t, c.procs)
	c.challengesViaFollowers(t, c.httpLB, leader)
	if n := c.tlsLB.count(); len(n) > 0 {
		t.Errorf("TLS-ALPN-01 validations %v with --acme-challenge http-01", n)
	}
	c.refusesUnknownNames(t)
	c.domainAtRuntime(t)

	// pebble's renewal window (ARI) for a 60-second certificate spans its
	// whole life, so the old leader may have renewed already: what counts
	// is the certificate served when it dies.
	atKill, err := servedCert(c.nodeOf(followersOf(c.procs, leader)[0]).httpsAddr, acmeHost, c.issuing)
	if err != nil {
		t.Fatal(err)
	}
	leader.kill()
	var live []*acmeNode
	for _, n := range c.nodes {
		if n.proc != leader {
			live = append(live, n)
		}
	}
	newLeader := leaderOf(t, []*proc{live[0].proc, live[1].proc})
	t.Logf("killed leader %s; new leader %s", leader.id, newLeader.id)
	renewed := c.issued(t, live, atKill)
	t.Logf("renewed: serial %x, valid to %s", renewed.SerialNumber, renewed.NotAfter.Format(time.TimeOnly))
	// The leader logs its success just after the certificate is applied.
	eventually(t, 10*time.Second, "the new leader to log its renewal", func() bool {
		return strings.Contains(newLeader.logs.String(), "certificate renewed successfully")
	})
	for _, n := range live {
		if l := n.logs.String(); n.proc != newLeader && (strings.Contains(l, "renewing certificate") ||
			strings.Contains(l, "obtaining certificate") || strings.Contains(l, "leader: managing")) {
			c.dump(t)
			t.Fatalf("follower %s ordered or managed certificates", n.id)
		}
	}
	t.Logf("HTTP-01 validations by node: %v", c.httpLB.count())
}

// TLS-ALPN-01: the challenge certificate is served by followers from the
// replicated storage, and the certificate by all three nodes.
func TestACMETLSALPN01Issue(t *testing.T) {
	c := startACMECluster(t, "tls-alpn-01")
	start := time.Now()
	first := c.issued(t, c.nodes, nil)
	took := time.Since(start)
	t.Logf("issued in %s: serial %x", took.Round(time.Millisecond), first.SerialNumber)
	if took > firstTry {
		t.Errorf("issuance took %s: a validation failed", took)
	}
	c.challengesViaFollowers(t, c.tlsLB, leaderOf(t, c.procs))
	if n := c.httpLB.count(); len(n) > 0 {
		t.Errorf("HTTP-01 validations %v with --acme-challenge tls-alpn-01", n)
	}
	c.refusesUnknownNames(t)
}
