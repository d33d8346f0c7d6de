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
}

func (s *Server) startManager() *manager {
	m := &manager{log: s.log}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   func(certmagic.Certificate) (*certmagic.Config, error) { return m.cfg, nil },
		RenewCheckInterval: s.cfg.ACME.RenewCheck,
		Logger:             zapLogger(s.log),
	})
	m.cfg, _ = s.certmagicConfig(m.cache)
	hosts := s.cfg.Policy.Hosts()
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
		m.log.Info("leader: managing certificates", "hosts", hosts)
		m.manage(hosts)
	}()
	return m
}

// manage starts managing hosts: each is loaded from storage, or ordered,
// and renewed in time from then on.
func (m *manager) manage(hosts []string) {
	if err := m.cfg.ManageAsync(m.ctx, hosts); err != nil {
		m.log.Warn("managing certificates", "hosts", hosts, "err", err)
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
