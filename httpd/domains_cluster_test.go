package httpd_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/clustertest"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd"
)

// Host routing on a three-node cluster: domain commands proposed on the
// leader reach every node's domain set through apply (no poll), so each
// node's HTTP server routes the same code by Host to the same links, and a
// change of a domain's root is served by every node once applied there.
func TestDomainHostRoutingOnThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := clustertest.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leader := c.Leader()
	propose := func(cmd fsm.Command) {
		t.Helper()
		res, err := leader.Cluster.Propose(ctx, cmd)
		if err == nil {
			err = res.Err
		}
		if err != nil {
			t.Fatalf("%T: %v", cmd, err)
		}
	}
	now := time.Now().UnixMilli()
	propose(&fsm.CreateDomain{Now: now, Actor: fsm.AdminUser, Host: "links.example", Kind: 1, RootURL: "https://root1.test/", Max: 100})
	propose(&fsm.CreateLink{Now: now, Code: "same", Custom: true, URL: "https://default.test/", Owner: fsm.AdminUser, RedirectStatus: 302})
	propose(&fsm.CreateLink{Now: now, Code: "same", Custom: true, URL: "https://domain.test/", Owner: fsm.AdminUser,
		RedirectStatus: 302, Domain: "links.example", Admin: true})

	urls := make([]string, len(c.Nodes))
	for i, nd := range c.Nodes {
		s, err := httpd.New(httpd.Config{Store: nd.Node.Store(), Cluster: nd.Cluster, PublicURL: "http://sho.rt",
			Logger: clustertest.Logger()})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go s.Serve(ln)
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Shutdown(sctx); err != nil {
				t.Errorf("shutting down node %d's server: %v", i+1, err)
			}
		})
		urls[i] = "http://" + ln.Addr().String()
	}
	get := func(base, path, host string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Host = host
		resp, err := (&http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	waitAll := func() {
		t.Helper()
		idx := leader.Node.Applied()
		for _, nd := range c.Nodes {
			if err := nd.Node.WaitApplied(ctx, idx); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitAll()
	for i, base := range urls {
		for host, want := range map[string]string{"sho.rt": "https://default.test/", "links.example:80": "https://domain.test/"} {
			if r := get(base, "/same", host); r.StatusCode != 302 || r.Header.Get("Location") != want {
				t.Errorf("node %d, %s/same: %d %q, want %s", i+1, host, r.StatusCode, r.Header.Get("Location"), want)
			}
		}
		if r := get(base, "/same", "other.example"); r.StatusCode != 404 {
			t.Errorf("node %d, unknown host: %d", i+1, r.StatusCode)
		}
		if r := get(base, "/", "links.example"); r.Header.Get("Location") != "https://root1.test/" {
			t.Errorf("node %d, root: %q", i+1, r.Header.Get("Location"))
		}
	}
	root := "https://root2.test/"
	propose(&fsm.UpdateDomain{Now: now + 1, Host: "links.example", RootURL: &root})
	propose(&fsm.DeleteLink{Now: now + 1, Code: "links.example/same", Actor: fsm.AdminUser, Admin: true})
	waitAll()
	for i, base := range urls {
		if r := get(base, "/", "links.example"); r.Header.Get("Location") != root {
			t.Errorf("node %d, root after the change: %q", i+1, r.Header.Get("Location"))
		}
		if r := get(base, "/same", "links.example"); r.StatusCode != 410 {
			t.Errorf("node %d, deleted domain link: %d", i+1, r.StatusCode)
		}
		if r := get(base, "/same", "sho.rt"); r.StatusCode != 302 {
			t.Errorf("node %d, default link after the other's delete: %d", i+1, r.StatusCode)
		}
	}
}
