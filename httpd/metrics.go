package httpd

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/linkd/linkd/httpd/public"
)

// metrics is the server's Prometheus registry, the collectors the front
// ends count with, and the /_/metrics handler (promhttp, through fasthttp's
// adaptor: the exposition format and content negotiation are the
// library's, not ours).
type metrics struct {
	redirect    public.Counters
	apiRequests *prometheus.CounterVec
	handler     fasthttp.RequestHandler
}

func newMetrics(cfg Config) metrics {
	reg := prometheus.NewRegistry()
	res := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "linkd_redirect_requests_total", Help: "Requests on the redirect path by outcome.",
	}, []string{"outcome"})
	m := metrics{
		redirect: public.Counters{
			Redirects: res.WithLabelValues("redirect"),
			NotFound:  res.WithLabelValues("not_found"),
			Gone:      res.WithLabelValues("gone"),
			Blocked:   res.WithLabelValues("blocked"),
			Preview:   res.WithLabelValues("preview"),
			Limited:   res.WithLabelValues("rate_limited"),
		},
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linkd_api_requests_total", Help: "API requests by method and response status.",
		}, []string{"method", "status"}),
		handler: fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})),
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	boolGauge := func(name, help string, f func() bool) prometheus.Collector {
		return gauge(name, help, func() float64 {
			if f() {
				return 1
			}
			return 0
		})
	}
	st, cl := cfg.Store, cfg.Cluster
	hot := st.Hot()
	reg.MustRegister(res, m.apiRequests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		gauge("linkd_hotset_entries", "Entries in the redirect hot set.", func() float64 { return float64(hot.Stats().Entries) }),
		gauge("linkd_hotset_bytes", "Bytes used by the redirect hot set.", func() float64 { return float64(hot.Stats().Bytes) }),
		gauge("linkd_hotset_misses_total", "Hot-set lookups that went to Pebble.", func() float64 { return float64(hot.Stats().Misses) }),
		gauge("linkd_links", "Links that are not deleted.", func() float64 { n, _ := st.LiveLinks(); return float64(n) }),
	)
	if cl != nil {
		reg.MustRegister(
			gauge("linkd_raft_applied_index", "Last raft index applied on this node.", func() float64 { return float64(cl.Status().AppliedIndex) }),
			gauge("linkd_raft_commit_index", "Raft commit index known to this node.", func() float64 { return float64(cl.Status().CommitIndex) }),
			boolGauge("linkd_raft_leader", "1 if this node is the raft leader.", func() bool { return cl.Status().State == "Leader" }),
			boolGauge("linkd_ready", "1 if /_/readyz answers 200.", func() bool { return cl.Ready() == nil }),
		)
	}
	reg.MustRegister(cfg.Collectors...)
	if rec := cfg.Clicks; rec != nil {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "linkd_clicks_dropped_total",
				Help: "Clicks dropped because the click queue was full."}, func() float64 { return float64(rec.Dropped()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "linkd_clicks_written_total",
				Help: "Clicks written to this node's click log."}, func() float64 { return float64(rec.Written()) }),
			gauge("linkd_clicks_queued", "Clicks waiting for the click log writer.", func() float64 { return float64(rec.QueueLen()) }),
		)
	}
	return m
}
