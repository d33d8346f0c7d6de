// Package tlsd serves linkd over HTTPS: certificates from the operator's
// files or from an ACME CA through certmagic, kept in the replicated
// certificate table (Storage), ordered and renewed by the raft leader
// only, and served by every node for the hosts Policy allows. See
// DESIGN.md.
package tlsd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/linkd/linkd/internal/leading"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/mholt/acmez/v3"
	"golang.org/x/sync/singleflight"

	"github.com/linkd/linkd/store"
)

// Leader is what tlsd needs of the raft node (node.Node implements it).
type Leader interface {
	IsLeader() bool
	LeaderChanged() <-chan struct{}
	ReadIndex() (uint64, error)
	WaitApplied(ctx context.Context, index uint64) error
	Store() *store.Store
}

// ACME configures certificates from an RFC 8555 CA.
type ACME struct {
	// Directory is the CA's directory URL (certmagic.LetsEncryptProductionCA
	// by default).
	Directory string
	// Email is the account's contact address (optional).
	Email string
	// Roots, when set, are the roots trusted for the CA's own HTTPS
	// endpoint (a private CA such as pebble); nil means the system's.
	Roots *x509.CertPool
	// NoHTTP01 and NoTLSALPN01 turn a challenge type off (not both).
	NoHTTP01, NoTLSALPN01 bool
	// RenewCheck is how often the leader checks whether a certificate is
	// due for renewal (certmagic's default, 10 minutes, when zero).
	RenewCheck time.Duration
	// HTTPAddr and HTTPSAddr are this node's listen addresses. certmagic
	// would otherwise try to open its own challenge listeners on :80 and
	// :443; finding these ports in use it leaves the challenges to the
	// handlers tlsd installs on them.
	HTTPAddr, HTTPSAddr string
}

// Config configures a Server.
type Config struct {
	Node   Leader
	Policy Policy
	// Propose writes certificate storage (node.Node.Propose).
	Propose Proposer
	// CertFile and KeyFile are the operator's own certificate (PEM);
	// ACME is not used then. Reload re-reads them.
	CertFile, KeyFile string
	// ACME, when set (and CertFile is not), obtains certificates.
	ACME *ACME
	// HTTPSPort is the port plain-HTTP redirects name ("" for 443).
	HTTPSPort string
	// CatchUp, when set, waits until this node has applied every write
	// the leader had committed when it was called (cluster's ReadIndex).
	// A challenge lookup that finds nothing calls it and looks again: the
	// CA may ask a follower for a challenge the leader stored a moment
	// before, which the follower has not applied yet.
	CatchUp func(ctx context.Context) error
	Logger  *slog.Logger
}

// Server holds the certificates a node serves and, on the leader, runs
// certificate management.
type Server struct {
	cfg     Config
	log     *slog.Logger
	storage *Storage

	// Operator certificate (--tls-cert/--tls-key).
	fileCert atomic.Pointer[tls.Certificate]

	// ACME: solver answers challenges on every node (its cache stays
	// empty); issuerKey names the CA's directory in storage.
	solver    *certmagic.Config
	cache     *certmagic.Cache
	issuer    *certmagic.ACMEIssuer
	issuerKey string
	acmeCerts atomic.Pointer[map[string]*tls.Certificate] // host → certificate, loaded from storage

	mu      sync.Mutex
	manager *manager // non-nil while this node leads and manages

	// catchUps shares one CatchUp among concurrent challenge misses, so
	// requests for unknown tokens cost the leader one read at a time.
	catchUps singleflight.Group

	stop chan struct{}
	wg   sync.WaitGroup
}

// New returns a Server; call Close to stop it.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "tls"), stop: make(chan struct{})}
	empty := map[string]*tls.Certificate{}
	s.acmeCerts.Store(&empty)
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		if cfg.CertFile == "" || cfg.KeyFile == "" {
			return nil, errors.New("tlsd: a certificate file needs its key file and the other way round")
		}
		return s, s.Reload()
	}
	if cfg.ACME == nil {
		return nil, errors.New("tlsd: HTTPS needs a certificate and key, or ACME")
	}
	// A policy over the domain table may gain hosts later, but a node
	// with none at all to start with is almost certainly misconfigured
	// (an IP --public-url and no domain yet): say so rather than serve a
	// port that can complete no handshake.
	pc, dynamic := cfg.Policy.(changing)
	if len(cfg.Policy.Hosts()) == 0 {
		return nil, errors.New("tlsd: ACME needs at least one host name to obtain certificates for (--public-url or --profile-host with a DNS name, or a configured domain)")
	}
	s.storage = NewStorage(cfg.Node.Store(), cfg.Propose)
	s.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return s.solver, nil },
		Logger:           zapLogger(s.log),
	})
	s.solver, s.issuer = s.certmagicConfig(s.cache)
	s.issuerKey = s.issuer.IssuerKey()
	s.loadFromStorage()
	s.wg.Add(2)
	go s.watchStorage()
	go s.watchLeadership()
	if dynamic {
		s.wg.Add(1)
		go s.watchPolicy(pc)
	}
	return s, nil
}

// certmagicConfig returns a certmagic configuration over the replicated
// storage, with an ACME issuer for the configured CA.
func (s *Server) certmagicConfig(cache *certmagic.Cache) (*certmagic.Config, *certmagic.ACMEIssuer) {
	a := s.cfg.ACME
	zl := zapLogger(s.log)
	cfg := certmagic.New(cache, certmagic.Config{Storage: s.storage, Logger: zl})
	iss := certmagic.NewACMEIssuer(cfg, certmagic.ACMEIssuer{
		CA: a.Directory, Email: a.Email, Agreed: true, TrustedRoots: a.Roots, Logger: zl,
		AltHTTPPort: port(a.HTTPAddr), AltTLSALPNPort: port(a.HTTPSAddr), ListenHost: host(a.HTTPAddr),
		DisableHTTPChallenge: a.NoHTTP01, DisableTLSALPNChallenge: a.NoTLSALPN01,
	})
	cfg.Issuers = []certmagic.Issuer{iss}
	return cfg, iss
}

