package tlsd_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caddyserver/certmagic"
	"github.com/mholt/acmez/v3"
	"github.com/mholt/acmez/v3/acme"
	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/cluster/clustertest"
	"github.com/linkd/linkd/httpd/tlsd"
)

// behind is a node that is not the leader and has not applied the
// challenges the leader just stored: they reach its store only when it
// catches up.
type behind struct {
	tlsd.Leader
}

func (behind) IsLeader() bool { return false }

// A follower asked for a challenge it has not applied yet catches up with
// the leader and answers it, for HTTP-01 and for TLS-ALPN-01; a token that
// is nowhere still gets a 404 after one catch-up.
func TestChallengeAfterCatchingUp(t *testing.T) {
	c := clustertest.Start(t, 1)
	nd := c.Leader()
	const dir = "https://127.0.0.1:1/directory"
	issuerKey := (&certmagic.ACMEIssuer{CA: dir}).IssuerKey()
	leaderStorage := tlsd.NewStorage(nd.Node.Store(), nd.Node.Propose)
	chal := func(typ, host string) acme.Challenge {
		return acme.Challenge{Type: typ, Token: "tok-" + host, KeyAuthorization: "tok-" + host + ".thumb",
			Identifier: acme.Identifier{Type: "dns", Value: host}}
	}
	var mu sync.Mutex
	var pending []acme.Challenge // stored by the leader, not applied here yet
	var catchUps atomic.Int32
	catchUp := func(ctx context.Context) error {
		catchUps.Add(1)
		mu.Lock()
		defer mu.Unlock()
		for _, ch := range pending {
			b, _ := json.Marshal(ch)
			key := path.Join("acme", certmagic.StorageKeys.Safe(issuerKey), "challenge_tokens",
				certmagic.StorageKeys.Safe(ch.Identifier.Value)+".json")
			if err := leaderStorage.Store(ctx, key, b); err != nil {
				return err
			}
		}
		pending = nil
		return nil
	}
	later := func(ch acme.Challenge) {
		mu.Lock()
		pending = append(pending, ch)
		mu.Unlock()
	}
	s, err := tlsd.New(tlsd.Config{Node: behind{nd.Node}, Propose: nd.Node.Propose, CatchUp: catchUp,
		Policy: tlsd.NewStaticHosts(false, false, "http.test", "alpn.test"),
		ACME:   &tlsd.ACME{Directory: dir, HTTPAddr: "127.0.0.1:1", HTTPSAddr: "127.0.0.1:1"}, Logger: clustertest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	front := s.Front(func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(599) })
	get := func(token string) (int, string) {
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI("/.well-known/acme-challenge/" + token)
		ctx.Request.Header.SetHost("http.test")
		front(&ctx)
		return ctx.Response.StatusCode(), string(ctx.Response.Body())
	}

	later(chal(acme.ChallengeTypeHTTP01, "http.test"))
	if st, body := get("tok-http.test"); st != 200 || body != "tok-http.test.thumb" {
		t.Fatalf("HTTP-01 on a node behind: %d %q, want the key authorization", st, body)
	}
	later(chal(acme.ChallengeTypeTLSALPN01, "alpn.test"))
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := s.GetCertificate(&tls.ClientHelloInfo{ServerName: "alpn.test", SupportedProtos: []string{acmez.ACMETLS1Protocol}, Conn: a}); err != nil {
		t.Fatalf("TLS-ALPN-01 on a node behind: %v", err)
	}
	if n := catchUps.Load(); n != 2 {
		t.Fatalf("caught up %d times, want once per challenge", n)
	}
	if st, body := get("tok-unknown"); st != 404 || strings.Contains(body, "thumb") {
		t.Fatalf("an unknown token: %d %q, want 404", st, body)
	}
}
