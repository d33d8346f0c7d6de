package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/internal/wire"
	"github.com/linkd/linkd/outbox/outboxtest"
	"github.com/linkd/linkd/outbox/webhook"
	"github.com/linkd/linkd/store"
)

// Every link and profile change reaches a subscribed endpoint once,
// signed per Standard Webhooks (checked by the reference library), and an
// endpoint of another user receives none of them.
func TestWebhookEventsSignedAndOwn(t *testing.T) {
	n := startNode(t, wire.Outbox{Webhooks: allowPrivate})
	rcv := outboxtest.NewReceiver(t, 0)
	id, secret := hook(t, n, fmt.Sprintf(`{"url":%q,"events":["link.created","link.updated","link.deleted","link.blocked","profile.updated"]}`, rcv.URL))
	rcv.SetSecret(secret)
	// Another user's endpoint (user 77) must see none of the admin's changes.
	other := outboxtest.NewReceiver(t, 0)
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
		for _, e := range rcv.Events() {
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
	if bad := rcv.BadSignatures(); len(bad) > 0 {
		t.Fatalf("signatures the reference verifier refused: %q", bad)
	}
	ids := map[string]bool{}
	for _, e := range rcv.Events() {
		if ids[e.ID] {
			t.Fatalf("webhook-id %s delivered twice without a failure", e.ID)
		}
		ids[e.ID] = true
	}
	var dl struct {
		Log []struct{ State, Event string }
	}
	json.Unmarshal(mustDo(t, n, 200, "GET", "/api/v1/webhooks/"+id+"/deliveries", ""), &dl)
	if len(dl.Log) < len(want) || dl.Log[0].State != "delivered" {
		t.Fatalf("delivery log %+v", dl.Log)
	}
	time.Sleep(200 * time.Millisecond)
	if ev := other.Events(); len(ev) != 0 || len(other.AttemptTimes()) != 0 {
		t.Fatalf("another user's endpoint received the admin's events: %+v", ev)
	}
}

// A receiver that fails three times gets the delivery on the fourth
// attempt, after growing delays; one that keeps failing past the retry
// window gets its endpoint disabled with a visible reason, and the failed
// delivery can be resent once it is re-enabled.
func TestWebhookRetriesBackoffAndDisable(t *testing.T) {
	n := startNode(t, wire.Outbox{Webhooks: allowPrivate, Window: 1500 * time.Millisecond, Backoff: 50 * time.Millisecond})
	rcv := outboxtest.NewReceiver(t, 3)
	id, secret := hook(t, n, fmt.Sprintf(`{"url":%q,"events":["link.created"]}`, rcv.URL))
	rcv.SetSecret(secret)
	mustDo(t, n, 201, "POST", "/api/v1/links", `{"url":"https://retry.test/"}`)
	eventually(t, 10*time.Second, "delivery after 3 failures", func() bool { return len(rcv.Events()) == 1 })
	at := rcv.AttemptTimes()
	if len(at) != 4 {
		t.Fatalf("%d attempts, want 4", len(at))
	}
	for i := 2; i < len(at); i++ {
		if gap, prev := at[i].Sub(at[i-1]), at[i-1].Sub(at[i-2]); gap < prev*3/2 || prev < 50*time.Millisecond {
			t.Fatalf("retry gaps do not grow exponentially: %v then %v", prev, gap)
		}
	}
	var dl struct {
		Log []struct {
			State    string
			Attempts int
		}
	}
	eventually(t, 5*time.Second, "the delivery in the log", func() bool {
		json.Unmarshal(mustDo(t, n, 200, "GET", "/api/v1/webhooks/"+id+"/deliveries", ""), &dl)
		return len(dl.Log) == 1
	})
	if len(dl.Log) != 1 || dl.Log[0].State != "delivered" || dl.Log[0].Attempts != 4 {
		t.Fatalf("log %+v, want one delivered after 4 attempts", dl.Log)
	}

	rcv.SetFail(1 << 30)
	mustDo(t, n, 201, "POST", "/api/v1/links", `{"url":"https://never.test/"}`)
	var w struct {
		Enabled        bool
		DisabledReason string
	}
	eventually(t, 15*time.Second, "the endpoint to be disabled", func() bool {
		json.Unmarshal(mustDo(t, n, 200, "GET", "/api/v1/webhooks/"+id, ""), &w)
		return !w.Enabled
	})
	if !strings.Contains(w.DisabledReason, "503") || !strings.Contains(w.DisabledReason, "1.5s") {
		t.Fatalf("disabled reason %q", w.DisabledReason)
	}
	var log struct {
		Log []struct{ ID, State string }
	}
	json.Unmarshal(mustDo(t, n, 200, "GET", "/api/v1/webhooks/"+id+"/deliveries", ""), &log)
	if len(log.Log) != 2 || log.Log[0].State != "failed" {
		t.Fatalf("log %+v, want the failed delivery first", log.Log)
	}
	rcv.SetFail(0)
	mustDo(t, n, 200, "PATCH", "/api/v1/webhooks/"+id, `{"enabled":true}`)
	mustDo(t, n, 202, "POST", "/api/v1/webhooks/"+id+"/deliveries/"+log.Log[0].ID+"/resend", `{}`)
	eventually(t, 10*time.Second, "the resent delivery", func() bool { return len(rcv.Events()) == 2 })
	if got := rcv.Events()[1].ID; got != log.Log[0].ID {
		t.Fatalf("resent webhook-id %s, want %s", got, log.Log[0].ID)
	}
	mustDo(t, n, 404, "POST", "/api/v1/webhooks/"+id+"/deliveries/msg_1_99/resend", `{}`)
	mustDo(t, n, 404, "POST", "/api/v1/webhooks/"+id+"/deliveries/nonsense/resend", `{}`)
}

// Without --webhooks-allow-private, URLs that are or resolve to loopback
// and private addresses are refused at registration; an endpoint that got
// in anyway (registered while the flag was on, or a name that resolves
// elsewhere by the time of delivery) is refused at dial time: the
// receiver sees nothing and the delivery log says why.
func TestWebhookPrivateAddressesRefused(t *testing.T) {
	n := startNode(t, wire.Outbox{Backoff: 20 * time.Millisecond, Window: time.Hour})
	rcv := outboxtest.NewReceiver(t, 0)
	_, port, _ := net.SplitHostPort(rcv.Listener.Addr().String())
	for _, u := range []string{rcv.URL, "http://localhost:" + port + "/", "http://10.0.0.1/", "http://169.254.169.254/latest/",
		"http://[::1]:" + port + "/", "http://0.0.0.0:" + port + "/", "http://[::ffff:127.0.0.1]:" + port + "/", "ftp://example.com/",
		"http://user:pw@example.com/"} {
		r := n.Do("POST", "/api/v1/webhooks", []byte(fmt.Sprintf(`{"url":%q,"events":["link.created"]}`, u)))
		if r.Status != 422 {
			t.Errorf("POST webhook %s: %d %s, want 422", u, r.Status, r.Body)
		}
	}
	// As if registered while private addresses were allowed: a name
	// that resolves to 127.0.0.1.
	secret := webhook.NewSecret()
	rcv.SetSecret(secret)
	if _, err := n.Node.Propose(context.Background(), &fsm.CreateWebhook{Now: time.Now().UnixMilli(), ID: 99, Owner: 1,
		URL: "http://localhost:" + port + "/", Events: 1 << 1, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	mustDo(t, n, 201, "POST", "/api/v1/links", `{"url":"https://private.test/"}`)
	var dl struct {
		Pending []struct {
			Attempts int
			Error    string
		}
	}
	eventually(t, 10*time.Second, "a refused attempt", func() bool {
		json.Unmarshal(mustDo(t, n, 200, "GET", "/api/v1/webhooks/63/deliveries", ""), &dl)
		return len(dl.Pending) == 1 && dl.Pending[0].Attempts >= 2
	})
	if !strings.Contains(dl.Pending[0].Error, "loopback") {
		t.Fatalf("delivery error %q, want the address refusal", dl.Pending[0].Error)
	}
	if len(rcv.AttemptTimes()) != 0 {
		t.Fatal("the receiver on 127.0.0.1 was reached")
	}
}

// A user may hold MaxWebhooksPerUser endpoints; the next is refused.
// Only admins may subscribe to every user's events, and bad input changes
// nothing.
func TestWebhookLimitsAndValidation(t *testing.T) {
	n := startNode(t, wire.Outbox{Webhooks: allowPrivate})
	body := `{"url":"http://127.0.0.1:9/","events":["clicks"]}`
	for range fsm.MaxWebhooksPerUser {
		hook(t, n, body)
	}
	r := n.Do("POST", "/api/v1/webhooks", []byte(body))
	if r.Status != 422 || !strings.Contains(string(r.Body), "at most 10") {
		t.Fatalf("endpoint %d: %d %s", fsm.MaxWebhooksPerUser+1, r.Status, r.Body)
	}
	for _, bad := range []string{`{"url":"http://127.0.0.1:9/","events":[]}`, `{"url":"http://127.0.0.1:9/","events":["link.exploded"]}`,
		`{"url":"http://127.0.0.1:9/","events":["clicks"],"secret":"short"}`, `{"events":["clicks"]}`, `{"url":"x","events":["clicks"]}`} {
		if r := n.Do("POST", "/api/v1/webhooks", []byte(bad)); r.Status != 422 {
			t.Errorf("%s: %d %s", bad, r.Status, r.Body)
		}
	}
	var list struct{ Items []struct{ ID string } }
	json.Unmarshal(mustDo(t, n, 200, "GET", "/api/v1/webhooks", ""), &list)
	if len(list.Items) != fsm.MaxWebhooksPerUser {
		t.Fatalf("%d endpoints listed", len(list.Items))
	}
	mustDo(t, n, 204, "DELETE", "/api/v1/webhooks/"+list.Items[0].ID, `{}`)
	mustDo(t, n, 404, "GET", "/api/v1/webhooks/"+list.Items[0].ID, "")
	hook(t, n, body) // room again
}

// The console lists a user's endpoints, shows a new endpoint's secret once,
// and shows the delivery log with a working "Resend".
func TestWebhookConsole(t *testing.T) {
	n := startNode(t, wire.Outbox{Webhooks: allowPrivate})
	rcv := outboxtest.NewReceiver(t, 0)
	c, token := n.User(t, "hooks@example.test", "correct horse battery")
	r := c.Post("/app/webhooks", url.Values{"url": {rcv.URL}, "events": {"link.created"}})
	if r.Status != 200 || !strings.Contains(string(r.Body), "whsec_") {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	secret := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(html.UnescapeString(string(r.Body)))
	rcv.SetSecret(secret)
	id := regexp.MustCompile(`/app/webhooks/([0-9a-f]+)`).FindStringSubmatch(string(r.Body))[1]
	if r := c.Post("/app/webhooks", url.Values{"url": {"http://127.0.0.1:1/"}}); r.Status != 422 {
		t.Fatalf("no events: %d", r.Status)
	}
	if r := n.Do("POST", "/api/v1/links", []byte(`{"url":"https://console.test/"}`), httpdtest.As(token)...); r.Status != 201 {
		t.Fatalf("create link: %d %s", r.Status, r.Body)
	}
	eventually(t, 5*time.Second, "the delivery", func() bool { return len(rcv.Events()) == 1 })
	var page string
	eventually(t, 5*time.Second, "the log on the page", func() bool {
		page = string(c.Get("/app/webhooks/" + id).Body)
		return strings.Contains(page, "delivered")
	})
	did := regexp.MustCompile(`deliveries/(msg_\d+_\d+)/resend`).FindStringSubmatch(page)
	if did == nil {
		t.Fatalf("no resend button:\n%s", page)
	}
	if r := c.Post("/app/webhooks/"+id+"/deliveries/"+did[1]+"/resend", nil); r.Status != 303 {
		t.Fatalf("resend: %d %s", r.Status, r.Body)
	}
	eventually(t, 5*time.Second, "the resent delivery", func() bool { return len(rcv.Events()) == 2 })
	if ev := rcv.Events(); ev[0].ID != ev[1].ID {
		t.Fatalf("resent with another webhook-id: %s, %s", ev[0].ID, ev[1].ID)
	}
	// Another user cannot see it.
	other, _ := n.User(t, "other@example.test", "correct horse battery")
	if r := other.Get("/app/webhooks/" + id); r.Status != 404 {
		t.Fatalf("another user's view: %d", r.Status)
	}
}

// Clicks reach a "clicks" endpoint as one signed digest per link per
// minute, summed over the click segments of that minute (never one call
// per click), sent DigestDelay after the minute ends. It waits for the
// digest of the last minute: up to a minute.
func TestWebhookClicksDigest(t *testing.T) {
	n := startNode(t, wire.Outbox{Webhooks: allowPrivate})
	rcv := outboxtest.NewReceiver(t, 0)
	_, secret := hook(t, n, fmt.Sprintf(`{"url":%q,"events":["clicks"]}`, rcv.URL))
	rcv.SetSecret(secret)
	var a struct{ Code string }
	json.Unmarshal(mustDo(t, n, 201, "POST", "/api/v1/links", `{"url":"https://clicked.test/"}`), &a)
	// The last minute's digest is due at the end of this one: leave the
	// two segments time to land before it.
	if left := store.MinuteMs - time.Now().UnixMilli()%store.MinuteMs; left < 3000 {
		time.Sleep(time.Duration(left+100) * time.Millisecond)
	}
	last := time.Now().UnixMilli()/store.MinuteMs - 1
	old := last - 4 // long due: sent at once
	// Two click segments, as two nodes' ingesters send them.
	for seg, b := range [][]store.ClickBucket{{{T: old, N: 2}, {T: last, N: 3}}, {{T: last, N: 4}}} {
		if _, err := n.Node.Propose(context.Background(), &fsm.Clicks{Now: time.Now().UnixMilli(), Source: "n9/digest",
			Segment: uint64(seg + 1), Links: []store.LinkClicks{{Code: a.Code, Minutes: b}}}); err != nil {
			t.Fatal(err)
		}
	}
	digests := func() []string {
		var got []string
		for _, e := range rcv.Events() {
			got = append(got, fmt.Sprintf("%s %v %v %v", e.Type, e.Data["code"], e.Data["minute"], e.Data["clicks"]))
		}
		return got
	}
	eventually(t, 75*time.Second, "two clicks digests", func() bool { return len(rcv.Events()) >= 2 })
	minute := func(m int64) string { return time.UnixMilli(m * store.MinuteMs).UTC().Format(time.RFC3339Nano) }
	want := []string{"clicks " + a.Code + " " + minute(old) + " 2", "clicks " + a.Code + " " + minute(last) + " 7"}
	time.Sleep(300 * time.Millisecond) // room for a stray third call
	if got := digests(); !slices.Equal(got, want) {
		t.Fatalf("deliveries %q, want %q", got, want)
	}
	if bad := rcv.BadSignatures(); len(bad) > 0 {
		t.Fatalf("signatures the reference verifier refused: %q", bad)
	}
}
