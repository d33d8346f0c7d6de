package peerauth

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/peerauth/peerauthtest"
)

const (
	secretA = "alpha-secret-alpha-secret-alpha-secret-0001"
	secretB = "bravo-secret-bravo-secret-bravo-secret-0002"
	secretC = "charlie-secret-charlie-secret-charlie-0003"
)

// The derivation is part of the wire protocol: nodes of different versions
// must derive the same CA from the same secret. These bytes are pinned.
func TestDerivedCAIsPinned(t *testing.T) {
	a, err := deriveCA(secretA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := deriveCA(secretA)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.cert.Raw) != string(b.cert.Raw) {
		t.Fatal("two derivations from one secret gave different CA certificates")
	}
	sum := sha256.Sum256(a.cert.Raw)
	got := a.fingerprint + " " + hex.EncodeToString(sum[:])
	const want = "4eb66d3c54b3b9e9 7c68cc49f1c59e40d06f301b5e5ed8e95b399e2a9d608ac19e023b6e8f3768a6"
	if got != want {
		t.Fatalf("derived CA changed:\n got %s\nwant %s", got, want)
	}
}

func mustSecrets(t *testing.T, name string, secrets ...string) *Auth {
	t.Helper()
	a, err := FromSecrets(secrets, name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// exchange runs one connection on loopback: the server side with srv's TLS,
// the client side with cli. It returns what the client read back after a
// completed exchange and the first error of either side.
func exchange(t *testing.T, srv *tls.Config, cli *tls.Config) (string, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			serr <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		tc := tls.Server(c, srv)
		if err := tc.Handshake(); err != nil {
			serr <- err
			return
		}
		var b [4]byte
		if _, err := io.ReadFull(tc, b[:]); err != nil {
			serr <- err
			return
		}
		_, err = tc.Write([]byte("pong"))
		serr <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	tc := tls.Client(c, cli)
	var got []byte
	cerr := tc.Handshake()
	if cerr == nil {
		if _, cerr = tc.Write([]byte("ping")); cerr == nil {
			got, cerr = io.ReadAll(tc)
		}
	}
	if cerr == nil || errors.Is(cerr, io.EOF) {
		cerr = nil
	}
	c.Close()
	return string(got), errors.Join(<-serr, cerr)
}

func TestSameSecretTalks(t *testing.T) {
	a, b := mustSecrets(t, "n1", secretA), mustSecrets(t, "n2", secretA)
	got, err := exchange(t, a.ServerTLS(), b.ClientTLS())
	if err != nil || got != "pong" {
		t.Fatalf("same secret: %q, %v", got, err)
	}
}

// An outsider gets nothing: no data (the server never reads or writes
// application data before the client has proved membership).
func TestOutsidersGetNothing(t *testing.T) {
	member := mustSecrets(t, "n1", secretA)
	wrong := mustSecrets(t, "evil", secretB)
	// The attacker believes any server, and presents what it has.
	permissive := func(cert *tls.Config) *tls.Config {
		c := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
		if cert != nil {
			c.GetClientCertificate = cert.GetClientCertificate
		}
		return c
	}
	other := filesAuth(t, peerauthtest.NewCA(t, "other CA"), "evil")
	for name, cli := range map[string]*tls.Config{
		"no certificate":          permissive(nil),
		"wrong secret":            permissive(wrong.ClientTLS()),
		"wrong secret, verifying": wrong.ClientTLS(),
		"another CA":              permissive(other.ClientTLS()),
	} {
		got, err := exchange(t, member.ServerTLS(), cli)
		if err == nil || got != "" {
			t.Errorf("%s: got %q, err %v", name, got, err)
		}
	}
	// A member does not talk to a server of another cluster either.
	if got, err := exchange(t, wrong.ServerTLS(), member.ClientTLS()); err == nil || got != "" {
		t.Errorf("member dialling an outsider: got %q, err %v", got, err)
	}
}

// Rotation: "a" -> "b,a" -> "b", one rolling restart each; at every step
// every pair of nodes that can coexist talks both ways, and a node left
// on the old secret alone is refused at the end.
func TestRotation(t *testing.T) {
	old := mustSecrets(t, "n1", secretA)
	both := mustSecrets(t, "n2", secretB, secretA)
	next := mustSecrets(t, "n3", secretB)
	talk := func(x, y *Auth) bool {
		got, err := exchange(t, x.ServerTLS(), y.ClientTLS())
		return err == nil && got == "pong"
	}
	for _, pair := range []struct {
		name string
		x, y *Auth
		ok   bool
	}{
		{"old/old", old, mustSecrets(t, "n4", secretA), true},
		{"old/new,old", old, both, true},
		{"new,old/new", both, next, true},
		{"old/new", old, next, false},
		{"unrelated/new,old", mustSecrets(t, "n5", secretC), both, false},
	} {
		if got := talk(pair.x, pair.y); got != pair.ok {
			t.Errorf("%s, x serving: talks=%v, want %v", pair.name, got, pair.ok)
		}
		if got := talk(pair.y, pair.x); got != pair.ok {
			t.Errorf("%s, y serving: talks=%v, want %v", pair.name, got, pair.ok)
		}
	}
}

func TestShortSecretRefused(t *testing.T) {
	_, err := FromSecrets([]string{secretA, "short"}, "n1")
	if err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("a 5-character secret: %v", err)
	}
	if _, err := FromSecrets(nil, "n1"); err == nil {
		t.Fatal("no secret accepted")
	}
}

// The leaf is short-lived and renewed at half its life.
func TestLeafRenewal(t *testing.T) {
	c, err := deriveCA(secretA)
	if err != nil {
		t.Fatal(err)
	}
	iss := &issuer{ca: c, name: "n1"}
	now := time.Now()
	first, err := iss.current(now)
	if err != nil {
		t.Fatal(err)
	}
	if life := first.Leaf.NotAfter.Sub(now); life > leafLifetime {
		t.Fatalf("leaf valid for %s", life)
	}
	if again, _ := iss.current(now.Add(leafLifetime/2 - time.Minute)); again != first {
		t.Fatal("renewed too early")
	}
	later, _ := iss.current(now.Add(leafLifetime/2 + time.Minute))
	if later == first || !later.Leaf.NotAfter.After(first.Leaf.NotAfter) {
		t.Fatal("not renewed after half its lifetime")
	}
}

func TestEphemeralAdmitsNobody(t *testing.T) {
	a, b := Ephemeral("n1"), Ephemeral("n1")
	if got, err := exchange(t, a.ServerTLS(), b.ClientTLS()); err == nil || got != "" {
		t.Fatalf("two ephemeral auths talked: %q", got)
	}
	if !Insecure().Insecure() || a.Insecure() {
		t.Fatal("Insecure() mislabelled")
	}
}
