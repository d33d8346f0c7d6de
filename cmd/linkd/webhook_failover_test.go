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
func TestWebhookFailoverDeliversEverything(t *testing.T) {
	rcv := outboxtest.NewReceiver(t, 1<<30) // down until the leader is gone
	procs := startCluster(t, 3, "--webhooks-allow-private", "--webhooks-backoff", "200ms")
	leader := leaderOf(t, procs)
	st, body := apiDo(t, "POST", leader.URL+"/api/v1/webhooks", testToken,
		fmt.Sprintf(`{"url":%q,"events":["link.created"]}`, rcv.URL))
	var w struct{ ID, Secret string }
	if st != 201 || json.Unmarshal(body, &w) != nil {
		t.Fatalf("POST /api/v1/webhooks: %d %s", st, body)
	}
	rcv.SetSecret(w.Secret)
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
	if len(idOf) != 20 {
		t.Fatalf("%d distinct links announced, want 20", len(idOf))
	}
	dups := 0
	for _, n := range ids {
		dups += n - 1
	}
	newLeader := leaderOf(t, rest)
	t.Logf("all 20 events delivered %s after the leader was killed (new leader %s; %d duplicate deliveries)",
		time.Since(start).Round(time.Millisecond), newLeader.id, dups)
}
