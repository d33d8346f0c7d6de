package outbox_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/internal/wire"
	"github.com/linkd/linkd/outbox"
	"github.com/linkd/linkd/outbox/outboxtest"
)

// The three purge APIs send the documented request shapes.
func TestPurgeRequestShapes(t *testing.T) {
	cf, fa, vn := outboxtest.NewRecorder(t), outboxtest.NewRecorder(t), outboxtest.NewRecorder(t)
	env := map[string]string{outbox.EnvCloudflareToken: "cf-token", outbox.EnvCloudflareAPI: cf.URL,
		outbox.EnvFastlyToken: "fa-token", outbox.EnvFastlyAPI: fa.URL}
	ps, err := outbox.ParsePurge("varnish="+vn.URL+",cloudflare=zone123,fastly=svc9", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	urls := []string{"https://sho.rt/abc", "https://sho.rt/abc+"}
	for _, p := range ps {
		if err := p.Purge(context.Background(), urls); err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
	}
	if got, want := vn.Requests(), []string{"PURGE sho.rt/abc", "PURGE sho.rt/abc+"}; !slices.Equal(got, want) {
		t.Errorf("varnish got %q, want %q", got, want)
	}
	if got, want := cf.Requests(), []string{"POST " + cf.Host() + `/client/v4/zones/zone123/purge_cache Bearer cf-token {"files":["https://sho.rt/abc","https://sho.rt/abc+"]}`}; !slices.Equal(got, want) {
		t.Errorf("cloudflare got %q, want %q", got, want)
	}
	if got, want := fa.Requests(), []string{"POST " + fa.Host() + "/purge/sho.rt/abc fa-token", "POST " + fa.Host() + "/purge/sho.rt/abc+ fa-token"}; !slices.Equal(got, want) {
		t.Errorf("fastly got %q, want %q", got, want)
	}
	// Cloudflare takes 30 files per call.
	many := make([]string, 61)
	for i := range many {
		many[i] = fmt.Sprintf("https://sho.rt/c%d", i)
	}
	if err := ps[1].Purge(context.Background(), many); err != nil || len(cf.Requests()) != 4 {
		t.Fatalf("61 files: %v, %d calls, want 3 more", err, len(cf.Requests())-1)
	}
	for _, bad := range []string{"varnish=", "varnish=ftp://x", "cloudflare=z", "akamai=x", "varnish=http://h:1/path"} {
		if _, err := outbox.ParsePurge(bad, func(string) string { return "" }); err == nil {
			t.Errorf("--purge %q accepted", bad)
		}
	}
}

// Every change to what a URL answers is purged once by the leader —
// create, edit, takedown, delete, profile save — and so is a link's expiry,
// which no command applies; a failing CDN is retried.
func TestPurgeOnChangesAndExpiry(t *testing.T) {
	vn := outboxtest.NewRecorder(t)
	vn.Fail = 2
	ps, err := outbox.ParsePurge("varnish="+vn.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, wire.Outbox{Purgers: ps})
	has := func(want ...string) func() bool {
		return func() bool {
			got := vn.Requests()
			for _, w := range want {
				if !slices.Contains(got, w) {
					return false
				}
			}
			return true
		}
	}
	var l struct{ Code string }
	jsonDo(t, n, 201, "POST", "/api/v1/links", `{"url":"https://p.test/"}`, &l)
	eventually(t, 10*time.Second, "the create's purge (after 2 failures)", has("PURGE sho.rt/"+l.Code, "PURGE sho.rt/"+l.Code+"+"))
	before := len(vn.Requests())
	mustDo(t, n, 200, "PATCH", "/api/v1/links/"+l.Code, `{"url":"https://p2.test/"}`)
	eventually(t, 5*time.Second, "the edit's purge", func() bool { return len(vn.Requests()) >= before+2 })
	mustDo(t, n, 200, "PUT", "/api/v1/profile", `{"handle":"purged","displayName":"P","theme":"classic","links":[]}`)
	eventually(t, 5*time.Second, "the profile's purge", has("PURGE sho.rt/@purged", "PURGE sho.rt/@purged/og.png"))

	exp := time.Now().Add(1500 * time.Millisecond)
	var e struct{ Code string }
	jsonDo(t, n, 201, "POST", "/api/v1/links", fmt.Sprintf(`{"url":"https://exp.test/","expiresAt":%q}`, exp.UTC().Format(time.RFC3339Nano)), &e)
	eventually(t, 5*time.Second, "the expiring link's create purge", has("PURGE sho.rt/"+e.Code))
	n0 := count(vn.Requests(), "PURGE sho.rt/"+e.Code)
	eventually(t, 10*time.Second, "the expiry's purge", func() bool { return count(vn.Requests(), "PURGE sho.rt/"+e.Code) > n0 })
	if time.Now().Before(exp) {
		t.Fatal("purged before the link expired")
	}
	time.Sleep(300 * time.Millisecond)
	if got := count(vn.Requests(), "PURGE sho.rt/"+e.Code); got != n0+1 {
		t.Fatalf("expiry purged %d times, want once", got-n0)
	}
	h, _ := n.Node.Store().OutboxHead()
	eventually(t, 5*time.Second, "an empty purge queue", func() bool { h, _ = n.Node.Store().OutboxHead(); return h.Purges == 0 })
	if r := n.Do("GET", "/_/metrics", nil); !strings.Contains(string(r.Body), `linkd_purge_requests_total{result="error",target="purge:`+vn.URL+`"} 2`) {
		t.Fatalf("metrics lack the purge counters:\n%s", grep(string(r.Body), "purge"))
	}
}

func count(xs []string, x string) int {
	n := 0
	for _, s := range xs {
		if s == x {
			n++
		}
	}
	return n
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Without purge targets or webhooks the leader proposes nothing: no queue
// drain, no timers (links that expire included), so a node of an earlier
// release in a rolling upgrade never meets an outbox command. The fsm keeps
// the queue at its cap (TestOutboxBounds).
func TestPurgeQueueWithoutTargetsProposesNothing(t *testing.T) {
	n := startNode(t, wire.Outbox{})
	items := make([]string, 1000)
	expires := time.Now().Add(500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	for i := range items {
		items[i] = fmt.Sprintf(`{"url":"https://drain.test/%d","expiresAt":%q}`, i, expires)
	}
	mustDo(t, n, 200, "POST", "/api/v1/links/bulk", `{"links":[`+strings.Join(items, ",")+`]}`)
	time.Sleep(1500 * time.Millisecond) // a leader that drained the queue or fired timers would have by now
	if tm, ok, err := n.Node.Store().NextTimer(); err != nil || !ok || time.UnixMilli(tm.Due).After(time.Now()) {
		t.Fatalf("the expiry timers fired (or are missing) with no purge target and no webhook: %+v %v %v", tm, ok, err)
	}
	if h, _ := n.Node.Store().OutboxHead(); h.Purges != 1000 || h.PurgesDropped != 0 {
		t.Fatalf("queue %+v: want the 1,000 changes kept (the fsm caps it)", h)
	}
}

// With a repeat, each batch is purged a second time after the delay, for a
// follower that answered the cache before it applied the change.
func TestPurgeRepeat(t *testing.T) {
	vn := outboxtest.NewRecorder(t)
	ps, err := outbox.ParsePurge("varnish="+vn.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, wire.Outbox{Purgers: ps, PurgeRepeat: 300 * time.Millisecond})
	var l struct{ Code string }
	jsonDo(t, n, 201, "POST", "/api/v1/links", `{"url":"https://rep.test/","alias":"rep"}`, &l)
	eventually(t, 5*time.Second, "the repeat", func() bool { return count(vn.Requests(), "PURGE sho.rt/rep") == 2 })
	var at []time.Time
	for i, r := range vn.Requests() {
		if r == "PURGE sho.rt/rep" {
			at = append(at, vn.Times()[i])
		}
	}
	if gap := at[1].Sub(at[0]); gap < 300*time.Millisecond {
		t.Fatalf("repeat came %s after the first purge, want about 300 ms", gap)
	}
	time.Sleep(500 * time.Millisecond)
	if c := count(vn.Requests(), "PURGE sho.rt/rep"); c != 2 {
		t.Fatalf("purged %d times, want 2", c)
	}
}

// Each kind of change to what a short URL answers is purged at the cache
// by the leader, on a link of the default domain and on one of another
// domain (under that domain's host): edit, redirect-rule change, takedown
// and its lifting, a blocklist entry matching the destination, and
// delete; a BAN target gets the same paths as BAN requests.
func TestPurgeOnEveryChangeKind(t *testing.T) {
	vn, ban := outboxtest.NewRecorder(t), outboxtest.NewRecorder(t)
	ps, err := outbox.ParsePurge("varnish="+vn.URL+",ban="+ban.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, wire.Outbox{Purgers: ps})
	mustDo(t, n, 201, "POST", "/api/v1/domains", `{"host":"go.example","kind":"links"}`)
	for _, c := range []struct{ domain, host string }{{"", "sho.rt"}, {"go.example", "go.example"}} {
		q, field := "", ""
		if c.domain != "" {
			q, field = "?domain="+c.domain, `,"domain":"`+c.domain+`"`
		}
		dest := "https://" + strings.ReplaceAll(c.host, ".", "-") + ".test/"
		mustDo(t, n, 201, "POST", "/api/v1/links", `{"url":"`+dest+`","alias":"kinds"`+field+`}`)
		want := "PURGE " + c.host + "/kinds"
		// step runs one change and waits for its purge (a PURGE of the
		// short URL and of its preview more than before).
		step := func(what, method, path, body string, status int) {
			t.Helper()
			before := count(vn.Requests(), want)
			mustDo(t, n, status, method, path, body)
			eventually(t, 10*time.Second, c.host+": the purge of the "+what, func() bool {
				got := vn.Requests()
				return count(got, want) > before && count(got, want+"+") > before
			})
		}
		eventually(t, 10*time.Second, c.host+": the create's purge", func() bool { return count(vn.Requests(), want) > 0 })
		step("edit", "PATCH", "/api/v1/links/kinds"+q, `{"url":"`+dest+`2"}`, 200)
		step("rule change", "PATCH", "/api/v1/links/kinds"+q, `{"rules":[{"if":{"os":["iOS"]},"url":"https://kinds.test/ios"}]}`, 200)
		step("takedown", "PUT", "/api/v1/links/kinds/takedown"+q, `{"reason":"phishing"}`, 200)
		step("lifted takedown", "DELETE", "/api/v1/links/kinds/takedown"+q, `{}`, 204)
		step("blocklist entry", "POST", "/api/v1/blocklist", `{"kind":"host","value":"`+dest[len("https://"):len(dest)-1]+`"}`, 201)
		step("delete", "DELETE", "/api/v1/links/kinds"+q, "", 204)
		eventually(t, 10*time.Second, c.host+": the BAN target's requests", func() bool {
			return count(ban.Requests(), "BAN "+c.host+"/kinds") == count(vn.Requests(), want)
		})
	}
}
