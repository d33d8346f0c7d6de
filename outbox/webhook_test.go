package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/wire"
	"github.com/linkd/linkd/outbox/webhook"
)

// Every link and profile change reaches a subscribed endpoint once,
// signed per Standard Webhooks (checked by the reference library), and an
// endpoint of another user receives none of them.
func TestWebhookEventsSignedAndOwn(t *testing.T) {
	n := startNode(t, wire.Outbox{Webhooks: allowPrivate})
	rcv := newReceiver(t, 0)
	id, secret := hook(t, n, fmt.Sprintf(`{"url":%q,"events":["link.created","link.updated","link.deleted","link.blocked","profile.updated"]}`, rcv.URL))
	rcv.setSecret(secret)
	// Another user's endpoint (user 77) must see none of the admin's changes.
	other := newReceiver(t, 0)
	if _, err := n.Node.Propose(context.Background(), &fsm.CreateWebhook{Now: time.Now().UnixMilli(), ID: 4242, Owner: 77,
		URL: other.URL, Events: ^uint32(0), Secret: webhook.NewSecret()}); err != nil {
		t.Fatal(err)
	}

	var a, b struct{ Code string }
	json.Unmarshal(mustDo(t, n, 201, "POST", "/api/v1/links", `{"url":"https://a.test/"}`), &a)
	json.Unmarshal(mustDo(t, n, 201, "POST", "/api/v1/links", `{"url":"https://b.test/"}`), &b)
	mustDo(t, n, 200, "PATCH", "/api/v1/links/"+a.Code, `{"url":"https://a2.test/"}`)
	mustDo(t, n, 200, "PUT", "/api/v1/links/"+a.Code+"/takedown", `{"reason":"malware"}`)
	mustDo(t, n, 204, "DELETE", "/api/v1/links/"+b.Code, `{}`)
	mustDo(t, n, 200, "PUT", "/api/v1/profile", `{"handle":"hooked","displayName":"H","theme":"classic","links":[]}`)

	want := []string{"link.created " + a.Code, "link.created " + b.Code, "link.updated " + a.Code,
		"link.blocked " + a.Code, "link.deleted " + b.Code, "profile.updated hooked"}
	var got []string
	eventually(t, 10*time.Second, "the receiver to get every event", func() bool {
		got = got[:0]
		for _, e := range rcv.events() {
			key, _ := e.Data["code"].(string)
			if e.Type == "profile.updated" {
				key, _ = e.Data["handle"].(string)
			}
			if strings.HasPrefix(e.Type, "link.") || e.Type == "profile.updated" {
				if e.Type != "link.created" || key == a.Code || key == b.Code {
					got = append(got, e.Type+" "+key)
				}
			}
		}
		return len(got) >= len(want)
	})
	// The profile's page link is a link.created too; keep the six we made.
	var mine []string
	for _, g := range got {
		if slices.Contains(want, g) {
			mine = append(mine, g)
		}
	}
	if !slices.Equal(mine, want) {
		t.Fatalf("events %q, want %q in order", mine, want)
	}
	if bad := rcv.badSignatures(); len(bad) > 0 {
		t.Fatalf("signatures the reference verifier refused: %q", bad)
	}
	ids := map[string]bool{}
	for _, e := range rcv.events() {
		if ids[e.ID] {
			t.Fatalf("webhook-id %s delivered twice without a failure", e.ID)
		}
		ids[e.ID] = true
	}
	var dl struct{ Log []struct{ State, Event string } }
	json.Unmarshal(mustDo(t, n, 200, "GET", "/api/v1/webhooks/"+id+"/deliveries", ""), &dl)
	if len(dl.Log) < len(want) || dl.Log[0].State != "delivered" {
		t.Fatalf("delivery log %+v", dl.Log)
	}
	time.Sleep(200 * time.Millisecond)
	if ev := other.events(); len(ev) != 0 || len(other.attemptTimes()) != 0 {
		t.Fatalf("another user's endpoint received the admin's events: %+v", ev)
	}
}

