//go:build measure

// Measurements for the issue notes, not pass/fail tests of speed: they run
// real processes and print figures. Run them with
//
//	go test -tags measure -run Measure -v -timeout 30m ./cmd/linkd/
package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/bench/load"
)

// Acknowledged creates with 64 clients: one node, then a 3-node cluster
// with the clients spread over all nodes (followers forward), one run.
// Group commit is on by default; LINKD_GROUP_COMMIT=0 measures without.
func TestMeasureCreates(t *testing.T) {
	var extra []string
	if os.Getenv("LINKD_GROUP_COMMIT") == "0" {
		extra = []string{"--group-commit=false"}
	}
	single := launch(t, newSpec(t, "n1", extra...))
	single.waitReady(t, 15*time.Second)
	load.Run([]string{single.URL}, testToken, 64, 2*time.Second) // warm up
	r1 := load.Run([]string{single.URL}, testToken, 64, 10*time.Second)
	single.stop(t)
	procs := startCluster(t, 3, extra...)
	urls := []string{procs[0].URL, procs[1].URL, procs[2].URL}
	load.Run(urls, testToken, 64, 2*time.Second)
	r3 := load.Run(urls, testToken, 64, 10*time.Second)
	leader := leaderOf(t, procs)
	r3l := load.Run([]string{leader.URL}, testToken, 64, 10*time.Second)
	t.Logf("single node:               %s", r1)
	t.Logf("3 nodes, spread over all:  %s", r3)
	t.Logf("3 nodes, all to the leader: %s", r3l)
}

// Leader kill -9 -> first acknowledged write through a survivor, 10 times,
// at the default raft timing (1 s heartbeat and election timeout).
func TestMeasureFailover(t *testing.T) {
	procs := startCluster(t, 3)
	var times []time.Duration
	for range 10 {
		leader := leaderOf(t, procs)
		survivor := followersOf(procs, leader)[0]
		leader.kill()
		start := time.Now()
		for create(context.Background(), survivor.URL, "https://failover.test") == "" {
			if time.Since(start) > 30*time.Second {
				t.Fatal("no write accepted 30 s after the leader was killed")
			}
		}
		times = append(times, time.Since(start))
		np := leader.restart(t)
		np.waitReady(t, 30*time.Second)
		procs[slices.Index(procs, leader)] = np
		time.Sleep(time.Second)
	}
	slices.Sort(times)
	t.Logf("failover (kill -9 of the leader -> first acknowledged write), %d kills: median %s, max %s, all %v",
		len(times), times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond), times)
}

// After an edit is acknowledged (through a random node), how long until all
// three nodes redirect to the new destination.
func TestMeasureEditVisibility(t *testing.T) {
	procs := startCluster(t, 3)
	code := mustCreateOn(t, procs[0], "https://v.test/0")
	for _, p := range procs {
		redirectsTo(t, p, code, "https://v.test/0")
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var times []time.Duration
	for i := 1; i <= 1000; i++ {
		url := fmt.Sprintf("https://v.test/%d", i)
		req, _ := http.NewRequest("PATCH", procs[rand.IntN(3)].URL+"/api/v1/links/"+code, strings.NewReader(`{"url":"`+url+`"}`))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("edit %d: %v %v", i, err, resp)
		}
		resp.Body.Close()
		acked := time.Now()
		var wg sync.WaitGroup
		for _, p := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					resp, err := hc.Get(p.URL + "/" + code)
					if err == nil {
						resp.Body.Close()
						if resp.Header.Get("Location") == url {
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		times = append(times, time.Since(acked))
	}
	slices.Sort(times)
	t.Logf("edit acknowledged -> all 3 nodes redirect to the new URL, %d edits: p50 %s, p99 %s, max %s",
		len(times), times[len(times)/2].Round(time.Microsecond), times[len(times)*99/100].Round(time.Microsecond),
		times[len(times)-1].Round(time.Microsecond))
}

// What mutual TLS on the raft port costs: acknowledged creates with 64
// clients spread over a 3-node cluster, with --insecure-cluster and with a
// cluster secret, alternating twice (on a shared machine, load drifts more
// between runs than TLS costs).
func TestMeasurePeerAuth(t *testing.T) {
	insecure, secret := []string{"--insecure-cluster"}, []string{"--cluster-secret", testSecret}
	for _, mode := range [][]string{insecure, secret, insecure, secret} {
		procs := startCluster(t, 3, mode...)
		urls := []string{procs[0].URL, procs[1].URL, procs[2].URL}
		load.Run(urls, testToken, 64, 2*time.Second)
		r := load.Run(urls, testToken, 64, 10*time.Second)
		t.Logf("3 nodes, %-18s %s", mode[0]+":", r)
		for _, p := range procs {
			p.stop(t)
		}
	}
}
