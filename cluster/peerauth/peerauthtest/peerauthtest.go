// Package peerauthtest makes an operator's PKI for tests: a CA, node
// certificates and keys in PEM files, the way --cluster-ca, --cluster-cert
// and --cluster-key expect them, and server certificates for the HTTPS
// listener's --tls-cert/--tls-key. It is for tests only and never used by
// linkd itself.
package peerauthtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a test certificate authority (ECDSA P-256, as a PKI would make).
type CA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	// PEM is the CA certificate.
	PEM []byte
	// Pool holds the CA certificate, for clients that verify against it.
	Pool *x509.CertPool
}

// NewCA makes a CA valid for an hour either side of now.
func NewCA(t testing.TB, name string) *CA {
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
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{key: key, cert: cert, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), Pool: pool}
}

// Issue writes a certificate for name with the given extended key uses
// (a linkd node needs both server and client auth) and its key, and
// returns the two file names.
func (c *CA) Issue(t testing.TB, name string, uses ...x509.ExtKeyUsage) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key")
	c.sign(t, certFile, keyFile, &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject: pkix.Name{CommonName: name}, ExtKeyUsage: uses})
	return certFile, keyFile
}

// IssueServer writes a server certificate for names (DNS names or IP
// addresses) with serial, and its key, to certFile and keyFile; each file
// is written beside its target and renamed in, as certificate tooling
// replaces files under a running server.
func (c *CA) IssueServer(t testing.TB, certFile, keyFile string, serial int64, names ...string) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: names[0]},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	c.sign(t, certFile+".new", keyFile+".new", tmpl)
	for _, f := range []string{certFile, keyFile} {
		if err := os.Rename(f+".new", f); err != nil {
			t.Fatal(err)
		}
	}
}

// sign completes tmpl (validity, key usage), signs it with a new key and
// writes the certificate and the key as PEM files.
func (c *CA) sign(t testing.TB, certFile, keyFile string, tmpl *x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	write(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	write(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}))
}

// Member issues a certificate fit for a linkd node.
func (c *CA) Member(t testing.TB, name string) (certFile, keyFile string) {
	return c.Issue(t, name, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
}

// WriteCAs writes the certificates of cas into one PEM file.
func WriteCAs(t testing.TB, cas ...*CA) string {
	t.Helper()
	var b []byte
	for _, c := range cas {
		b = append(b, c.PEM...)
	}
	f := filepath.Join(t.TempDir(), "ca.pem")
	write(t, f, b)
	return f
}

func write(t testing.TB, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
