package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/linkd/linkd/outbox/outboxtest"
)

// Webhook deliveries pending when the leader dies are delivered by the new
// leader, from the replicated outbox: the receiver (which checks every
// signature with the Standard Webhooks reference library) sees every
// event, and each under one webhook-id: a redelivery after the failover
// carries the id of the first attempt, so a receiver that keeps the ids
// it handled (as Standard Webhooks asks) acts on each event exactly once.
// Deliveries the old leader had completed (and replicated as delivered)
// are not sent again at all.
func TestWebhookFailoverDeliversEverything(t *testing.T) {
	rcv := outboxtest.NewReceiver(t, 0)
	procs := startCluster(t, 3, "--webhooks-allow-private", "--webhooks-backoff", "200ms")
	leader := leaderOf(t, procs)
	st, body := apiDo(t, "POST", leader.URL+"/api/v1/webhooks", testToken,
		fmt.Sprintf(`{"url":%q,"events":["link.created"]}`, rcv.URL))
	var w struct{ ID, Secret string }
	if st != 201 || json.Unmarshal(body, &w) != nil {
		t.Fatalf("POST /api/v1/webhooks: %d %s", st, body)
	}
	rcv.SetSecret(w.Secret)
	done := map[string]bool{}
	for range 10 {
		done[mustCreateOn(t, leader, "https://done.test/")] = true
	}
	eventually(t, 20*time.Second, "10 deliveries done and known as done on both followers", func() bool {
		for _, f := range followersOf(procs, leader) {
			var dl struct {
				Log []struct{ Code, State string }
			}
			st, body := apiDo(t, "GET", f.URL+"/api/v1/webhooks/"+w.ID+"/deliveries", testToken, "")
			if st != 200 || json.Unmarshal(body, &dl) != nil {
				return false
			}
			n := 0
			for _, d := range dl.Log {
				if done[d.Code] && d.State == "delivered" {
					n++
				}
			}
			if n != len(done) {
				return false
			}
		}
		return true
	})
	rcv.SetFail(1 << 30) // down until the leader is gone
	want := map[string]bool{}
	for range 20 {
		want[mustCreateOn(t, leader, "https://failover.test/")] = true
	}
	eventually(t, 10*time.Second, "the leader's first failed attempts", func() bool { return len(rcv.AttemptTimes()) >= 2 })
	leader.kill()
	rcv.SetFail(0)
	start := time.Now()
	rest := followersOf(procs, leader)
	eventually(t, 60*time.Second, "every event delivered by the new leader", func() bool {
		for _, e := range rcv.Events() {
			if code, _ := e.Data["code"].(string); e.Type == "link.created" {
				delete(want, code)
			}
		}
		return len(want) == 0
	})
	if bad := rcv.BadSignatures(); len(bad) > 0 {
		t.Fatalf("signatures refused by the reference verifier: %q", bad)
	}
	ids, idOf := map[string]int{}, map[string]string{}
	for _, e := range rcv.Events() {
		ids[e.ID]++
		code, _ := e.Data["code"].(string)
		if prev, ok := idOf[code]; ok && prev != e.ID {
			t.Fatalf("link %s was announced under two webhook-ids, %s and %s", code, prev, e.ID)
		}
		idOf[code] = e.ID
	}
	if len(idOf) != 30 {
		t.Fatalf("%d distinct links announced, want 30", len(idOf))
	}
	for code := range done {
		if n := ids[idOf[code]]; n != 1 {
			t.Errorf("link %s, delivered before the failover, was delivered %d times", code, n)
		}
	}
	dups := 0
	for _, n := range ids {
		dups += n - 1
	}
	newLeader := leaderOf(t, rest)
	t.Logf("all 20 events delivered %s after the leader was killed (new leader %s; %d duplicate deliveries)",
		time.Since(start).Round(time.Millisecond), newLeader.id, dups)
}
