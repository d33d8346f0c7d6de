//go:build proxy

// Proxy suite: a real Varnish (Debian's varnishd) load-balances a 3-node
// cluster, probing each node's /_/readyz, while clients send requests
// through it and every node is restarted in turn with SIGTERM. It fails
// (never skips) when varnishd is missing. Run with:
//
//	go test -tags proxy -run Proxy -v -timeout 10m ./cmd/linkd/
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// proxyVCL is a round-robin pool of the nodes, each probed on /_/readyz
// every 250 ms and taken out after 2 failures in the last 3 probes; the
// last %s is the rest of the VCL: vcl_recv (passRecv or cacheRecv).
const proxyVCL = `vcl 4.1;
import directors;
probe ready {
    .url = "/_/readyz";
    .interval = 250ms;
    .timeout = 200ms;
    .window = 3;
    .threshold = 2;
    .initial = 2;
}
%s
sub vcl_init {
    new pool = directors.round_robin();
%s}
%s`

// passRecv passes every request to a backend (nothing is cached) and
// retries nothing, so any request sent to a stopping node shows as a
// failure.
const passRecv = `sub vcl_recv {
    set req.backend_hint = pool.backend();
    return (pass);
}
`

// cacheRecv caches what the nodes let it (Cache-Control) and takes PURGE
// and BAN requests from 127.0.0.1, as a CDN in front of linkd would: a BAN
// with "X-Ban-Scope: host" bans everything of its Host (a domain changed),
// any other BAN the one URL.
const cacheRecv = `acl purgers { "127.0.0.1"; }
sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) { return (synth(405)); }
        return (purge);
    }
    if (req.method == "BAN") {
        if (client.ip !~ purgers) { return (synth(405)); }
        if (req.http.X-Ban-Scope == "host") {
            ban("req.http.host == " + req.http.host);
        } else {
            ban("req.http.host == " + req.http.host + " && req.url == " + req.url);
        }
        return (synth(200, "Banned"));
    }
    set req.backend_hint = pool.backend();
    return (hash);
}
`

// startVarnish runs varnishd in the foreground in front of addrs, passing
// every request, and returns its base URL.
func startVarnish(t *testing.T, addrs []string) string {
	return startVarnishOn(t, httpdtest.FreeAddr(t), addrs, passRecv)
}

// startVarnishOn runs varnishd on listen in front of addrs with recv as
// its vcl_recv (and what that needs), and returns its base URL.
func startVarnishOn(t *testing.T, listen string, addrs []string, recv string) string {
	t.Helper()
	bin, err := exec.LookPath("varnishd")
	if err != nil {
		t.Fatal("varnishd is missing: apt-get install varnish (.ci/run installs it)")
	}
	var backends, adds strings.Builder
	for i, a := range addrs {
		host, port, _ := net.SplitHostPort(a)
		fmt.Fprintf(&backends, "backend n%d { .host = %q; .port = %q; .probe = ready; .connect_timeout = 1s; }\n", i+1, host, port)
		fmt.Fprintf(&adds, "    pool.add_backend(n%d);\n", i+1)
	}
	dir := t.TempDir()
	vcl := filepath.Join(dir, "pool.vcl")
	if err := os.WriteFile(vcl, []byte(fmt.Sprintf(proxyVCL, backends.String(), adds.String(), recv)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-F", "-j", "none", "-n", filepath.Join(dir, "work"), "-a", listen,
		"-f", vcl, "-s", "malloc,32m", "-T", "none")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &lineWriter{&out}, &lineWriter{&out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("varnishd:\n%s", out.String())
		}
	})
	base := "http://" + listen
	eventually(t, 30*time.Second, "varnish to serve", func() bool {
		resp, err := http.Get(base + "/_/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return base
}

// lineWriter adds what a process writes to a syncBuffer.
type lineWriter struct{ b *syncBuffer }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.b.add(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// A rolling SIGTERM restart of all three nodes behind a Varnish pool that
// health-checks /_/readyz drops no request: each node turns not ready at
// once, Varnish takes it out of the pool within its probe window, and the
// node keeps serving until then (--drain). Without the drain the same
// test fails: the stopping node refuses requests Varnish still sends it.
func TestProxyRollingRestartDropsNoRequest(t *testing.T) {
	procs := startCluster(t, 3, "--drain", "2s", "--raft-heartbeat", "500ms")
	var addrs []string
	for _, p := range procs {
		addrs = append(addrs, p.httpAddr)
	}
	code := mustCreateOn(t, procs[0], "https://proxy.test/")
	for _, p := range procs {
		redirectsTo(t, p, code, "https://proxy.test/")
	}
	base := startVarnish(t, addrs)

	ctx, cancel := context.WithCancel(context.Background())
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, err := noRedirect.Get(base + "/" + code)
				if err == nil {
					resp.Body.Close()
				}
				if err == nil && resp.StatusCode == 302 && resp.Header.Get("Location") == "https://proxy.test/" {
					ok.Add(1)
					continue
				}
				failed.Add(1)
				mu.Lock()
				if len(failures) < 10 {
					if err != nil {
						failures = append(failures, err.Error())
					} else {
						failures = append(failures, fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("X-Varnish")))
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i, p := range procs {
		time.Sleep(time.Second)
		p.stop(t)
		np := p.restart(t)
		np.waitReady(t, 30*time.Second)
		procs[i] = np
		time.Sleep(time.Second) // Varnish's probes put it back in the pool
	}
	time.Sleep(time.Second)
	cancel()
	wg.Wait()
	if failed.Load() > 0 || ok.Load() < 100 {
		t.Fatalf("%d requests through Varnish failed (%d succeeded) during a rolling SIGTERM restart; first: %q",
			failed.Load(), ok.Load(), failures)
	}
	t.Logf("%d requests through Varnish, none failed, during a rolling SIGTERM restart of 3 nodes", ok.Load())
}
