package outbox_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/wire"
	"github.com/linkd/linkd/outbox"
	"github.com/linkd/linkd/outbox/outboxtest"
)

// Each target purges a whole host in its own way: BAN / marked
// "X-Ban-Scope: host", PURGE of the URLs the runner named (a PURGE
// addresses one URL), Cloudflare's purge_cache by hosts, Fastly's
// purge_all for the service.
func TestPurgeHostRequestShapes(t *testing.T) {
	ps, cf, fa, vn, ban := everyTarget(t)
	for _, p := range ps {
		known := []string{"https://go.example/", "https://go.example/dom", "https://go.example/dom+", "https://bio.example/"}
		if err := p.PurgeHosts(context.Background(), []string{"go.example", "bio.example"}, known); err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
	}
	for _, c := range []struct {
		name string
		rec  *outboxtest.Recorder
		want []string
	}{
		{"varnish", vn, []string{"PURGE go.example/", "PURGE go.example/dom", "PURGE go.example/dom+", "PURGE bio.example/"}},
		{"ban", ban, []string{"BAN go.example/ host", "BAN bio.example/ host"}},
		{"cloudflare", cf, []string{"POST " + cf.Host() + `/client/v4/zones/zone123/purge_cache Bearer cf-token {"hosts":["go.example","bio.example"]}`}},
		{"fastly", fa, []string{"POST " + fa.Host() + "/service/svc9/purge_all fa-token"}},
	} {
		if got := c.rec.Requests(); !slices.Equal(got, c.want) {
			t.Errorf("%s got %q, want %q", c.name, got, c.want)
		}
	}
}

// A domain change that alters what its host answers, and a domain delete,
// each purge the whole host once at every target, from the replicated
// queue (sent by the leader; a failure at one target resends the batch to
// every target); a change that alters nothing the host answers purges
// nothing.
func TestPurgeOnDomainChangeAndDelete(t *testing.T) {
	ps, cf, fa, vn, ban := everyTarget(t)
	n := startNode(t, wire.Outbox{Purgers: ps})
	eventually(t, 10*time.Second, "the version gate to admit UpdateDomain and DeleteDomain v2", func() bool {
		return n.Node.ClusterUnderstands(fsm.TypeUpdateDomain, 2) && n.Node.ClusterUnderstands(fsm.TypeDeleteDomain, 2)
	})
	mustDo(t, n, 201, "POST", "/api/v1/domains", `{"host":"go.example","kind":"links","rootUrl":"https://root.test/"}`)
	mustDo(t, n, 201, "POST", "/api/v1/links", `{"url":"https://dom.test/","alias":"dom","domain":"go.example"}`)
	eventually(t, 10*time.Second, "the link create's purge", func() bool {
		return count(vn.Requests(), "PURGE go.example/dom") == 1 && count(ban.Requests(), "BAN go.example/dom+") == 1
	})
	ban.SetFail(1) // the domain change's first try fails at the BAN target
	cfHost := "POST " + cf.Host() + `/client/v4/zones/zone123/purge_cache Bearer cf-token {"hosts":["go.example"]}`
	faAll := "POST " + fa.Host() + "/service/svc9/purge_all fa-token"
	counts := func() [4]int {
		// The PURGE target gets the host's root and its link (found in the
		// store, after the delete too), short URL and preview.
		v := count(vn.Requests(), "PURGE go.example/")
		if count(vn.Requests(), "PURGE go.example/dom+") != v+1 || count(vn.Requests(), "PURGE go.example/dom") != v+1 {
			v = -1
		}
		return [4]int{count(ban.Requests(), "BAN go.example/ host"), v, count(cf.Requests(), cfHost), count(fa.Requests(), faAll)}
	}
	// The same root URL again changes nothing (fsm TestDomainPurgeVersions
	// checks that it queues nothing).
	mustDo(t, n, 200, "PATCH", "/api/v1/domains/go.example", `{"rootUrl":"https://root.test/"}`)
	mustDo(t, n, 200, "PATCH", "/api/v1/domains/go.example", `{"kind":"both"}`)
	eventually(t, 10*time.Second, "the domain change's host purge at every target", func() bool { return counts() == [4]int{2, 2, 2, 2} })
	t.Logf("after the kind change: %v", counts())
	mustDo(t, n, 204, "DELETE", "/api/v1/domains/go.example", "")
	eventually(t, 10*time.Second, "the domain delete's host purge at every target", func() bool { return counts() == [4]int{3, 3, 3, 3} })
	time.Sleep(300 * time.Millisecond)
	if got := counts(); got != [4]int{3, 3, 3, 3} {
		t.Fatalf("host purges (ban, varnish, cloudflare, fastly) = %v, want the change twice (a failure, resent) and the delete once", got)
	}
	eventually(t, 5*time.Second, "an empty purge queue", func() bool { h, _ := n.Node.Store().OutboxHead(); return h.Purges == 0 })
	if r := n.Do("GET", "/_/metrics", nil); !strings.Contains(string(r.Body), `linkd_purge_hosts_total{target="ban:`+ban.URL+`"} 2`) {
		t.Fatalf("metrics lack the host purges:\n%s", grep(string(r.Body), "purge"))
	}
}

// everyTarget returns one purger of each kind (varnish=, ban=, cloudflare=,
// fastly=), each sending to its own recorder.
func everyTarget(t *testing.T) (ps []outbox.Purger, cf, fa, vn, ban *outboxtest.Recorder) {
	t.Helper()
	cf, fa, vn, ban = outboxtest.NewRecorder(t), outboxtest.NewRecorder(t), outboxtest.NewRecorder(t), outboxtest.NewRecorder(t)
	env := map[string]string{outbox.EnvCloudflareToken: "cf-token", outbox.EnvCloudflareAPI: cf.URL,
		outbox.EnvFastlyToken: "fa-token", outbox.EnvFastlyAPI: fa.URL}
	ps, err := outbox.ParsePurge("varnish="+vn.URL+",ban="+ban.URL+",cloudflare=zone123,fastly=svc9", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return ps, cf, fa, vn, ban
}
