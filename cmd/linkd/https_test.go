package main

import (
	"crypto/tls"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/peerauth/peerauthtest"
	"github.com/linkd/linkd/httpd/httpdtest"
)

func servedSerial(addr, name string) (int64, error) {
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: name, InsecureSkipVerify: true})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

// linkd serve --https-addr --tls-cert --tls-key serves the operator's
// certificate for the --public-url host only, redirects plain HTTP there
// (--https-redirect), sends HSTS (--hsts), and re-reads the files on SIGHUP.
func TestServeHTTPSWithOwnCertificate(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca := peerauthtest.NewCA(t, "linkd test CA")
	ca.IssueServer(t, cert, key, 7, "sho.test")
	https := httpdtest.FreeAddr(t)
	p := mustStart(t, t.TempDir(), "--public-url", "https://sho.test", "--https-addr", https,
		"--tls-cert", cert, "--tls-key", key, "--https-redirect", "--hsts")
	if s, err := servedSerial(https, "sho.test"); err != nil || s != 7 {
		t.Fatalf("sho.test: serial %d, %v", s, err)
	}
	if _, err := servedSerial(https, "other.test"); err == nil {
		t.Fatal("a certificate for an unknown server name")
	}
	req, _ := http.NewRequest("GET", p.URL+"/x?y=1", nil)
	req.Host = "sho.test"
	resp, err := (&http.Transport{}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, port, _ := strings.Cut(https, ":"); resp.StatusCode != 308 || resp.Header.Get("Location") != "https://sho.test:"+port+"/x?y=1" {
		t.Fatalf("plain HTTP: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{ServerName: "sho.test", InsecureSkipVerify: true}}}
	req, _ = http.NewRequest("GET", "https://"+https+"/_/healthz", nil)
	req.Host = "sho.test"
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("HTTPS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}

	ca.IssueServer(t, cert, key, 8, "sho.test")
	p.signal(syscall.SIGHUP)
	eventually(t, 10*time.Second, "the new certificate after SIGHUP", func() bool {
		s, err := servedSerial(https, "sho.test")
		return err == nil && s == 8
	})
}

// HTTPS flags without --https-addr, and ACME without a DNS host name,
// are refused at start.
func TestServeHTTPSFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--hsts"}, "need --https-addr"},
		{[]string{"--https-addr", "127.0.0.1:0", "--public-url", "https://sho.test", "--acme-challenge", "dns-01"}, "--acme-challenge must be"},
		{[]string{"--https-addr", "127.0.0.1:0"}, "at least one host name"},
		{[]string{"--https-addr", "127.0.0.1:0", "--tls-cert", "/nonexistent"}, "needs its key"},
	} {
		var out, errOut strings.Builder
		args := append([]string{"serve", "--data-dir", t.TempDir(), "--http-addr", "127.0.0.1:0", "--raft-addr", httpdtest.FreeAddr(t)}, c.args...)
		if code := run(args, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("linkd %s: exit %d, stderr %q; want %q", strings.Join(c.args, " "), code, errOut.String(), c.want)
		}
	}
}
