// Command seed creates links with predictable codes through the API, so
// that load generators can address them: <prefix><i> for i in [0, n),
// zero-padded to 7 digits. Codes that already exist are skipped, so a
// second run is cheap. It exits non-zero if any link could not be created.
// With -bulk B it sends B links per POST /api/v1/links/bulk (one raft
// entry each) instead of one per POST /api/v1/links.
//
//	go run ./bench/seed -server http://127.0.0.1:8080 -token lk_... -prefix z -n 1000000
//	go run ./bench/seed -server http://127.0.0.1:8080 -token lk_... -prefix s -n 10000000 -bulk 1000 -c 4
package main

import (
	"encoding/json"
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
	bulk := flag.Int("bulk", 0, "links per bulk request (0: one request per link)")
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
			count := func(status int, what string) {
				switch {
				case status == http.StatusCreated:
					created.Add(1)
				case status == http.StatusConflict:
					existed.Add(1)
				default:
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %d", what, status))
					mu.Unlock()
				}
			}
			if *bulk > 0 {
				for i := next.Add(int64(*bulk)) - int64(*bulk); i < int64(*n); i = next.Add(int64(*bulk)) - int64(*bulk) {
					items := make([]string, 0, *bulk)
					for j := i; j < min(i+int64(*bulk), int64(*n)); j++ {
						items = append(items, fmt.Sprintf(`{"url":%q,"alias":"%s%07d"}`, *dest, *prefix, j))
					}
					statuses, err := postBulk(hc, *server, *token, `{"links":[`+strings.Join(items, ",")+`]}`, len(items))
					if err != nil {
						count(0, fmt.Sprintf("bulk from %s%07d: %v", *prefix, i, err))
						continue
					}
					for j, st := range statuses {
						count(st, fmt.Sprintf("%s%07d", *prefix, i+int64(j)))
					}
				}
				return
			}
			for i := next.Add(1) - 1; i < int64(*n); i = next.Add(1) - 1 {
				body := fmt.Sprintf(`{"url":%q,"alias":"%s%07d"}`, *dest, *prefix, i)
				resp, err := post(hc, *server+"/api/v1/links", *token, body)
				status := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				count(status, fmt.Sprintf("%s%07d (%v)", *prefix, i, err))
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

func post(hc *http.Client, url, token, body string) (*http.Response, error) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return hc.Do(req)
}

// postBulk sends one bulk create and returns each item's status.
func postBulk(hc *http.Client, server, token, body string, n int) ([]int, error) {
	resp, err := post(hc, server+"/api/v1/links/bulk", token, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var out struct {
		Items []struct {
			Status int `json:"status"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	if len(out.Items) != n {
		return nil, fmt.Errorf("%d results for %d items", len(out.Items), n)
	}
	st := make([]int, n)
	for i, it := range out.Items {
		st[i] = it.Status
	}
	return st, nil
}
