// Package peerauth owns the credentials with which linkd nodes prove to
// each other that they belong to the same cluster: the TLS 1.3 settings for
// mutual authentication on the raft/RPC port, built from a shared cluster
// secret or from an operator's CA, certificate and key files.
//
// From a secret, every node derives the same CA key (HKDF-SHA256 of the
// secret gives an ed25519 seed), hence the same self-signed CA certificate,
// and issues itself a short-lived leaf certificate signed by it (renewed
// while the process runs). A peer is accepted only if the certificate it
// presents chains to a configured CA; nothing else is trusted (no system
// roots) and no host name is checked: what a certificate proves is
// membership, not which member.
//
// Rotation: a comma-separated list of secrets (or several CA certificates in
// the CA file) is accepted. A node presents a certificate from the first
// secret and accepts certificates from any listed one; with more than one
// secret it also presents its CA cross-signed by every other listed CA, so a
// peer that still knows only an older secret accepts it too. So one rolling
// restart with "new,old" followed by one with "new" replaces a secret
// without a moment in which two members refuse each other.
//
// It never opens sockets, never logs, prints or returns a secret or a
// private key, and never trusts anything but the configured CAs.
package peerauth

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// Parameters of the derivation and the certificates. Changing any of the
// derivation inputs changes every cluster's CA: nodes of different versions
// would refuse each other. TestDerivedCAIsPinned holds them.
const (
	// MinSecretLen is the shortest accepted secret. The CA's certificate
	// (and so a check for a guessed secret) is visible to anyone who opens
	// a connection, so the secret must not be guessable offline.
	MinSecretLen = 32
	hkdfSalt     = "linkd cluster CA v1"
	hkdfInfo     = "ed25519 seed"
	// leafLifetime is how long a leaf certificate is valid; it is renewed
	// after half of it. leafBackdate tolerates clocks that are behind.
	leafLifetime = 24 * time.Hour
	leafBackdate = time.Hour
)

// caNotBefore and caNotAfter are fixed, so every node derives the very same
// CA certificate from a secret.
var (
	caNotBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	caNotAfter  = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Auth is how a node authenticates on the raft/RPC port: mutual TLS, or
// (only when built by Insecure) nothing.
type Auth struct {
	server, client *tls.Config
	desc           string
}

// ServerTLS is the configuration for accepted connections; nil if insecure.
func (a *Auth) ServerTLS() *tls.Config { return a.server }

// ClientTLS is the configuration for dialled connections; nil if insecure.
func (a *Auth) ClientTLS() *tls.Config { return a.client }

// Insecure reports whether peers are not authenticated at all.
func (a *Auth) Insecure() bool { return a.server == nil }

// String describes the mode for logs (never the secret).
func (a *Auth) String() string { return a.desc }

// Insecure returns an Auth that authenticates no one: plaintext, as on a
// network where every process is trusted. Only an explicit operator choice
// (--insecure-cluster) should lead here.
func Insecure() *Auth {
	return &Auth{desc: "none (insecure cluster: any process that reaches the raft port is a member)"}
}

// Ephemeral returns an Auth from a random secret nobody else knows: the
// port stays closed to every peer. It is what a single node gets when no
// secret is configured.
func Ephemeral(name string) *Auth {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	a, err := FromSecrets([]string{hex.EncodeToString(b)}, name)
	if err != nil {
		panic(err) // a fresh 64-character secret is always valid
	}
	a.desc = "a random secret of this process (no peer can join; set --cluster-secret to cluster)"
	return a
}

// FromSecrets derives the cluster CA of each secret and issues this node
// (name goes into its certificate, for logs) a leaf from the first.
func FromSecrets(secrets []string, name string) (*Auth, error) {
	if len(secrets) == 0 {
		return nil, errors.New("peerauth: no cluster secret")
	}
	cas := make([]*ca, len(secrets))
	for i, s := range secrets {
		if len(s) < MinSecretLen {
			return nil, fmt.Errorf("peerauth: cluster secret %d of %d has %d characters; at least %d are needed (e.g. head -c 32 /dev/urandom | base64)", i+1, len(secrets), len(s), MinSecretLen)
		}
		c, err := deriveCA(s)
		if err != nil {
			return nil, err
		}
		cas[i] = c
	}
	pool := x509.NewCertPool()
	for _, c := range cas {
		pool.AddCert(c.cert)
	}
	var cross [][]byte
	for _, other := range cas[1:] {
		der, err := other.crossSign(cas[0])
		if err != nil {
			return nil, err
		}
		cross = append(cross, der)
	}
	iss := &issuer{ca: cas[0], cross: cross, name: name}
	if _, err := iss.current(time.Now()); err != nil {
		return nil, err
	}
	desc := "cluster secret (CA " + cas[0].fingerprint
	if len(cas) > 1 {
		desc += fmt.Sprintf(", also accepting %d older", len(cas)-1)
	}
	get := func() (*tls.Certificate, error) { return iss.current(time.Now()) }
	return newAuth(pool, get, desc+")"), nil
}

// newAuth builds the two TLS configurations around one certificate source
// and one set of trusted CAs.
func newAuth(pool *x509.CertPool, cert func() (*tls.Certificate, error), desc string) *Auth {
	server := &tls.Config{
		MinVersion:     tls.VersionTLS13,
		ClientAuth:     tls.RequireAndVerifyClientCert,
		ClientCAs:      pool,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert() },
		// A resumed session would skip presenting the certificate again;
		// connections are pooled and long-lived, so full handshakes are cheap.
		SessionTicketsDisabled: true,
	}
	client := &tls.Config{
		MinVersion: tls.VersionTLS13,
		// The standard check would also match a host name; peers are dialled
		// by whatever address raft knows, so the chain is checked in
		// VerifyConnection instead, against the cluster CAs only.
		InsecureSkipVerify:   true,
		VerifyConnection:     func(cs tls.ConnectionState) error { return verifyPeer(cs, pool) },
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert() },
	}
	return &Auth{server: server, client: client, desc: desc}
}

