// Command loadgen measures acknowledged link creates against a running
// linkd: N concurrent clients POST /api/v1/links for a fixed time, and it
// reports creates per second and latency percentiles of the 201s.
//
//	go run ./bench/loadgen -server http://127.0.0.1:8080 -token lk_... -c 64 -d 10s
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	server := flag.String("server", "http://127.0.0.1:8080", "linkd base URL (comma-separate several to spread load over nodes)")
	token := flag.String("token", os.Getenv("LINKD_TOKEN"), "API token")
	conc := flag.Int("c", 64, "concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "duration")
	flag.Parse()
	servers := strings.Split(*server, ",")
	tr := &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	var mu sync.Mutex
	var lat []time.Duration
	failures := map[string]int{}
	deadline := time.Now().Add(*dur)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := servers[w%len(servers)]
			for i := 0; time.Now().Before(deadline); i++ {
				body := fmt.Sprintf(`{"url":"https://load.test/%d/%d"}`, w, i)
				req, _ := http.NewRequest("POST", base+"/api/v1/links", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+*token)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				d := time.Since(t0)
				status := "error"
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.Status
				}
				mu.Lock()
				if status == "201 Created" {
					lat = append(lat, d)
				} else {
					failures[status]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	fmt.Printf("acknowledged creates: %d in %s = %.0f/s with %d clients\n", len(lat), elapsed.Round(time.Millisecond),
		float64(len(lat))/elapsed.Seconds(), *conc)
	fmt.Printf("latency p50 %s  p90 %s  p99 %s  max %s\n", pct(0.50).Round(time.Microsecond),
		pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	if len(failures) > 0 {
		fmt.Printf("not acknowledged: %v\n", failures)
	}
}
