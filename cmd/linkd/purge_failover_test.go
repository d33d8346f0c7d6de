package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/outbox/outboxtest"
)

// On a real 3-node cluster each change is purged once, by the leader: the
// leader retries a failing CDN with backoff, and when it dies with the
// purges still queued, the new leader sends each one, once, from the
// replicated queue; no follower ever sends any.
func TestPurgeOnceByTheLeaderAcrossFailover(t *testing.T) {
	cdn := outboxtest.NewRecorder(t)
	cdn.SetFail(1 << 30) // down until the leader is gone
	procs := startCluster(t, 3, "--purge", "varnish="+cdn.URL, "--purge-repeat", "0",
		"--webhooks-backoff", "200ms", "--public-url", "http://sho.test")
	leader := leaderOf(t, procs)
	var codes []string
	for i := range 10 {
		codes = append(codes, mustCreateOn(t, leader, fmt.Sprintf("https://once.test/%d", i)))
	}
	eventually(t, 10*time.Second, "the leader's retries", func() bool { return len(cdn.Requests()) >= 3 })
	leader.kill()
	down := len(cdn.Requests())
	cdn.SetFail(0)
	start := time.Now()
	rest := followersOf(procs, leader)
	sent := func(code string) int {
		n := 0
		for _, r := range cdn.Requests()[down:] {
			if r == "PURGE sho.test/"+code {
				n++
			}
		}
		return n
	}
	eventually(t, 60*time.Second, "every change purged by the new leader", func() bool {
		for _, c := range codes {
			if sent(c) == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("old leader %s: %d failed attempts; new leader %s purged the %d queued changes %s after the failover",
		leader.id, down, leaderOf(t, rest).id, len(codes), time.Since(start).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // room for a duplicate from any node
	for _, c := range codes {
		if n := sent(c); n != 1 {
			t.Errorf("%s purged %d times after the failover, want once", c, n)
		}
	}
	nl := leaderOf(t, rest)
	eventually(t, 10*time.Second, "an empty purge queue on the new leader", func() bool { return metric(t, nl, "linkd_purge_queue") == "0" })
	if s := strings.Join(cdn.Requests()[:down], "\n"); !strings.Contains(s, "PURGE sho.test/"+codes[0]) {
		t.Fatalf("the old leader's attempts do not include the first change:\n%s", s)
	}
}