// verifyPeer checks that a server's certificate chains to one of the CAs.
func verifyPeer(cs tls.ConnectionState, pool *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("peerauth: the peer presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("peerauth: the peer is not a member of this cluster: %w", err)
	}
	return nil
}

// ca is a cluster CA derived from a secret.
type ca struct {
	key         ed25519.PrivateKey
	cert        *x509.Certificate
	fingerprint string // hex of the first 8 bytes of SHA-256 of the public key
}

// deriveCA makes the CA of a secret. Ed25519 signatures are deterministic
// and every field is fixed, so each node makes the same certificate.
func deriveCA(secret string) (*ca, error) {
	seed, err := hkdf.Key(sha256.New, []byte(secret), []byte(hkdfSalt), hkdfInfo, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("peerauth: %w", err)
	}
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	c := &ca{key: key, fingerprint: hex.EncodeToString(sum[:8])}
	der, err := x509.CreateCertificate(nil, c.template(), c.template(), pub, key)
	if err != nil {
		return nil, fmt.Errorf("peerauth: CA certificate: %w", err)
	}
	if c.cert, err = x509.ParseCertificate(der); err != nil {
		return nil, fmt.Errorf("peerauth: %w", err)
	}
	return c, nil
}

// template is the CA's certificate: its own subject (distinct per secret),
// fixed serial and validity.
func (c *ca) template() *x509.Certificate {
	serial, _ := new(big.Int).SetString(c.fingerprint, 16)
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "linkd cluster CA " + c.fingerprint},
		NotBefore:             caNotBefore,
		NotAfter:              caNotAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
}

// crossSign certifies c's key (under c's own name) with by's: a peer that
// trusts only by then accepts leaves signed by c.
func (by *ca) crossSign(c *ca) ([]byte, error) {
	t := c.template()
	t.MaxPathLenZero = true // it signs leaves only
	der, err := x509.CreateCertificate(nil, t, by.cert, c.key.Public(), by.key)
	if err != nil {
		return nil, fmt.Errorf("peerauth: cross-signing: %w", err)
	}
	return der, nil
}

// issuer hands out this node's leaf certificate, renewing it at half its
// lifetime.
type issuer struct {
	ca    *ca
	cross [][]byte
	name  string

	mu    sync.Mutex
	cert  *tls.Certificate
	renew time.Time
}

func (i *issuer) current(now time.Time) (*tls.Certificate, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.cert != nil && now.Before(i.renew) {
		return i.cert, nil
	}
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("peerauth: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("peerauth: %w", err)
	}
	t := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: i.name},
		NotBefore:    now.Add(-leafBackdate),
		NotAfter:     now.Add(leafLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(nil, t, i.ca.cert, pub, i.ca.key)
	if err != nil {
		return nil, fmt.Errorf("peerauth: leaf certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("peerauth: %w", err)
	}
	i.cert = &tls.Certificate{Certificate: append([][]byte{der}, i.cross...), PrivateKey: key, Leaf: leaf}
	i.renew = now.Add(leafLifetime / 2)
	return i.cert, nil
}
