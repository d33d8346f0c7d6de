package tlsd_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/peerauth/peerauthtest"
	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/httpd/tlsd"
)

// handshake connects with SNI name and returns the served leaf, verified
// against roots (nil: accept any certificate, to see whether one is served).
func handshake(addr, name string, roots *x509.CertPool) (*x509.Certificate, error) {
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: name, RootCAs: roots, InsecureSkipVerify: roots == nil})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0], nil
}

// httpsGet sends GET path over HTTPS to addr with SNI and Host name.
func httpsGet(t *testing.T, addr, name, path string, roots *x509.CertPool) *http.Response {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: name, RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
	resp, err := c.Get("https://" + name + path)
	if err != nil {
		t.Fatalf("GET https://%s%s: %v", name, path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// startFileTLS starts a node serving the operator's certificate for
// sho.rt (its --public-url host) with the given redirect and HSTS choices.
func startFileTLS(t *testing.T, redirect, hsts bool) (*httpdtest.Node, *peerauthtest.CA, string) {
	ca := peerauthtest.NewCA(t, "linkd test CA")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.IssueServer(t, certFile, keyFile, 100, "sho.rt")
	n := httpdtest.StartWith(t, httpdtest.Options{TLS: &tlsd.Config{CertFile: certFile, KeyFile: keyFile,
		Policy: tlsd.NewStaticHosts(redirect, hsts, "http://sho.rt", "127.0.0.1", "localhost", "")}})
	return n, ca, dir
}

// The operator's certificate is served for the configured host only: an
// unknown server name, or none, fails the handshake.
func TestFileCertServedForConfiguredHostOnly(t *testing.T) {
	n, ca, _ := startFileTLS(t, false, false)
	leaf, err := handshake(n.HTTPSAddr, "sho.rt", ca.Pool)
	if err != nil || leaf.SerialNumber.Int64() != 100 {
		t.Fatalf("sho.rt: %v, %v", leaf, err)
	}
	resp := httpsGet(t, n.HTTPSAddr, "sho.rt", "/_/healthz", ca.Pool)
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Fatalf("GET /_/healthz over HTTPS: %d, HSTS %q (want 200, none: --hsts is off)", resp.StatusCode,
			resp.Header.Get("Strict-Transport-Security"))
	}
	for _, name := range []string{"evil.test", "SHO.RT.evil.test", "", "127.0.0.1", "localhost"} {
		if _, err := handshake(n.HTTPSAddr, name, nil); err == nil {
			t.Errorf("SNI %q: err %v, want a refused handshake", name, err)
		}
	}
	// Upper case and a trailing dot name the same host.
	if _, err := handshake(n.HTTPSAddr, "Sho.RT", ca.Pool); err != nil {
		t.Errorf("SNI Sho.RT: %v", err)
	}
}

// Reload swaps in new files; a broken file keeps the previous certificate.
func TestFileCertReload(t *testing.T) {
	n, ca, dir := startFileTLS(t, false, false)
	ca.IssueServer(t, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), 101, "sho.rt")
	if err := n.TLS.Reload(); err != nil {
		t.Fatal(err)
	}
	if leaf, err := handshake(n.HTTPSAddr, "sho.rt", ca.Pool); err != nil || leaf.SerialNumber.Int64() != 101 {
		t.Fatalf("after reload: %v, %v; want serial 101", leaf, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.TLS.Reload(); err == nil {
		t.Fatal("reloading a broken file succeeded")
	}
	if leaf, err := handshake(n.HTTPSAddr, "sho.rt", ca.Pool); err != nil || leaf.SerialNumber.Int64() != 101 {
		t.Fatalf("after a failed reload: %v, %v; want serial 101 still", leaf, err)
	}
}

// --https-redirect answers plain HTTP for the HTTPS host with a 308 to the
// same path and query on the HTTPS port, but never the ACME challenge
// path, the /_/ health paths, or other hosts; --hsts adds the header on
// HTTPS answers only.
func TestRedirectAndHSTS(t *testing.T) {
	n, ca, _ := startFileTLS(t, true, true)
	_, port, _ := net.SplitHostPort(n.HTTPSAddr)
	r := n.Do("GET", "/abc?x=1&y=2", nil, "Host", "sho.rt")
	if r.Status != 308 || r.Header.Get("Location") != "https://sho.rt:"+port+"/abc?x=1&y=2" {
		t.Fatalf("plain GET /abc: %d %q", r.Status, r.Header.Get("Location"))
	}
	if r.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS on plain HTTP")
	}
	if r := n.Do("POST", "/api/v1/links", []byte(`{"url":"https://e.test"}`), "Host", "sho.rt"); r.Status != 308 {
		t.Errorf("plain POST: %d, want 308 (which keeps the method and body)", r.Status)
	}
	for _, p := range []string{"/_/healthz", "/_/readyz"} {
		if r := n.Do("GET", p, nil, "Host", "sho.rt"); r.Status != 200 {
			t.Errorf("plain GET %s: %d, want 200 (health paths are not redirected)", p, r.Status)
		}
	}
	if r := n.Do("GET", "/.well-known/acme-challenge/token", nil, "Host", "sho.rt"); r.Status == 308 {
		t.Error("the ACME challenge path was redirected")
	}
	if r := n.Do("GET", "/abc", nil, "Host", "other.test"); r.Status == 308 {
		t.Error("a host without HTTPS was redirected")
	}
	resp := httpsGet(t, n.HTTPSAddr, "sho.rt", "/_/healthz", ca.Pool)
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") != tlsd.HSTSValue {
		t.Fatalf("HTTPS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
}

func TestStaticHosts(t *testing.T) {
	p := tlsd.NewStaticHosts(true, false, "https://Sho.RT:8443/x", "bio.example", "http://127.0.0.1:8080", "localhost", "[::1]:80", "sho.rt")
	if got := strings.Join(p.Hosts(), ","); got != "sho.rt,bio.example" {
		t.Fatalf("hosts %q", got)
	}
	if !p.Allowed("bio.example") || p.Allowed("evil.test") || p.Allowed("") {
		t.Error("Allowed")
	}
	if !p.Redirect("sho.rt") || p.Redirect("evil.test") || p.HSTS("sho.rt") {
		t.Error("Redirect/HSTS")
	}
}

// Private keys live in the replicated certificate table: backups (admins
// only) carry them, and no export or other answer does.
func TestPrivateKeysOnlyInAdminBackups(t *testing.T) {
	n, _, _ := startFileTLS(t, false, false)
	const marker = "-----BEGIN EC PRIVATE KEY----- tlsd-leak-marker"
	s := tlsd.NewStorage(n.Node.Store(), n.Node.Propose)
	if err := s.Store(context.Background(), "certificates/ca/sho.rt/sho.rt.key", []byte(marker)); err != nil {
		t.Fatal(err)
	}
	_, userToken := n.User(t, "ann@example.com", "correct horse battery")
	for _, p := range []string{"/api/v1/links/export?format=json", "/api/v1/links/export?format=csv",
		"/api/v1/analytics/export", "/api/v1/me/export"} {
		for _, who := range [][]string{nil, httpdtest.As(userToken)} {
			if r := n.Do("GET", p, nil, who...); strings.Contains(string(r.Body), "tlsd-leak-marker") {
				t.Errorf("GET %s (%d) carries the private key", p, r.Status)
			}
		}
	}
	if r := n.Do("GET", "/api/v1/backup", nil, httpdtest.As(userToken)...); r.Status != 403 {
		t.Errorf("a user's backup: %d, want 403", r.Status)
	}
	if r := n.Do("GET", "/api/v1/backup", nil); r.Status != 200 || !strings.Contains(string(r.Body), "tlsd-leak-marker") {
		t.Errorf("an admin's backup: %d, and it should hold the certificate table (restores need it)", r.Status)
	}
}
