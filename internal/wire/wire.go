// Package wire builds one running linkd node from its parts — raft node,
// cluster layer, click log and compactor, HTTP server — and stops it. It is
// the one wiring: `linkd serve` (cmd/linkd) and the in-process test nodes
// (httpd/httpdtest) both call Start and Close, so tests run the production
// shutdown (HTTP drain, the compactor's final pass, leadership hand-off,
// raft, then Pebble).
//
// wire sits above httpd in the layering and below cmd/linkd; nothing but
// those two imports it.
package wire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linkd/linkd/cluster"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd"
	"github.com/linkd/linkd/httpd/tlsd"
	"github.com/linkd/linkd/internal/clientaddr"
	"github.com/linkd/linkd/node"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/node/feeds"
	"github.com/linkd/linkd/outbox"
	"github.com/linkd/linkd/outbox/webhook"
	"github.com/linkd/linkd/store"
)

// Analytics configures the click pipeline.
type Analytics struct {
	// Lag bounds the time from a redirect to its click in analytics.
	Lag time.Duration
	// HonorDNT records no dimensions for DNT / Sec-GPC requests.
	HonorDNT  bool
	Retention store.Retention
	// DayRecords: apply clicks as one record per link and day (Clicks v2),
	// once every member runs a release that can (the version gate).
	DayRecords bool
}

// Config is a whole node's configuration.
type Config struct {
	Node node.Config
	// Mux is the raft/RPC listener (nil for a node that uses
	// Node.RaftAddr and no internode RPC, as single-node tests do).
	Mux     *cluster.Mux
	Cluster cluster.Config
	// Analytics nil turns analytics off.
	Analytics *Analytics
	// Proxies is the one trusted-proxy list: rate limits and analytics
	// both resolve client addresses with it.
	Proxies clientaddr.Proxies
	// HTTP configures the server; Store, Cluster, Minter, Clicks,
	// TrustedProxies and Logger are filled in here.
	HTTP httpd.Config
	// TLS, when set, serves HTTPS too (ServeTLS); Node, Propose and
	// Logger are filled in here.
	TLS *tlsd.Config
	// Feeds bounds the leader's threat-feed fetches.
	Feeds feeds.Limits
	// ShutdownGrace bounds how long Close waits for open requests.
	ShutdownGrace time.Duration
	// Drain is how long Drain keeps serving after the node turned not
	// ready, so a health-checking load balancer stops sending requests
	// before the listener closes (0: no drain).
	Drain time.Duration
	// Outbox configures CDN purges and webhook delivery (the runner
	// always runs: it drains the replicated queues while this node leads).
	Outbox Outbox
	Logger *slog.Logger
}

// Outbox configures the outbox runner; the zero value purges nothing and
// delivers webhooks with the defaults to public addresses only.
type Outbox struct {
	Purgers             []outbox.Purger
	Webhooks            webhook.Policy
	Window              time.Duration // retry window (0: outbox.DefaultWindow)
	Backoff, MaxBackoff time.Duration // (0: the outbox defaults)
	PurgeRepeat         time.Duration // purge each batch again this long after (0: never)
}

// Node is one running node.
type Node struct {
	Node    *node.Node
	Cluster *cluster.Cluster
	HTTP    *httpd.Server
	TLS     *tlsd.Server // nil without HTTPS
	Outbox  *outbox.Runner
	rec     *clicks.Recorder
	comp    *clicks.Compactor
	feeds   *feeds.Runner
	grace   time.Duration
	drain   time.Duration
	log     *slog.Logger
}

