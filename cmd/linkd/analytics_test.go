package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const browserUA = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"

// Redirects spread over all three nodes while a follower and then the
// leader restart: after the lag bound every node reports exactly as many
// clicks as redirects were answered, and no click was dropped. The same
// with --analytics-day-records=false (Clicks v1: the field layout; the
// default is v2, one record per link and day).
func TestClicksExactlyOnceAcrossRestarts(t *testing.T) {
	for _, extra := range [][]string{nil, {"--analytics-day-records=false"}} {
		t.Run(fmt.Sprint(extra), func(t *testing.T) { testClicksExactlyOnceAcrossRestarts(t, extra...) })
	}
}

func testClicksExactlyOnceAcrossRestarts(t *testing.T, extra ...string) {
	procs := startCluster(t, 3, append([]string{"--analytics-lag", "1s"}, extra...)...)
	leader := leaderOf(t, procs)
	code := mustCreateOn(t, leader, "https://counted.test")
	for _, p := range procs {
		redirectsTo(t, p, code, "https://counted.test")
	}
	var mu sync.Mutex
	live := append([]*proc(nil), procs...)
	var answered atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 5 * time.Second, CheckRedirect: noRedirect.CheckRedirect}
			for i := 0; ctx.Err() == nil; i++ {
				mu.Lock()
				p := live[(w+i)%3]
				mu.Unlock()
				req, _ := http.NewRequest("GET", p.URL+"/"+code, nil)
				req.Header.Set("User-Agent", browserUA)
				resp, err := hc.Do(req)
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue // refused while the node restarts: not answered, not counted
				}
				resp.Body.Close()
				if resp.StatusCode == 302 {
					answered.Add(1)
				}
			}
		}()
	}
	restart := func(p *proc) {
		time.Sleep(time.Second)
		p.stop(t)
		np := p.restart(t)
		np.waitReady(t, 30*time.Second)
		mu.Lock()
		live[indexOf(live, p)] = np
		mu.Unlock()
	}
	restart(followersOf(procs, leader)[0])
	restart(leader)
	time.Sleep(time.Second)
	cancel()
	wg.Wait()
	// Each node answered one redirect to redirectsTo before the load.
	n := uint64(answered.Load()) + uint64(len(procs))
	if n < 500 {
		t.Fatalf("only %d redirects answered", n)
	}
	for _, p := range live {
		var got uint64
		eventually(t, 20*time.Second, p.id+" to count every click", func() bool {
			got = totalClicks(t, p, code)
			return got >= n
		})
		if got != n {
			t.Fatalf("%s counts %d clicks for %d answered redirects", p.id, got, n)
		}
		if d := metric(t, p, "linkd_clicks_dropped_total"); d != "0" {
			t.Fatalf("%s dropped %s clicks", p.id, d)
		}
	}
	t.Logf("%d redirects over 3 nodes with two restarts: counted exactly once on every node", n)
}

func indexOf(ps []*proc, p *proc) int {
	for i, q := range ps {
		if q == p {
			return i
		}
	}
	return -1
}

func totalClicks(t *testing.T, p *proc, code string) uint64 {
	t.Helper()
	req, _ := http.NewRequest("GET", p.URL+"/api/v1/links/"+code+"/analytics", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var a struct{ Total uint64 }
	json.NewDecoder(resp.Body).Decode(&a)
	return a.Total
}

// metric returns a metric's value from /_/metrics as text.
func metric(t *testing.T, p *proc, name string) string {
	t.Helper()
	text, err := metricsText(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	t.Fatalf("%s has no metric %s", p.id, name)
	return ""
}

// metricsText returns p's /_/metrics page (read with the test token).
func metricsText(p *proc) (string, error) {
	req, _ := http.NewRequest("GET", p.URL+"/_/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
