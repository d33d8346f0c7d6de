package peerauth

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// reloadEvery is how often the certificate and key files are checked for
// a renewal.
const reloadEvery = time.Minute

// FromFiles builds mutual TLS from an operator's PKI: caFile holds the PEM
// certificates of every CA whose certificates make a peer a member (several
// during a CA rotation), certFile this node's certificate (and any
// intermediates), keyFile its private key. The node's own certificate must
// chain to one of the CAs and allow both server and client authentication,
// since every node is both; this is checked here so that a mistake fails at
// start-up rather than on every connection. Use a CA that issues only to
// linkd nodes: any certificate it issued is a member.
//
// The certificate and key are read again when their files change (checked
// at most every reloadEvery), so a renewed certificate takes effect without
// a restart; a renewal that does not load or verify is ignored and the
// previous certificate kept. The CA file is read once.
func FromFiles(caFile, certFile, keyFile string) (*Auth, error) {
	pool, n, err := loadCAs(caFile)
	if err != nil {
		return nil, err
	}
	fc := &fileCert{caFile: caFile, certFile: certFile, keyFile: keyFile, pool: pool}
	if err := fc.load(time.Now()); err != nil {
		return nil, err
	}
	desc := fmt.Sprintf("mutual TLS with %d CA certificate(s) from %s, certificate %q", n, caFile, fc.cert.Leaf.Subject.CommonName)
	return newAuth(pool, func() (*tls.Certificate, error) { return fc.current(time.Now()), nil }, desc), nil
}

// fileCert is this node's certificate from files, reloaded when they change.
type fileCert struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // modification times and sizes of the two files
	checked time.Time
}

func (f *fileCert) current(now time.Time) *tls.Certificate {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.Sub(f.checked) >= reloadEvery && f.fileStamp() != f.stamp {
		f.load(now) // on failure the previous certificate stays
	}
	f.checked = now
	return f.cert
}

func (f *fileCert) fileStamp() string {
	var b strings.Builder
	for _, name := range []string{f.certFile, f.keyFile} {
		if fi, err := os.Stat(name); err == nil {
			fmt.Fprintf(&b, "%d/%d;", fi.ModTime().UnixNano(), fi.Size())
		}
	}
	return b.String()
}

// load reads and checks the certificate and key; only a good pair
// replaces the current one.
func (f *fileCert) load(now time.Time) error {
	stamp := f.fileStamp()
	cert, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		return fmt.Errorf("peerauth: --cluster-cert/--cluster-key: %w", err)
	}
	inter := x509.NewCertPool()
	for _, der := range cert.Certificate[1:] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("peerauth: %s: %w", f.certFile, err)
		}
		inter.AddCert(c)
	}
	for _, use := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		_, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: f.pool, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{use}, CurrentTime: now})
		if err != nil {
			return fmt.Errorf("peerauth: %s does not verify against %s for both server and client use: %w", f.certFile, f.caFile, err)
		}
	}
	f.cert, f.stamp, f.checked = &cert, stamp, now
	return nil
}

// loadCAs reads every CERTIFICATE block of a PEM file.
func loadCAs(file string) (*x509.CertPool, int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, 0, fmt.Errorf("peerauth: --cluster-ca: %w", err)
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, 0, fmt.Errorf("peerauth: %s: %w", file, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, 0, errors.New("peerauth: " + file + " holds no PEM certificate")
	}
	return pool, n, nil
}
