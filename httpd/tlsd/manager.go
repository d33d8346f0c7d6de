package tlsd

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/caddyserver/certmagic"
)

// manager is certificate management during one leadership: its own
// certmagic cache (whose maintenance goroutine renews) and configuration,
// over the replicated storage. It is started when this node becomes leader
// and stopped, cache and all, when it stops leading, so exactly the
// leader orders and renews.
type manager struct {
	log    *slog.Logger
	cache  *certmagic.Cache
	cfg    *certmagic.Config
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu sync.Mutex
	// settled is set once this leader has applied what earlier leaders
	// committed; manage does nothing before, so a domain change arriving
	// in between cannot order what storage may already hold.
	settled bool
	// hosts are the managed hosts, each with the cancel of its own
	// context (its order's retries, up to certmagic's 30 days).
	hosts map[string]context.CancelFunc
}

func (s *Server) startManager() *manager {
	m := &manager{log: s.log, hosts: map[string]context.CancelFunc{}}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   func(certmagic.Certificate) (*certmagic.Config, error) { return m.cfg, nil },
		RenewCheckInterval: s.cfg.ACME.RenewCheck,
		Logger:             zapLogger(s.log),
	})
	m.cfg, _ = s.certmagicConfig(m.cache)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		// Read what earlier leaders stored before deciding to order:
		// a new leader's store may not have applied every committed entry.
		idx, err := s.cfg.Node.ReadIndex()
		if err == nil {
			err = s.cfg.Node.WaitApplied(m.ctx, idx)
		}
		if err != nil {
			m.log.Info("not managing certificates: leadership not settled", "err", err)
			return
		}
		m.mu.Lock()
		m.settled = true
		m.mu.Unlock()
		hosts := s.cfg.Policy.Hosts()
		m.log.Info("leader: managing certificates", "hosts", hosts)
		m.manage(hosts)
	}()
	return m
}

// manage makes hosts the managed set. A host not managed yet is loaded
// from storage, or ordered, and renewed in time from then on, under a
// context of its own; a host no longer in the list (a deleted domain) has
// its order cancelled and leaves the renewal cache, so it is never ordered
// or renewed again. A host already managed starts nothing: certmagic
// queues a new obtain job on every ManageAsync for a host it holds no
// certificate for yet, so handing it the whole list on each domain change
// would pile up one 30-day retry loop per change for a host whose
// validation fails.
func (m *manager) manage(hosts []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.settled {
		return // the settling goroutine manages Policy's hosts of that moment
	}
	want := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		want[h] = true
		if _, ok := m.hosts[h]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(m.ctx)
		m.hosts[h] = cancel
		if err := m.cfg.ManageAsync(ctx, []string{h}); err != nil {
			m.log.Warn("managing certificate", "host", h, "err", err)
		}
	}
	var gone []certmagic.SubjectIssuer
	for h, cancel := range m.hosts {
		if !want[h] {
			cancel()
			delete(m.hosts, h)
			gone = append(gone, certmagic.SubjectIssuer{Subject: h})
			m.log.Info("stopped managing certificate: host no longer configured", "host", h)
		}
	}
	if len(gone) > 0 {
		m.cache.RemoveManaged(gone)
	}
}

func (m *manager) close() {
	m.cancel()
	m.wg.Wait()
	m.cache.Stop()
	m.log.Info("no longer leader: stopped managing certificates")
}

// port returns the port number of a listen address (0 if none).
func port(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// host returns the host part of a listen address.
func host(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}
