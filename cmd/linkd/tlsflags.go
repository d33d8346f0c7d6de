package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/linkd/linkd/httpd/tlsd"
	"github.com/linkd/linkd/internal/wire"
)

// tlsFlags are the HTTPS flags of linkd serve.
type tlsFlags struct {
	httpsAddr, certFile, keyFile         string
	acmeDirectory, acmeEmail, acmeCARoot string
	acmeChallenge                        string
	acmeRenewCheck                       time.Duration
	redirect, hsts                       bool
}

func (f *tlsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.httpsAddr, "https-addr", "", "HTTPS listen address, e.g. :443 (empty: no HTTPS); certificates from --tls-cert/--tls-key or else ACME, for the hosts of --public-url and --profile-host and the configured domains only")
	fs.StringVar(&f.certFile, "tls-cert", "", "PEM certificate (chain) to serve on --https-addr instead of ACME; re-read on SIGHUP")
	fs.StringVar(&f.keyFile, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&f.acmeDirectory, "acme-directory", certmagic.LetsEncryptProductionCA, "ACME (RFC 8555) directory URL certificates are ordered from; the CA must reach port 80 (HTTP-01) or --https-addr on 443 (TLS-ALPN-01) of any node")
	fs.StringVar(&f.acmeEmail, "acme-email", "", "contact email of the ACME account (optional)")
	fs.StringVar(&f.acmeCARoot, "acme-ca-root", "", "PEM file of the root CA to trust for the ACME directory's own HTTPS (a private CA such as pebble); default: the system roots")
	fs.StringVar(&f.acmeChallenge, "acme-challenge", "both", "challenge types to offer the CA: http-01 (port 80 of any node), tls-alpn-01 (port 443 of any node) or both")
	fs.DurationVar(&f.acmeRenewCheck, "acme-renew-check", 10*time.Minute, "how often the raft leader checks whether a certificate is due for renewal")
	fs.BoolVar(&f.redirect, "https-redirect", false, "answer plain-HTTP requests for the HTTPS hosts with a 308 to HTTPS (not /.well-known/acme-challenge/ and /_/ health paths); needs --https-addr")
	fs.BoolVar(&f.hsts, "hsts", false, "send Strict-Transport-Security (one year) on HTTPS answers for the HTTPS hosts; needs --https-addr")
}

// config returns the HTTPS configuration, or nil without --https-addr.
func (f *tlsFlags) config(httpAddr, httpsAddr string, hosts ...string) (*tlsd.Config, error) {
	if f.httpsAddr == "" {
		if f.certFile != "" || f.keyFile != "" || f.redirect || f.hsts {
			return nil, errors.New("--tls-cert, --tls-key, --https-redirect and --hsts need --https-addr")
		}
		return nil, nil
	}
	_, port, err := net.SplitHostPort(httpsAddr)
	if err != nil {
		return nil, fmt.Errorf("--https-addr: %w", err)
	}
	c := &tlsd.Config{Policy: tlsd.NewStaticHosts(f.redirect, f.hsts, hosts...), CertFile: f.certFile, KeyFile: f.keyFile,
		HTTPSPort: port}
	if f.certFile != "" {
		return c, nil
	}
	c.ACME = &tlsd.ACME{Directory: f.acmeDirectory, Email: f.acmeEmail, RenewCheck: f.acmeRenewCheck,
		HTTPAddr: httpAddr, HTTPSAddr: httpsAddr}
	switch f.acmeChallenge {
	case "both":
	case "http-01":
		c.ACME.NoTLSALPN01 = true
	case "tls-alpn-01":
		c.ACME.NoHTTP01 = true
	default:
		return nil, fmt.Errorf("--acme-challenge must be http-01, tls-alpn-01 or both, not %q", f.acmeChallenge)
	}
	if f.acmeCARoot != "" {
		pem, err := os.ReadFile(f.acmeCARoot)
		if err != nil {
			return nil, fmt.Errorf("--acme-ca-root: %w", err)
		}
		c.ACME.Roots = x509.NewCertPool()
		if !c.ACME.Roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--acme-ca-root: no PEM certificate in %s", f.acmeCARoot)
		}
	}
	return c, nil
}

// reloadOnHUP re-reads --tls-cert/--tls-key on every SIGHUP until stop.
func reloadOnHUP(log *slog.Logger, w *wire.Node, stop <-chan struct{}) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-stop:
				return
			case <-hup:
				if err := w.TLS.Reload(); err != nil {
					log.Error("SIGHUP: keeping the previous certificate", "err", err)
				}
			}
		}
	}()
}
