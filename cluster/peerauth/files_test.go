package peerauth

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/peerauth/peerauthtest"
)

// filesAuth is a member of ca's cluster.
func filesAuth(t *testing.T, ca *peerauthtest.CA, name string) *Auth {
	t.Helper()
	cf, kf := ca.Member(t, name)
	a, err := FromFiles(peerauthtest.WriteCAs(t, ca), cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestFilesMutualTLS(t *testing.T) {
	ca := peerauthtest.NewCA(t, "ops CA")
	a, b := filesAuth(t, ca, "n1"), filesAuth(t, ca, "n2")
	if got, err := exchange(t, a.ServerTLS(), b.ClientTLS()); err != nil || got != "pong" {
		t.Fatalf("same CA: %q, %v", got, err)
	}
	other := filesAuth(t, peerauthtest.NewCA(t, "other CA"), "evil")
	if got, err := exchange(t, a.ServerTLS(), other.ClientTLS()); err == nil || got != "" {
		t.Fatalf("a certificate of another CA got %q, %v", got, err)
	}
	// A secret-derived cluster and a PKI cluster are strangers.
	sec := mustSecrets(t, "n3", secretA)
	if got, err := exchange(t, sec.ServerTLS(), a.ClientTLS()); err == nil || got != "" {
		t.Fatalf("a PKI member got %q from a secret cluster, %v", got, err)
	}
}

// CA rotation, as documented: (1) every node gets the bundle of old and
// new CA, still with its old certificate; (2) nodes get certificates from
// the new CA; (3) the old CA leaves the bundle. Neighbours of each step
// talk; a node of step 3 and one of step 1 do not (they never coexist).
func TestFilesCARotation(t *testing.T) {
	oldCA, newCA := peerauthtest.NewCA(t, "old"), peerauthtest.NewCA(t, "new")
	bundle, onlyNew := peerauthtest.WriteCAs(t, oldCA, newCA), peerauthtest.WriteCAs(t, newCA)
	node := func(caFile string, issuer *peerauthtest.CA) *Auth {
		cf, kf := issuer.Member(t, "n")
		a, err := FromFiles(caFile, cf, kf)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	step := []*Auth{filesAuth(t, oldCA, "n"), node(bundle, oldCA), node(bundle, newCA), node(onlyNew, newCA)}
	for i := range 3 {
		for _, p := range [][2]*Auth{{step[i], step[i+1]}, {step[i+1], step[i]}} {
			if got, err := exchange(t, p[0].ServerTLS(), p[1].ClientTLS()); err != nil || got != "pong" {
				t.Fatalf("steps %d and %d: %q, %v", i, i+1, got, err)
			}
		}
	}
	if got, err := exchange(t, step[3].ServerTLS(), step[1].ClientTLS()); err == nil || got != "" {
		t.Fatalf("new-only node accepted an old certificate: %q", got)
	}
}

func TestFilesMistakesFailAtStart(t *testing.T) {
	ca, other := peerauthtest.NewCA(t, "ops"), peerauthtest.NewCA(t, "other")
	serverOnly, serverOnlyKey := ca.Issue(t, "n1", x509.ExtKeyUsageServerAuth)
	foreign, foreignKey := other.Member(t, "n1")
	good, goodKey := ca.Member(t, "n1")
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, []byte("nothing"), 0o600)
	for name, c := range map[string][4]string{
		"server use only":     {peerauthtest.WriteCAs(t, ca), serverOnly, serverOnlyKey, "both server and client"},
		"cert of another CA":  {peerauthtest.WriteCAs(t, ca), foreign, foreignKey, "does not verify"},
		"key of another cert": {peerauthtest.WriteCAs(t, ca), good, foreignKey, "private key does not match"},
		"no CA in file":       {empty, good, goodKey, "no PEM certificate"},
		"missing CA file":     {filepath.Join(t.TempDir(), "nope"), good, goodKey, "no such file"},
	} {
		if _, err := FromFiles(c[0], c[1], c[2]); err == nil || !strings.Contains(err.Error(), c[3]) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A renewed certificate is picked up without a restart; a broken renewal
// keeps the previous one.
func TestFilesReload(t *testing.T) {
	ca := peerauthtest.NewCA(t, "ops")
	caFile := peerauthtest.WriteCAs(t, ca)
	cf, kf := ca.Member(t, "first")
	fc := &fileCert{caFile: caFile, certFile: cf, keyFile: kf}
	fc.pool, _, _ = loadCAs(caFile)
	now := time.Now()
	if err := fc.load(now); err != nil {
		t.Fatal(err)
	}
	renew := func(name string) {
		ncf, nkf := ca.Member(t, name)
		for _, p := range [][2]string{{ncf, cf}, {nkf, kf}} {
			b, _ := os.ReadFile(p[0])
			os.WriteFile(p[1], b, 0o600)
		}
	}
	renew("second")
	if got := fc.current(now.Add(time.Second)).Leaf.Subject.CommonName; got != "first" {
		t.Fatalf("reloaded before reloadEvery: %s", got)
	}
	if got := fc.current(now.Add(reloadEvery + time.Second)).Leaf.Subject.CommonName; got != "second" {
		t.Fatalf("after a renewal: %s", got)
	}
	os.WriteFile(kf, []byte("garbage"), 0o600)
	if got := fc.current(now.Add(3 * reloadEvery)).Leaf.Subject.CommonName; got != "second" {
		t.Fatalf("after a broken renewal: %s", got)
	}
}