// Reload re-reads the operator's certificate files (on SIGHUP). A failed
// reload keeps serving the previous certificate.
func (s *Server) Reload() error {
	if s.cfg.CertFile == "" {
		return nil
	}
	c, err := tls.LoadX509KeyPair(s.cfg.CertFile, s.cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("tlsd: load --tls-cert/--tls-key: %w", err)
	}
	s.fileCert.Store(&c)
	s.log.Info("loaded TLS certificate", "file", s.cfg.CertFile, "names", c.Leaf.DNSNames, "notAfter", c.Leaf.NotAfter)
	return nil
}

// TLSConfig is the configuration of the HTTPS listener.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: s.GetCertificate,
		NextProtos:     []string{"http/1.1", acmez.ACMETLS1Protocol},
	}
}

// ErrUnknownHost is the handshake error for a server name Policy does not
// allow (or none at all): no certificate is served and nothing is ordered.
var ErrUnknownHost = errors.New("tlsd: no certificate for this server name")

// GetCertificate picks the certificate for a handshake: only for an
// allowed server name; the answer to a TLS-ALPN-01 challenge (from
// storage, whichever node started it); else the operator's certificate
// or the one the leader obtained.
func (s *Server) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if name == "" || !s.cfg.Policy.Allowed(name) {
		return nil, ErrUnknownHost
	}
	if c := s.fileCert.Load(); c != nil {
		return c, nil
	}
	if s.solver != nil && len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acmez.ACMETLS1Protocol {
		c, err := s.solver.GetCertificate(hello)
		if err != nil && s.caughtUp() {
			c, err = s.solver.GetCertificate(hello)
		}
		return c, err
	}
	if c := (*s.acmeCerts.Load())[name]; c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("tlsd: no certificate for %s yet", name)
}

// challengeCatchUp bounds the wait of a challenge lookup for this node to
// catch up with the leader (the CA's own timeout is about 10 s).
const challengeCatchUp = 3 * time.Second

// caughtUp runs CatchUp (one at a time, shared by concurrent callers) and
// reports whether it succeeded, so that a challenge lookup that found
// nothing is worth repeating.
func (s *Server) caughtUp() bool {
	if s.cfg.CatchUp == nil {
		return false
	}
	_, err, _ := s.catchUps.Do("", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), challengeCatchUp)
		defer cancel()
		return nil, s.cfg.CatchUp(ctx)
	})
	if err != nil {
		s.log.Warn("challenge lookup: could not catch up with the leader", "err", err)
	}
	return err == nil
}

// Refresh re-reads Policy's hosts: loads their certificates and, on the
// leader, manages the new ones. Call it when the host list changes.
func (s *Server) Refresh() {
	if s.solver == nil {
		return
	}
	s.loadFromStorage()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.manager != nil {
		s.manager.manage(s.cfg.Policy.Hosts())
	}
}

// watchStorage reloads certificates whenever an applied batch or a
// restore changed the certificate table: that is how followers (and the
// leader itself) pick up what the leader obtained.
func (s *Server) watchStorage() {
	defer s.wg.Done()
	for {
		changed := s.cfg.Node.Store().CertsChanged()
		s.loadFromStorage()
		select {
		case <-s.stop:
			return
		case <-changed:
		}
	}
}

// loadFromStorage loads the certificate of every allowed host from
// storage. A host whose pair does not load (the leader wrote the new
// certificate but not yet its key) keeps its previous certificate until
// the next change.
func (s *Server) loadFromStorage() {
	ctx := context.Background()
	old := *s.acmeCerts.Load()
	next := map[string]*tls.Certificate{}
	for _, h := range s.cfg.Policy.Hosts() {
		certPEM, err1 := s.storage.Load(ctx, certmagic.StorageKeys.SiteCert(s.issuerKey, h))
		keyPEM, err2 := s.storage.Load(ctx, certmagic.StorageKeys.SitePrivateKey(s.issuerKey, h))
		var c tls.Certificate
		err := errors.Join(err1, err2)
		if err == nil {
			c, err = tls.X509KeyPair(certPEM, keyPEM)
		}
		switch {
		case err == nil:
			if prev := old[h]; prev == nil || prev.Leaf.SerialNumber.Cmp(c.Leaf.SerialNumber) != 0 {
				s.log.Info("serving certificate", "host", h, "serial", c.Leaf.SerialNumber.Text(16), "notAfter", c.Leaf.NotAfter)
			}
			next[h] = &c
		case old[h] != nil:
			next[h] = old[h]
		}
	}
	s.acmeCerts.Store(&next)
}

// watchLeadership runs certificate management while this node leads, and
// stops it when it no longer does, woken by the node's leadership
// notifications.
func (s *Server) watchLeadership() {
	defer s.wg.Done()
	leading.Run(s.stop, s.cfg.Node, func() func() {
		s.mu.Lock()
		s.manager = s.startManager()
		s.mu.Unlock()
		return func() {
			s.mu.Lock()
			s.manager.close()
			s.manager = nil
			s.mu.Unlock()
		}
	})
}

// Managing reports whether this node runs certificate management (it
// leads, and ACME is on).
func (s *Server) Managing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.manager != nil
}

// Close stops certificate management and the storage watcher.
func (s *Server) Close() {
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	s.wg.Wait()
	if s.cache != nil {
		s.cache.Stop()
	}
}
