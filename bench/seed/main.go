// Command seed creates links with predictable codes through the API, so
// that load generators can address them: <prefix><i> for i in [0, n),
// zero-padded to 7 digits. Codes that already exist are skipped, so a
// second run is cheap. It exits non-zero if any link could not be created.
//
//	go run ./bench/seed -server http://127.0.0.1:8080 -token lk_... -prefix z -n 1000000
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	server := flag.String("server", "http://127.0.0.1:8080", "linkd base URL")
	token := flag.String("token", os.Getenv("LINKD_TOKEN"), "API token (an admin's: admins are not rate limited)")
	prefix := flag.String("prefix", "z", "code prefix")
	n := flag.Int("n", 1000, "links to create")
	conc := flag.Int("c", 32, "concurrent clients")
	dest := flag.String("url", "https://example.com/landing?utm_source=bench", "destination of every link")
	flag.Parse()
	tr := &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next, created, existed atomic.Int64
	var mu sync.Mutex
	var failures []string
	start := time.Now()
	var wg sync.WaitGroup
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(*n); i = next.Add(1) - 1 {
				body := fmt.Sprintf(`{"url":%q,"alias":"%s%07d"}`, *dest, *prefix, i)
				req, _ := http.NewRequest("POST", *server+"/api/v1/links", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+*token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				status := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				switch {
				case status == http.StatusCreated:
					created.Add(1)
				case status == http.StatusConflict:
					existed.Add(1)
				default:
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s%07d: %d %v", *prefix, i, status, err))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("seed: %d created, %d existed, %d failed in %s (%.0f/s)\n", created.Load(), existed.Load(),
		len(failures), el.Round(time.Millisecond), float64(created.Load()+existed.Load())/el.Seconds())
	if len(failures) > 0 {
		fmt.Fprintln(os.Stderr, "seed: first failure:", failures[0])
		os.Exit(1)
	}
}
