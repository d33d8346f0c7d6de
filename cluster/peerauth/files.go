package peerauth

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// FromFiles builds mutual TLS from an operator's PKI: caFile holds the PEM
// certificates of every CA whose certificates make a peer a member (several
// during a CA rotation), certFile this node's certificate (and any
// intermediates), keyFile its private key. The node's own certificate must
// chain to one of the CAs and allow both server and client authentication,
// since every node is both; this is checked here so that a mistake fails at
// start-up rather than on every connection. Use a CA that issues only to
// linkd nodes: any certificate it issued is a member. The files are read
// once; renewed files take effect on restart (a rolling restart).
func FromFiles(caFile, certFile, keyFile string) (*Auth, error) {
	pool, n, err := loadCAs(caFile)
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("peerauth: --cluster-cert/--cluster-key: %w", err)
	}
	inter := x509.NewCertPool()
	for _, der := range cert.Certificate[1:] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("peerauth: %s: %w", certFile, err)
		}
		inter.AddCert(c)
	}
	for _, use := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		_, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{use}, CurrentTime: time.Now()})
		if err != nil {
			return nil, fmt.Errorf("peerauth: %s does not verify against %s for both server and client use: %w", certFile, caFile, err)
		}
	}
	get := func() (*tls.Certificate, error) { return &cert, nil }
	return newAuth(pool, get, fmt.Sprintf("mutual TLS with %d CA certificate(s) from %s, certificate %q", n, caFile, cert.Leaf.Subject.CommonName)), nil
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
