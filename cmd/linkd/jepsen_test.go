//go:build jepsen

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// TestJepsen is a Jepsen-style test of a 3-node cluster of real linkd
// processes: concurrent clients on random nodes create (with an
// Idempotency-Key), PATCH, delete and linearizably read a small sliding set
// of links while a nemesis kills a random node or the leader (SIGKILL),
// pauses one (SIGSTOP/SIGCONT), restarts all in turn (SIGTERM) and cuts a
// node off from its peers. Afterwards it heals everything, reads every key
// on every node, and checks the whole history with porcupine (writes of
// unknown outcome are pending for ever), that all nodes agree, and that
// every node's redirect matches the API.
//
// Partitions: every node runs as its own user, and iptables rules in the
// OUTPUT chain drop packets by owner and destination port (the peer's raft
// port, which also carries the cluster RPC). Loopback has no per-process
// source address to filter on, but it has per-process owners, so the
// stock binary (also an older one, for comparison) needs no option to bind
// its outgoing connections. Needs root and iptables; fails without them.
//
//	LINKD_JEPSEN_DURATION (45s) per run, LINKD_JEPSEN_RUNS (3),
//	LINKD_JEPSEN_BINARY (a linkd binary to test instead of this tree's,
//	started without peer-authentication flags),
//	LINKD_JEPSEN_LEGACY_DELETE=1 (accept an older binary's 410 for deleting
//	a deleted link).
func TestJepsen(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the jepsen suite needs root (it runs nodes as other users and sets iptables rules)")
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Fatal("the jepsen suite needs iptables (apt-get install iptables)")
	}
	dur := 45 * time.Second
	if v := os.Getenv("LINKD_JEPSEN_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		dur = d
	}
	runs := 3
	if v := os.Getenv("LINKD_JEPSEN_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		runs = n
	}
	if b := os.Getenv("LINKD_JEPSEN_BINARY"); b != "" {
		binary = b
	}
	os.Chmod(filepath.Dir(binary), 0o755)
	var summary []string
	for i := 1; i <= runs; i++ {
		t.Run(fmt.Sprintf("run%d", i), func(t *testing.T) {
			line := jepsenRun(t, i, dur)
			summary = append(summary, fmt.Sprintf("run %d/%d: %s", i, runs, line))
		})
	}
	t.Logf("jepsen summary (%s per run):\n%s", dur, strings.Join(summary, "\n"))
}

// jepsenCluster is the nodes of one run and the rules that cut them off.
type jepsenCluster struct {
	t     *testing.T
	procs []*proc
	chain string
}

