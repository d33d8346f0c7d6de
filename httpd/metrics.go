package httpd

import (
	"bytes"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
	"github.com/valyala/fasthttp"
)

// metrics holds the server's Prometheus collectors. Counters on the
// redirect path are resolved once, so counting costs one atomic add.
type metrics struct {
	reg                                      *prometheus.Registry
	redirects, notFound, gone, blocked, prev prometheus.Counter
	limited                                  prometheus.Counter
	apiRequests                              *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	reg := prometheus.NewRegistry()
	res := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "linkd_redirect_requests_total", Help: "Requests on the redirect path by outcome.",
	}, []string{"outcome"})
	m := &metrics{
		reg:       reg,
		redirects: res.WithLabelValues("redirect"),
		notFound:  res.WithLabelValues("not_found"),
		gone:      res.WithLabelValues("gone"),
		blocked:   res.WithLabelValues("blocked"),
		prev:      res.WithLabelValues("preview"),
		limited:   res.WithLabelValues("rate_limited"),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linkd_api_requests_total", Help: "API requests by method and response status.",
		}, []string{"method", "status"}),
	}
	hot := s.st.Hot()
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	reg.MustRegister(res, m.apiRequests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		gauge("linkd_hotset_entries", "Entries in the redirect hot set.", func() float64 { return float64(hot.Stats().Entries) }),
		gauge("linkd_hotset_bytes", "Bytes used by the redirect hot set.", func() float64 { return float64(hot.Stats().Bytes) }),
		gauge("linkd_hotset_misses_total", "Hot-set lookups that went to Pebble.", func() float64 { return float64(hot.Stats().Misses) }),
		gauge("linkd_links", "Links that are not deleted.", func() float64 { n, _ := s.st.LiveLinks(); return float64(n) }),
		gauge("linkd_raft_applied_index", "Last raft index applied on this node.", func() float64 { return float64(s.cfg.Cluster.Status().AppliedIndex) }),
		gauge("linkd_raft_commit_index", "Raft commit index known to this node.", func() float64 { return float64(s.cfg.Cluster.Status().CommitIndex) }),
		gauge("linkd_raft_leader", "1 if this node is the raft leader.", func() float64 {
			if s.cfg.Cluster.Status().State == "Leader" {
				return 1
			}
			return 0
		}),
		gauge("linkd_ready", "1 if /_/readyz answers 200.", func() float64 {
			if s.cfg.Cluster.Ready() == nil {
				return 1
			}
			return 0
		}),
	)
	if rec := s.cfg.Clicks; rec != nil {
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

// metrics serves /_/metrics in the Prometheus text format.
func (s *Server) metrics(ctx *fasthttp.RequestCtx) {
	mfs, err := s.m.reg.Gather()
	if err != nil {
		s.log.Warn("gathering metrics", "err", err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.FmtText)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			writeProblem(ctx, probInternal, "Encoding metrics failed.")
			return
		}
	}
	ctx.SetContentType(string(expfmt.FmtText))
	ctx.SetBody(b.Bytes())
}
