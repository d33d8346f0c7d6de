//go:build measure

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMeasureExport fills a node with links through the bulk API (1,000
// per request, one raft entry each) and streams GET /api/v1/links/export
// (CSV, then JSON lines) while sampling the server process's resident
// memory, at 100k and at 1M links: a streamed export's peak RSS does not
// grow with the number of links. Run it with
//
//	go test -tags measure -run MeasureExport -v -timeout 60m ./cmd/linkd/
func TestMeasureExport(t *testing.T) {
	p := launch(t, newSpec(t, "n1"))
	p.waitReady(t, 15*time.Second)
	pid := p.cmd.Process.Pid
	total := 0
	for _, target := range []int{100_000, 1_000_000} {
		start := time.Now()
		fill(t, p.URL, total, target)
		total = target
		t.Logf("%d links created in %s; server RSS %d MiB", total, time.Since(start).Round(time.Second), rssKiB(t, pid)>>10)
		for _, format := range []string{"csv", "json"} {
			base := rssKiB(t, pid)
			start := time.Now()
			n, lines, peak := export(t, p.URL+"/api/v1/links/export?format="+format, pid)
			if lines != total+map[string]int{"csv": 1, "json": 0}[format] {
				t.Fatalf("%s export: %d lines for %d links", format, lines, total)
			}
			t.Logf("export %-4s %7d links: %5d MiB in %6s; server RSS before %d MiB, peak during %d MiB",
				format, total, n>>20, time.Since(start).Round(time.Millisecond), base>>10, peak>>10)
		}
	}
}

// fill creates links [from, to) with 4 concurrent bulk requests.
func fill(t *testing.T, url string, from, to int) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := range next {
				var b bytes.Buffer
				b.WriteString(`{"links":[`)
				for i := first; i < first+1000; i++ {
					if i > first {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, `{"url":"https://example.com/page/%d?utm_source=measure","title":"Link number %d","tags":["m%d"]}`, i, i, i%10)
				}
				b.WriteString(`]}`)
				req, _ := http.NewRequest("POST", url+"/api/v1/links/bulk", &b)
				req.Header.Set("Authorization", "Bearer "+testToken)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || bytes.Count(body, []byte(`"status":201`)) != 1000 {
					t.Errorf("bulk create at %d: %d %.300s", first, resp.StatusCode, body)
					return
				}
			}
		}()
	}
	for i := from; i < to && !t.Failed(); i += 1000 {
		next <- i
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// export streams url to nothing, counting bytes and lines, while sampling
// the server's RSS every 20 ms; it returns the peak.
func export(t *testing.T, url string, pid int) (n int64, lines int, peak int64) {
	stop := make(chan struct{})
	done := make(chan int64)
	go func() {
		var max int64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if r := rssKiB(t, pid); r > max {
				max = r
			}
			select {
			case <-stop:
				done <- max
				return
			case <-tick.C:
			}
		}
	}()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 1<<20)
	for {
		line, err := br.ReadSlice('\n')
		n += int64(len(line))
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			break
		}
		lines++
	}
	close(stop)
	return n, lines, <-done
}

// rssKiB reads VmRSS of a process from /proc.
func rssKiB(t *testing.T, pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}
