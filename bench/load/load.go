// Package load drives acknowledged link creates against running linkd
// nodes and reports throughput and latency percentiles. bench/loadgen and
// the measurement tests (build tag measure) use it.
package load

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Result summarises a run.
type Result struct {
	Acked    int
	Elapsed  time.Duration
	Clients  int
	Latency  []time.Duration // sorted, acknowledged requests only
	Failures map[string]int  // by status
}

// Rate is acknowledged creates per second.
func (r Result) Rate() float64 { return float64(r.Acked) / r.Elapsed.Seconds() }

// Pct returns the p-th latency percentile (0 < p <= 1).
func (r Result) Pct(p float64) time.Duration { return pct(r.Latency, p) }

// pct returns the p-th percentile of sorted latencies.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

func (r Result) String() string {
	s := fmt.Sprintf("%d creates in %s = %.0f/s with %d clients; p50 %s p90 %s p99 %s max %s",
		r.Acked, r.Elapsed.Round(time.Millisecond), r.Rate(), r.Clients,
		r.Pct(0.5).Round(time.Microsecond), r.Pct(0.9).Round(time.Microsecond),
		r.Pct(0.99).Round(time.Microsecond), r.Pct(1).Round(time.Microsecond))
	if len(r.Failures) > 0 {
		s += fmt.Sprintf("; not acknowledged: %v", r.Failures)
	}
	return s
}

// Run has clients concurrent clients POST /api/v1/links for d, spread
// round-robin over servers (base URLs).
func Run(servers []string, token string, clients int, d time.Duration) Result {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	var mu sync.Mutex
	res := Result{Clients: clients, Failures: map[string]int{}}
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := servers[w%len(servers)]
			for i := 0; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				status := post(hc, base, token, fmt.Sprintf(`{"url":"https://load.test/%d/%d"}`, w, i))
				lat := time.Since(t0)
				mu.Lock()
				if status == "201 Created" {
					res.Latency = append(res.Latency, lat)
				} else {
					res.Failures[status]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Acked = len(res.Latency)
	slices.Sort(res.Latency)
	return res
}

func post(hc *http.Client, base, token, body string) string {
	req, _ := http.NewRequest("POST", base+"/api/v1/links", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "error"
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Status
}
