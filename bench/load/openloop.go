package load

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Codes draws the code of each request: uniformly or Zipf-distributed (code
// 0 the most popular) over n codes <prefix><i>, i zero-padded to 7 digits
// (bench/seed's codes).
type Codes struct {
	Prefix string
	N      uint64
	Zipf   float64 // the exponent s; 0 means uniform. Go's Zipf needs s > 1.
}

// drawer returns a function drawing codes; each goroutine needs its own.
func (c Codes) drawer(seed uint64) func() string {
	r := rand.New(rand.NewPCG(seed, 42))
	if c.Zipf <= 0 {
		return func() string { return fmt.Sprintf("%s%07d", c.Prefix, r.Uint64N(c.N)) }
	}
	z := rand.NewZipf(rand.New(rand.NewPCG(seed, 7)), max(c.Zipf, 1.0001), 1, c.N-1)
	return func() string { return fmt.Sprintf("%s%07d", c.Prefix, z.Uint64()) }
}

// OpenResult summarises an open-loop run.
type OpenResult struct {
	Rate     float64         // requests per second asked for
	Sent     int             // requests started
	Elapsed  time.Duration   // from the first scheduled send to the last answer
	Latency  []time.Duration // sorted; measured from each request's scheduled time
	Failures map[string]int  // answers other than want, by status
}

// Pct returns the p-th latency percentile (0 < p <= 1).
func (r OpenResult) Pct(p float64) time.Duration { return pct(r.Latency, p) }

func (r OpenResult) String() string {
	s := fmt.Sprintf("open loop %.0f/s for %s: %d sent, %.0f/s answered; p50 %s p90 %s p99 %s p99.9 %s max %s",
		r.Rate, r.Elapsed.Round(time.Millisecond), r.Sent, float64(len(r.Latency))/r.Elapsed.Seconds(),
		r.Pct(0.5).Round(time.Microsecond), r.Pct(0.9).Round(time.Microsecond), r.Pct(0.99).Round(time.Microsecond),
		r.Pct(0.999).Round(time.Microsecond), r.Pct(1).Round(time.Microsecond))
	if len(r.Failures) > 0 {
		s += fmt.Sprintf("; unexpected answers: %v", r.Failures)
	}
	return s
}

// OpenLoop sends GET base/<code> at a fixed rate for d, whatever the
// server's answers take (open loop: a slow answer does not delay the next
// request, as with wrk2). Each latency counts from the moment the request
// was due, so a stalled sender or server shows in the percentiles instead
// of hiding (no coordinated omission). Redirects are not followed; an
// answer other than status want counts as a failure. At most conns
// connections are open (linkd caps connections per client address); a
// request waiting for one counts that wait. The sender waits for each due
// time on a timerfd where a Go timer would be late (sleeper).
//
// The client is fasthttp's: at the rates of bench/redirect.sh (half of
// what wrk reaches, ~35k/s) Go's net/http client on the generator's one
// core could not keep the schedule, and its own queueing (hundreds of ms,
// for nginx as for linkd) was what the percentiles showed.
func OpenLoop(base string, codes Codes, rate float64, d time.Duration, want, conns int) OpenResult {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return OpenResult{Rate: rate, Failures: map[string]int{fmt.Sprintf("bad base URL %q (want http://host:port)", base): 1}}
	}
	hc := &fasthttp.HostClient{Addr: u.Host, MaxConns: conns, MaxConnWaitTimeout: 10 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxIdleConnDuration: time.Minute,
		NoDefaultUserAgentHeader: true, DisablePathNormalizing: true}
	defer hc.CloseIdleConnections()
	// Workers take due times from a channel; enough of them that one
	// slow answer never holds up the schedule.
	const workers = 256
	due := make(chan time.Time, workers)
	lats := make([][]time.Duration, workers)
	fails := make([]map[string]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			draw := codes.drawer(uint64(w))
			fails[w] = map[string]int{}
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for t := range due {
				status := get(hc, base+"/"+draw(), req, resp)
				if status == want {
					lats[w] = append(lats[w], time.Since(t))
				} else {
					fails[w][fmt.Sprint(status)]++
				}
			}
		}()
	}
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d.Seconds() * rate)
	sleep, err := newSleeper()
	if err == nil {
		defer sleep.close()
	}
	sent := 0
	start := time.Now()
	for ; err == nil && sent < n; sent++ {
		t := start.Add(time.Duration(sent) * interval)
		if err = sleep.until(t); err != nil {
			break
		}
		due <- t
	}
	close(due)
	wg.Wait()
	res := OpenResult{Rate: rate, Sent: sent, Elapsed: time.Since(start), Failures: map[string]int{}}
	if err != nil {
		res.Failures["sleeper: "+err.Error()] = 1
	}
	for w := range workers {
		res.Latency = append(res.Latency, lats[w]...)
		for k, v := range fails[w] {
			res.Failures[k] += v
		}
	}
	slices.Sort(res.Latency)
	return res
}

// get sends GET url (redirects not followed) and returns the status, 0 on
// a transport error.
func get(hc *fasthttp.HostClient, url string, req *fasthttp.Request, resp *fasthttp.Response) int {
	req.Reset()
	resp.Reset()
	req.SetRequestURI(url)
	if err := hc.Do(req, resp); err != nil {
		return 0
	}
	return resp.StatusCode()
}
