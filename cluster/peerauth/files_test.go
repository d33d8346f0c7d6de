package peerauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA is an operator's CA, made the way a PKI would (ECDSA P-256).
type testCA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{key: key, cert: cert, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes a certificate and key for name with the given uses and
// returns the two file names.
func (c *testCA) issue(t *testing.T, name string, uses ...x509.ExtKeyUsage) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: uses}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key")
	os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return cf, kf
}

func writeCAs(t *testing.T, cas ...*testCA) string {
	t.Helper()
	var b []byte
	for _, c := range cas {
		b = append(b, c.pem...)
	}
	f := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(f, b, 0o600)
	return f
}

// filesAuth is a member of ca's cluster.
func filesAuth(t *testing.T, ca *testCA, name string) *Auth {
	t.Helper()
	cf, kf := ca.issue(t, name, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	a, err := FromFiles(writeCAs(t, ca), cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestFilesMutualTLS(t *testing.T) {
	ca := newTestCA(t, "ops CA")
	a, b := filesAuth(t, ca, "n1"), filesAuth(t, ca, "n2")
	if got, err := exchange(t, a.ServerTLS(), b.ClientTLS()); err != nil || got != "pong" {
		t.Fatalf("same CA: %q, %v", got, err)
	}
	other := filesAuth(t, newTestCA(t, "other CA"), "evil")
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
	oldCA, newCA := newTestCA(t, "old"), newTestCA(t, "new")
	bundle, onlyNew := writeCAs(t, oldCA, newCA), writeCAs(t, newCA)
	node := func(caFile string, issuer *testCA) *Auth {
		cf, kf := issuer.issue(t, "n", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
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
	ca, other := newTestCA(t, "ops"), newTestCA(t, "other")
	serverOnly, serverOnlyKey := ca.issue(t, "n1", x509.ExtKeyUsageServerAuth)
	foreign, foreignKey := other.issue(t, "n1", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	good, goodKey := ca.issue(t, "n1", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, []byte("nothing"), 0o600)
	for name, c := range map[string][4]string{
		"server use only":     {writeCAs(t, ca), serverOnly, serverOnlyKey, "both server and client"},
		"cert of another CA":  {writeCAs(t, ca), foreign, foreignKey, "does not verify"},
		"key of another cert": {writeCAs(t, ca), good, foreignKey, "private key does not match"},
		"no CA in file":       {empty, good, goodKey, "no PEM certificate"},
		"missing CA file":     {filepath.Join(t.TempDir(), "nope"), good, goodKey, "no such file"},
	} {
		if _, err := FromFiles(c[0], c[1], c[2]); err == nil || !strings.Contains(err.Error(), c[3]) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