func startJepsenCluster(t *testing.T, run int) *jepsenCluster {
	base, err := os.MkdirTemp("", "linkd-jepsen-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755)
	t.Cleanup(func() { os.RemoveAll(base) })
	uidBase := uint32(20000 + os.Getpid()%1000*10)
	c := &jepsenCluster{t: t, chain: fmt.Sprintf("LINKDJ%d", os.Getpid())}
	c.iptables("-N", c.chain)
	c.iptables("-I", "OUTPUT", "-j", c.chain)
	t.Cleanup(func() {
		c.iptables("-D", "OUTPUT", "-j", c.chain)
		c.iptables("-F", c.chain)
		c.iptables("-X", c.chain)
	})
	specs := make([]spec, 3)
	var joins []string
	for i := range specs {
		dir := filepath.Join(base, fmt.Sprintf("n%d", i+1))
		uid := uidBase + uint32(i) + 1
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chown(dir, int(uid), int(uid))
		specs[i] = spec{id: fmt.Sprintf("n%d", i+1), dir: dir, uid: uid,
			httpAddr: httpdtest.FreeAddr(t), raftAddr: httpdtest.FreeAddr(t)}
		joins = append(joins, specs[i].raftAddr)
	}
	for i := range specs {
		specs[i].args = []string{"--join", strings.Join(joins, ","), "--bootstrap-expect", "3",
			"--raft-heartbeat", "300ms", "--rate-writes-per-ip", "off", "--rate-writes-per-key", "off"}
		// Builds from before peer authentication (LINKD_JEPSEN_BINARY)
		// know no --cluster-secret; this tree's nodes authenticate.
		if os.Getenv("LINKD_JEPSEN_BINARY") == "" {
			specs[i].args = append(specs[i].args, "--cluster-secret", testSecret)
		}
		c.procs = append(c.procs, launch(t, specs[i]))
	}
	for _, p := range c.procs {
		p.waitReady(t, 60*time.Second)
	}
	return c
}

func (c *jepsenCluster) iptables(args ...string) {
	if out, err := exec.Command("iptables", args...).CombinedOutput(); err != nil {
		c.t.Logf("iptables %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// urls are the nodes' HTTP bases; they survive restarts.
func (c *jepsenCluster) urls() []string {
	var out []string
	for _, p := range c.procs {
		out = append(out, p.URL)
	}
	return out
}

func (c *jepsenCluster) leader() int {
	for i, p := range c.procs {
		if s, err := status(p); err == nil && s.State == "Leader" {
			return i
		}
	}
	return -1
}

// isolate cuts node i off from the other nodes, both ways.
func (c *jepsenCluster) isolate(i int) {
	for j, p := range c.procs {
		if j == i {
			continue
		}
		port := p.raftAddr[strings.LastIndexByte(p.raftAddr, ':')+1:]
		myPort := c.procs[i].raftAddr[strings.LastIndexByte(c.procs[i].raftAddr, ':')+1:]
		c.iptables("-A", c.chain, "-p", "tcp", "-m", "owner", "--uid-owner", fmt.Sprint(c.procs[i].uid), "--dport", port, "-j", "DROP")
		c.iptables("-A", c.chain, "-p", "tcp", "-m", "owner", "--uid-owner", fmt.Sprint(p.uid), "--dport", myPort, "-j", "DROP")
	}
}

func (c *jepsenCluster) heal() { c.iptables("-F", c.chain) }

// restart starts node i again after it exited.
func (c *jepsenCluster) restart(i int) {
	c.procs[i] = c.procs[i].restart(c.t)
}

// up waits (without failing the test) until node i is ready.
func (c *jepsenCluster) up(i int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(c.procs[i].URL + "/_/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// nemesis injects one fault after another until ctx ends; it returns the
// count of each kind.
func (c *jepsenCluster) nemesis(ctx context.Context) map[string]int {
	faults := map[string]int{}
	kinds := []string{"kill", "kill-leader", "pause", "partition", "partition-leader", "rolling-restart"}
	sleep := func(d time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	for ctx.Err() == nil {
		sleep(time.Duration(200+rand.IntN(500)) * time.Millisecond)
		if ctx.Err() != nil {
			break
		}
		kind := kinds[rand.IntN(len(kinds))]
		i := rand.IntN(3)
		if strings.HasSuffix(kind, "-leader") {
			if i = c.leader(); i < 0 {
				continue
			}
		}
		switch kind {
		case "kill", "kill-leader":
			c.procs[i].kill()
			time.Sleep(time.Duration(300+rand.IntN(1000)) * time.Millisecond)
			c.restart(i)
		case "pause":
			c.procs[i].signal(syscall.SIGSTOP)
			time.Sleep(time.Duration(1000+rand.IntN(1500)) * time.Millisecond)
			c.procs[i].signal(syscall.SIGCONT)
		case "partition", "partition-leader":
			c.isolate(i)
			time.Sleep(time.Duration(1500+rand.IntN(1500)) * time.Millisecond)
			c.heal()
		case "rolling-restart":
			for j := range c.procs {
				c.procs[j].signal(syscall.SIGTERM)
				select {
				case <-c.procs[j].done:
				case <-time.After(15 * time.Second):
					c.procs[j].kill()
				}
				c.restart(j)
				c.up(j, 20*time.Second)
				faults["sigterm-restart"]++ // one fault per node restarted
			}
			continue
		}
		faults[kind]++
	}
	return faults
}

// client runs operations on random nodes until ctx ends.
func jClient(ctx context.Context, id int, urls []string, keys func() string, h *history) {
	hc := &http.Client{Timeout: 3 * time.Second}
	for n := 0; ctx.Err() == nil; n++ {
		in := jIn{Key: keys()}
		switch r := rand.IntN(100); {
		case r < 20:
			in.Kind = opCreate
		case r < 50:
			in.Kind = opPatch
		case r < 54:
			in.Kind = opDelete
		default:
			in.Kind = opRead
		}
		if in.Kind == opCreate || in.Kind == opPatch {
			in.URL = fmt.Sprintf("https://example.com/c%d/%d", id, n)
		}
		base := urls[rand.IntN(len(urls))]
		req := jRequest(base, in)
		call := h.now()
		resp, err := hc.Do(req)
		out, notApplied := classify(resp, err)
		switch {
		case in.Kind == opRead && (notApplied || out.Unknown):
			// a failed read has no effect
		case notApplied:
			h.drop()
		default:
			h.add(id, base, in, out, call)
		}
		if err != nil || notApplied || out.Unknown {
			time.Sleep(50 * time.Millisecond) // do not spin on a node that is down
		}
	}
}

func jRequest(base string, in jIn) *http.Request {
	var req *http.Request
	switch in.Kind {
	case opCreate:
		req, _ = http.NewRequest("POST", base+"/api/v1/links", strings.NewReader(fmt.Sprintf(`{"url":%q,"alias":%q}`, in.URL, in.Key)))
		req.Header.Set("Idempotency-Key", fmt.Sprintf("%s-%d", in.Key, rand.Uint64()))
	case opPatch:
		req, _ = http.NewRequest("PATCH", base+"/api/v1/links/"+in.Key, strings.NewReader(fmt.Sprintf(`{"url":%q}`, in.URL)))
	case opDelete:
		req, _ = http.NewRequest("DELETE", base+"/api/v1/links/"+in.Key, nil)
	default:
		req, _ = http.NewRequest("GET", base+"/api/v1/links/"+in.Key+"?consistency=linearizable", nil)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	return req
}

// jepsenRun runs one cluster for dur and returns its summary line.
func jepsenRun(t *testing.T, run int, dur time.Duration) string {
	c := startJepsenCluster(t, run)
	h := &history{start: time.Now()}
	// Keys slide: every 3 s a new one enters the window of five, so that
	// deleted (dead for ever) keys do not take over the run.
	prefix := fmt.Sprintf("j%dr%d", os.Getpid(), run)
	var used sync.Map
	keys := func() string {
		k := fmt.Sprintf("%sk%d", prefix, int(time.Since(h.start)/(3*time.Second))+rand.IntN(5))
		used.Store(k, true)
		return k
	}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var wg sync.WaitGroup
	urls := c.urls()
	for id := range 6 {
		wg.Go(func() { jClient(ctx, id, urls, keys, h) })
	}
	faults := c.nemesis(ctx)
	wg.Wait()

	// Heal, then every node must be ready again.
	c.heal()
	for i, p := range c.procs {
		p.signal(syscall.SIGCONT)
		select {
		case <-p.done:
			c.restart(i)
		default:
		}
	}
	for i := range c.procs {
		if !c.up(i, 60*time.Second) {
			t.Errorf("node %s not ready 60 s after healing:\n%s", c.procs[i].id, c.procs[i].logs)
		}
	}
	var all []string
	used.Range(func(k, _ any) bool { all = append(all, k.(string)); return true })
	agree := c.finalReads(t, h, all)
	res, vis := h.check(fmt.Sprintf("jepsen-run%d", run))
	total := 0
	for _, n := range faults {
		total += n
	}
	line := fmt.Sprintf("%d ops (%d unknown, %d not applied), %d faults %v, linearizable: %s, nodes agree: %v",
		len(h.ops), h.unknown, h.dropped, total, faults, res, agree)
	t.Log(line)
	if dur >= time.Minute && total < 15 {
		t.Errorf("only %d faults in %s; a run of a minute must inject at least 15", total, dur)
	}
	if res != "Ok" {
		t.Errorf("history is not linearizable (%s); visualization: %s", res, vis)
	}
	return line
}

// finalReads reads every key linearizably on every node (added to the
// history) and checks that each node's local read and redirect agree.
func (c *jepsenCluster) finalReads(t *testing.T, h *history, keys []string) bool {
	hc := &http.Client{Timeout: 10 * time.Second}
	agree := true
	for _, k := range keys {
		for i, p := range c.procs {
			in := jIn{Key: k, Kind: opRead}
			call := h.now()
			out, bad := classify(hc.Do(jRequest(p.URL, in)))
			if bad || out.Unknown {
				t.Errorf("final read of %s on %s failed", k, p.id)
				agree = false
				continue
			}
			h.add(100+i, p.URL, in, out, call)
			if !c.redirectMatches(p, k, out) {
				t.Errorf("%s: redirect of %s does not match the API answer %+v", p.id, k, out)
				agree = false
			}
		}
	}
	return agree
}

// redirectMatches waits up to 10 s for node p's redirect of k to show out:
// 302 to the URL of a live link, 410 deleted, 404 unknown.
func (c *jepsenCluster) redirectMatches(p *proc, k string, out jOut) bool {
	want := map[int]int{200: 302, 410: 410, 404: 404}[out.Status]
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := noRedirect.Get(p.URL + "/" + k)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want && (want != 302 || resp.Header.Get("Location") == out.URL) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