// Start opens the node and builds everything above it. The HTTP server is
// built but not serving: call Serve.
func Start(cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	cfg.Node.Logger, cfg.Cluster.Logger = cfg.Logger, cfg.Logger
	n, err := node.Open(cfg.Node)
	if err != nil {
		return nil, err
	}
	w := &Node{Node: n, grace: cfg.ShutdownGrace, drain: cfg.Drain, log: cfg.Logger}
	w.Cluster = cluster.New(n, cfg.Mux, cfg.Cluster)
	if a := cfg.Analytics; a != nil {
		if err := w.startAnalytics(cfg, *a); err != nil {
			w.close()
			return nil, err
		}
	}
	w.feeds = feeds.Start(feeds.Config{Store: n.Store(), Propose: w.Cluster.Propose, Leader: n, Limits: cfg.Feeds,
		Logger: cfg.Logger})
	h := cfg.HTTP
	h.Store, h.Cluster, h.Minter, h.Logger = n.Store(), w.Cluster, node.NewMinter(n.ID(), n.Store(), w.Cluster.Propose), cfg.Logger
	h.Clicks, h.TrustedProxies = w.rec, cfg.Proxies
	if cfg.Analytics != nil {
		h.AnalyticsLag, h.ClickBatches = cfg.Analytics.Lag, w.comp
	}
	if cfg.TLS != nil {
		tc := *cfg.TLS
		tc.Node, tc.Propose, tc.CatchUp, tc.Logger = n, n.Propose, w.Cluster.ReadIndex, cfg.Logger
		tc.Policy = tlsd.WithDomains(tc.Policy, n.Store())
		if w.TLS, err = tlsd.New(tc); err != nil {
			w.close()
			return nil, err
		}
		h.Front = w.TLS.Front
	}
	ob := cfg.Outbox
	w.Outbox = outbox.Start(outbox.Config{Node: n, Propose: w.Cluster.Propose,
		Hosts: outbox.Hosts{Public: strings.TrimRight(h.PublicURL, "/"), ProfileHost: h.ProfileHost,
			Domains: n.Store().Domains},
		Purgers: ob.Purgers, Policy: ob.Webhooks, Window: ob.Window, Backoff: ob.Backoff, MaxBackoff: ob.MaxBackoff,
		PurgeRepeat: ob.PurgeRepeat,
		Logger:      cfg.Logger})
	h.Webhooks, h.Collectors = ob.Webhooks, slices.Concat(w.Outbox.Metrics.Collectors, scrubCollectors(n), raftLogCollectors(n))
	if w.HTTP, err = httpd.New(h); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *Node) startAnalytics(cfg Config, a Analytics) error {
	if a.Lag < 100*time.Millisecond {
		return errors.New("the analytics lag must be at least 100ms")
	}
	dir := filepath.Join(cfg.Node.DataDir, "clicks")
	src, err := clicks.LoadSource(dir, cfg.Node.NodeID)
	if err != nil {
		return fmt.Errorf("click log: %w", err)
	}
	ccfg := clicks.Config{Dir: dir, Source: src, Store: w.Node.Store(), Lag: a.Lag,
		HonorDNT: a.HonorDNT, TrustedProxies: cfg.Proxies, Logger: cfg.Logger,
		DayRecords: func() bool { return a.DayRecords && w.Cluster.Understands(fsm.TypeClicks, 2) },
		Parts:      func() bool { return w.Cluster.Understands(fsm.TypeClicks, 3) },
		Packed:     func() bool { return w.Cluster.Understands(fsm.TypeClicks, 4) }}
	if w.rec, w.comp, err = clicks.Start(ccfg, a.Retention, w.Cluster.Propose); err != nil {
		return fmt.Errorf("click log: %w", err)
	}
	return nil
}

// Serve serves HTTP on ln until Close.
func (w *Node) Serve(ln net.Listener) error { return w.HTTP.Serve(ln) }

// ServeTLS serves HTTPS on ln until Close (Start with Config.TLS).
func (w *Node) ServeTLS(ln net.Listener) error { return w.HTTP.ServeTLS(ln, w.TLS.TLSConfig()) }

// Drain is the first step of a graceful stop behind a load balancer: the
// node reports not ready at once (/_/readyz 503) and keeps serving every
// request for the configured drain period, or until ctx is done (a second
// signal), so the balancer's health check removes it from the pool before
// Close stops accepting connections. Call Close afterwards.
func (w *Node) Drain(ctx context.Context) {
	w.Cluster.Drain()
	w.HTTP.Drain()
	if w.drain <= 0 {
		return
	}
	w.log.Info("draining: not ready, still serving", "for", w.drain)
	t := time.NewTimer(w.drain)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Close stops the node the one way it is stopped: the HTTP server stops
// accepting and drains open requests; the click log is sealed and what is
// sealed is proposed while the node is still a member (so a node that
// never comes back loses nothing); a leader hands leadership to a
// follower; then the cluster layer, raft and the store close.
func (w *Node) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), w.grace)
	defer cancel()
	if err := w.HTTP.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		w.log.Warn("HTTP shutdown", "err", err)
	}
	return w.close()
}

// close stops everything below the HTTP server.
func (w *Node) close() error {
	if w.rec != nil {
		w.rec.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		w.comp.Pass(ctx)
		cancel()
		w.comp.Close()
	}
	if w.TLS != nil {
		w.TLS.Close() // stops managing certificates before leadership moves
	}
	if w.Outbox != nil {
		w.Outbox.Close()
	}
	if w.feeds != nil {
		w.feeds.Close()
	}
	w.Node.HandOffLeadership()
	w.Cluster.Close()
	return w.Node.Close()
}

// scrubCollectors exports the node's erasure scrubs (node/scrub.go): how
// many ran and failed, and how long the last one took.
func scrubCollectors(n *node.Node) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "linkd_erasure_scrubs_total",
			Help: "Erasure scrubs this node finished (raft log, snapshots and store rewritten without erased data)."},
			func() float64 { return float64(n.ScrubStats().Runs) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "linkd_erasure_scrub_failures_total",
			Help: "Erasure scrubs that failed (each is retried)."},
			func() float64 { return float64(n.ScrubStats().Failures) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "linkd_erasure_scrub_last_seconds",
			Help: "How long this node's last erasure scrub took."},
			func() float64 { return n.ScrubStats().Last.Seconds() }),
	}
}

// raftLogCollectors exports what the node's raft log holds against its
// byte budget (node/logbudget.go).
func raftLogCollectors(n *node.Node) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "linkd_raft_log_bytes",
			Help: "Bytes of the raft log entries this node's raft.db holds."},
			func() float64 { return float64(n.LogStats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "linkd_raft_log_entries",
			Help: "Raft log entries this node's raft.db holds."},
			func() float64 { return float64(n.LogStats().Entries) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "linkd_raft_log_budget_bytes",
			Help: "The raft log's byte budget (--raft-log-mib; 0: none)."},
			func() float64 { return float64(n.LogStats().BudgetBytes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "linkd_raft_log_budget_snapshots_total",
			Help: "Snapshots this node took because its raft log reached half its byte budget."},
			func() float64 { return float64(n.LogStats().BudgetSnapshots) }),
	}
}
