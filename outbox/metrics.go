package outbox

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/linkd/linkd/store"
)

// Metrics are the outbox's Prometheus collectors (registered by the HTTP
// server on /_/metrics).
type Metrics struct {
	purges     *prometheus.CounterVec
	purgedURLs *prometheus.CounterVec
	// purgedHosts counts whole hosts purged (a domain changed or deleted).
	purgedHosts *prometheus.CounterVec
	deliveries  *prometheus.CounterVec
	// Collectors are all of them, for registration.
	Collectors []prometheus.Collector
}

func newMetrics(st *store.Store) *Metrics {
	m := &Metrics{
		purges: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "linkd_purge_requests_total",
			Help: "CDN purge calls by target and result (sent by the leader)."}, []string{"target", "result"}),
		purgedURLs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "linkd_purge_urls_total",
			Help: "URLs purged at a CDN by target."}, []string{"target"}),
		purgedHosts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "linkd_purge_hosts_total",
			Help: "Whole hosts purged at a CDN by target (a domain changed or was deleted)."}, []string{"target"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "linkd_webhook_deliveries_total",
			Help: "Webhook delivery attempts by result (sent by the leader)."}, []string{"result"}),
	}
	head := func(f func(*store.OutboxHead) uint64) func() float64 {
		return func() float64 {
			h, err := st.OutboxHead()
			if err != nil {
				return 0
			}
			return float64(f(h))
		}
	}
	m.Collectors = []prometheus.Collector{m.purges, m.purgedURLs, m.purgedHosts, m.deliveries,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "linkd_purge_queue",
			Help: "Changes waiting in the replicated purge queue."}, head(func(h *store.OutboxHead) uint64 { return h.Purges })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "linkd_purge_dropped_total",
			Help: "Purge entries dropped because the queue was full."}, head(func(h *store.OutboxHead) uint64 { return h.PurgesDropped })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "linkd_webhook_endpoints",
			Help: "Registered webhook endpoints."}, head(func(h *store.OutboxHead) uint64 { return h.Endpoints })),
	}
	return m
}

func (m *Metrics) purged(target string, b Batch, err error) {
	if err != nil {
		m.purges.WithLabelValues(target, "error").Inc()
		return
	}
	m.purges.WithLabelValues(target, "ok").Inc()
	m.purgedURLs.WithLabelValues(target).Add(float64(len(b.URLs)))
	m.purgedHosts.WithLabelValues(target).Add(float64(len(b.Hosts)))
}

func (m *Metrics) delivered(err error) {
	if err != nil {
		m.deliveries.WithLabelValues("error").Inc()
		return
	}
	m.deliveries.WithLabelValues("ok").Inc()
}
