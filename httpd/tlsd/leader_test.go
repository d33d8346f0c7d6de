package tlsd_test

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/linkd/linkd/cluster/clustertest"
	"github.com/linkd/linkd/cluster/peerauth/peerauthtest"
	"github.com/linkd/linkd/httpd/tlsd"
)

// managers starts a tlsd.Server with ACME on every node of c (the CA is
// unreachable: what is tested is who would order).
func managers(t *testing.T, c *clustertest.Cluster) map[*clustertest.Node]*tlsd.Server {
	out := map[*clustertest.Node]*tlsd.Server{}
	for _, nd := range c.Nodes {
		s, err := tlsd.New(tlsd.Config{Node: nd.Node, Propose: nd.Node.Propose, Policy: tlsd.NewStaticHosts(false, false, "sho.test"),
			ACME:   &tlsd.ACME{Directory: "https://127.0.0.1:1/directory", HTTPAddr: "127.0.0.1:1", HTTPSAddr: "127.0.0.1:1"},
			Logger: clustertest.Logger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		out[nd] = s
	}
	return out
}

// waitManaging waits until exactly the leader manages certificates.
func waitManaging(t *testing.T, c *clustertest.Cluster, ms map[*clustertest.Node]*tlsd.Server) *clustertest.Node {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		leader := c.Leader()
		ok := true
		for nd, s := range ms {
			if !nd.Node.IsLeader() && s.Managing() || nd == leader && !s.Managing() {
				ok = false
			}
		}
		if ok {
			return leader
		}
		if time.Now().After(deadline) {
			t.Fatalf("certificate management does not follow leadership (leader %s)", leader.ID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Only the leader runs certificate management; when it stops, the new
// leader takes over and the others still do not.
func TestOnlyTheLeaderManagesCertificates(t *testing.T) {
	c := clustertest.Start(t, 3)
	ms := managers(t, c)
	old := waitManaging(t, c, ms)
	ms[old].Close()
	delete(ms, old)
	old.Close()
	if next := waitManaging(t, c, ms); next == old {
		t.Fatal("the closed node still leads")
	}
}

// A certificate the leader stores is served by every node, which loads it
// when the write is applied; an unknown name still gets none.
func TestEveryNodeServesStoredCertificate(t *testing.T) {
	c := clustertest.Start(t, 3)
	ms := managers(t, c)
	ca := peerauthtest.NewCA(t, "linkd test CA")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	ca.IssueServer(t, certFile, keyFile, 4242, "sho.test")
	certPEM, _ := os.ReadFile(certFile)
	keyPEM, _ := os.ReadFile(keyFile)
	issuer := (&certmagic.ACMEIssuer{CA: "https://127.0.0.1:1/directory"}).IssuerKey()
	leader := c.Leader()
	st := tlsd.NewStorage(leader.Node.Store(), leader.Node.Propose)
	ctx := context.Background()
	if err := st.Store(ctx, certmagic.StorageKeys.SitePrivateKey(issuer, "sho.test"), keyPEM); err != nil {
		t.Fatal(err)
	}
	if err := st.Store(ctx, certmagic.StorageKeys.SiteCert(issuer, "sho.test"), certPEM); err != nil {
		t.Fatal(err)
	}
	for nd, s := range ms {
		deadline := time.Now().Add(10 * time.Second)
		for {
			cert, err := s.GetCertificate(&tls.ClientHelloInfo{ServerName: "sho.test"})
			if err == nil && cert.Leaf.SerialNumber.Int64() == 4242 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s does not serve the stored certificate: %v", nd.ID, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := s.GetCertificate(&tls.ClientHelloInfo{ServerName: "other.test"}); !errors.Is(err, tlsd.ErrUnknownHost) {
			t.Errorf("%s: other.test: %v", nd.ID, err)
		}
	}
}
