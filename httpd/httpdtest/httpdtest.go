// Package httpdtest starts real linkd nodes (raft, Pebble, fasthttp on
// loopback sockets) inside a test process, for tests of the HTTP contract.
// Nodes are built and stopped by internal/wire, exactly as linkd serve
// builds and stops them.
package httpdtest

import (
	"bytes"
	"context"
	"github.com/linkd/linkd/cluster/clustertest"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster"
	"github.com/linkd/linkd/httpd"
	"github.com/linkd/linkd/httpd/tlsd"
	"github.com/linkd/linkd/internal/clientaddr"
	"github.com/linkd/linkd/internal/wire"
	"github.com/linkd/linkd/node"
	"github.com/linkd/linkd/node/feeds"
	"github.com/linkd/linkd/store"
)

// Token is the admin API token of every test node.
const Token = "lk_test_admin_token"

// AnalyticsLag is the analytics lag bound of test nodes (127.0.0.0/8 is a
// trusted proxy, so tests can set X-Forwarded-For and CF-IPCountry).
const AnalyticsLag = 300 * time.Millisecond

// Node is one running test node.
type Node struct {
	URL       string // http://127.0.0.1:port
	HTTPSAddr string // 127.0.0.1:port with Options.TLS
	Node      *node.Node
	TLS       *tlsd.Server
	w         *wire.Node
	t         testing.TB
	once      sync.Once

	secrets chan node.InitSecrets
}

// Options configure StartWith.
type Options struct {
	Dir           string // data directory; a new temp dir when empty
	Limits        httpd.Limits
	Registration  httpd.Registration
	ProfileHost   string
	MaxConnsPerIP int   // 0: httpd.DefaultMaxConnsPerIP, as linkd serve
	UploadQuota   int64 // 0: httpd.DefaultUploadQuota
	// RedirectMaxAge is linkd serve's --redirect-max-age (0: no-store).
	RedirectMaxAge time.Duration
	// TLS, when set, also serves HTTPS on Node.HTTPSAddr (its HTTPSPort
	// is filled in).
	TLS    *tlsd.Config
	Outbox wire.Outbox
	// Feeds bounds threat-feed fetches; FeedMinInterval is the shortest
	// feed interval (0: the defaults of linkd serve).
	Feeds           feeds.Limits
	FeedMinInterval time.Duration
	UserDailyLinks  uint32
	ReviewNewUsers  time.Duration
}

// AdminInvite returns the one-time invite with which the bootstrap admin
// sets its console login.
func (n *Node) AdminInvite() string {
	select {
	case s := <-n.secrets:
		n.secrets <- s
		return s.AdminInvite
	case <-time.After(10 * time.Second):
		n.t.Fatal("the cluster was not initialised")
		return ""
	}
}

// FreeAddr returns a loopback address that was free a moment ago.
func FreeAddr(t testing.TB) string { return clustertest.FreeAddr(t) }

// Logger returns a logger for test nodes: silent unless LINKD_TEST_LOG is set.
func Logger() *slog.Logger { return clustertest.Logger() }

// Start starts a single-node cluster in dir (a new temp dir when empty),
// with no rate limits, and waits until it is ready.
func Start(t testing.TB, dir string) *Node { return StartWith(t, Options{Dir: dir}) }

// StartWith starts a single-node cluster configured by o.
func StartWith(t testing.TB, o Options) *Node {
	t.Helper()
	dir := o.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	log := Logger()
	secrets := make(chan node.InitSecrets, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.MaxConnsPerIP == 0 {
		o.MaxConnsPerIP = httpd.DefaultMaxConnsPerIP
	}
	var httpsLn net.Listener
	if o.TLS != nil {
		if httpsLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		_, o.TLS.HTTPSPort, _ = net.SplitHostPort(httpsLn.Addr().String())
	}
	w, err := wire.Start(wire.Config{
		Node: node.Config{NodeID: "n1", DataDir: dir, RaftAddr: FreeAddr(t), Bootstrap: true, AdminToken: Token,
			HeartbeatTimeout: 100 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond,
			OnInit: func(s node.InitSecrets) { secrets <- s }},
		Cluster: cluster.Config{HTTPAdvertise: ln.Addr().String()},
		Analytics: &wire.Analytics{Lag: AnalyticsLag, HonorDNT: true,
			Retention: store.Retention{Minutes: 48 * time.Hour, Hours: 90 * 24 * time.Hour}},
		Proxies: clientaddr.MustParse("127.0.0.0/8"),
		HTTP: httpd.Config{PublicURL: "http://sho.rt", Limits: o.Limits, Registration: o.Registration,
			ProfileHost: o.ProfileHost, MaxConnsPerIP: o.MaxConnsPerIP, UploadQuota: o.UploadQuota,
			FeedMinInterval: o.FeedMinInterval, UserDailyLinks: o.UserDailyLinks,
			ReviewNewUsers: o.ReviewNewUsers, RedirectMaxAge: o.RedirectMaxAge},
		Feeds:         o.Feeds,
		TLS:           o.TLS,
		ShutdownGrace: 5 * time.Second,
		Outbox:        o.Outbox,
		Logger:        log,
	})
	if err != nil {
		ln.Close()
		if httpsLn != nil {
			httpsLn.Close()
		}
		t.Fatal(err)
	}
	go w.Serve(ln)
	n, cl := w.Node, w.Cluster
	tn := &Node{URL: "http://" + ln.Addr().String(), Node: n, TLS: w.TLS, w: w, t: t, secrets: secrets}
	if httpsLn != nil {
		go w.ServeTLS(httpsLn)
		tn.HTTPSAddr = httpsLn.Addr().String()
	}
	t.Cleanup(tn.Close)
	deadline := time.Now().Add(10 * time.Second)
	for cl.Ready() != nil || !hasSalt(n.Store()) {
		if time.Now().After(deadline) {
			t.Fatalf("node not ready: %v (or no visitor salt yet)", cl.Ready())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return tn
}

// hasSalt reports whether today's visitor salt exists, so that unique
// visitors are counted from the first click of a test.
func hasSalt(st *store.Store) bool {
	_, err := st.Salt(time.Now().UnixMilli() / store.DayMs)
	return err == nil
}

// Drain starts a graceful stop as SIGTERM does (wire.Node.Drain), without
// the drain period: the node is not ready from now on and closes every
// connection after its response.
func (n *Node) Drain() { n.w.Drain(context.Background()) }

// Close stops the node as linkd serve stops it (wire.Node.Close); calling
// it twice is fine.
func (n *Node) Close() {
	n.once.Do(func() {
		if err := n.w.Close(); err != nil {
			n.t.Errorf("closing the node: %v", err)
		}
	})
}

// Response is a buffered HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// client never follows redirects: the redirects are what is being tested.
var client = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Do sends a request with the admin token (unless header sets another
// Authorization) and a JSON content type when there is a body.
func (n *Node) Do(method, path string, body []byte, header ...string) Response {
	n.t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, n.URL+path, r)
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1] // net/http ignores a Host header field
			continue
		}
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		n.t.Fatal(err)
	}
	checkAPI(n.t, req, resp, b)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Eventually polls cond every 10 ms until it holds, or fails the test
// once timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
