package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// clusterStatus is the part of /_/status the tests read.
type clusterStatus struct {
	NodeID string `json:"nodeId"`
	State  string `json:"state"`
	Leader struct {
		ID       string `json:"id"`
		HTTPAddr string `json:"httpAddr"`
	} `json:"leader"`
	AppliedIndex uint64 `json:"appliedIndex"`
	Members      []struct {
		ID        string `json:"id"`
		Suffrage  string `json:"suffrage"`
		HTTPAddr  string `json:"httpAddr"`
		Reachable bool   `json:"reachable"`
		Lag       uint64 `json:"lag"`
	} `json:"members"`
}

// status reads the full /_/status (with the admin token).
func status(p *proc) (clusterStatus, error) {
	var s clusterStatus
	req, _ := http.NewRequest("GET", p.URL+"/_/status", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&s)
	return s, err
}

// testSecret is the cluster secret of the process tests' clusters.
const testSecret = "process-test-cluster-secret-0123456789abcdef"

// startCluster starts n nodes with one identical command line (apart from
// their own id and addresses) and waits until all are ready. The nodes
// share testSecret unless extra chooses another peer authentication.
func startCluster(t *testing.T, n int, extra ...string) []*proc {
	t.Helper()
	specs := make([]spec, n)
	var joins []string
	for i := range specs {
		specs[i] = newSpec(t, fmt.Sprintf("n%d", i+1))
		joins = append(joins, specs[i].raftAddr)
	}
	procs := make([]*proc, n)
	for i := range specs {
		specs[i].args = append([]string{"--join", strings.Join(joins, ","), "--bootstrap-expect", fmt.Sprint(n)}, extra...)
		if !strings.Contains(strings.Join(extra, " "), "-cluster") {
			specs[i].args = append(specs[i].args, "--cluster-secret", testSecret)
		}
		procs[i] = launch(t, specs[i])
	}
	for _, p := range procs {
		p.waitReady(t, 30*time.Second)
	}
	return procs
}

// leaderOf returns the process that leads, as the live ones agree.
func leaderOf(t *testing.T, procs []*proc) *proc {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, p := range procs {
			select {
			case <-p.done:
				continue
			default:
			}
			if s, err := status(p); err == nil && s.State == "Leader" {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no leader")
	return nil
}

func followersOf(procs []*proc, leader *proc) []*proc {
	var out []*proc
	for _, p := range procs {
		if p != leader {
			out = append(out, p)
		}
	}
	return out
}

// eventually polls cond until it holds or the timeout passes.
var eventually = httpdtest.Eventually

// redirectsTo waits until p redirects code to url.
func redirectsTo(t *testing.T, p *proc, code, url string) {
	t.Helper()
	eventually(t, 10*time.Second, p.id+" to redirect "+code, func() bool {
		st, loc := location(t, p.URL, code)
		return st == 302 && loc == url
	})
}

func mustCreateOn(t *testing.T, p *proc, url string) string {
	t.Helper()
	code := create(context.Background(), p.URL, url)
	if code == "" {
		t.Fatalf("create on %s failed", p.id)
	}
	return code
}

// The cluster forms from one command line, forwards writes from followers,
// survives the leader's death (new leader and accepted writes within 3 s at
// the default 1 s raft timing) and takes the old leader back, caught up.
func TestClusterBootstrapFailoverRejoin(t *testing.T) {
	procs := startCluster(t, 3)
	leader := leaderOf(t, procs)
	f := followersOf(procs, leader)
	links := map[string]string{}
	for i := range 20 {
		url := fmt.Sprintf("https://cluster.test/%d", i)
		links[mustCreateOn(t, f[i%2], url)] = url // through followers
	}
	for code, url := range links {
		for _, p := range procs {
			redirectsTo(t, p, code, url)
		}
	}
	eventually(t, 10*time.Second, "a follower's status to show the leader's HTTP address", func() bool {
		s, err := status(f[0])
		return err == nil && len(s.Members) == 3 && s.Leader.ID == leader.id && s.Leader.HTTPAddr == leader.httpAddr
	})

	leader.kill()
	killed := time.Now()
	var code string
	for code == "" && time.Since(killed) < 3*time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second-time.Since(killed))
		code = create(ctx, f[0].URL, "https://after-failover.test")
		cancel()
	}
	if code == "" {
		t.Fatalf("no write accepted within 3 s of killing the leader:\n%s", f[0].logs)
	}
	t.Logf("first write acknowledged %s after the leader was killed", time.Since(killed).Round(time.Millisecond))
	links[code] = "https://after-failover.test"

	old := leader.restart(t)
	old.waitReady(t, 30*time.Second)
	for code, url := range links {
		redirectsTo(t, old, code, url)
	}
	for _, p := range append(f, old) {
		mustLinearizableGet(t, p, code)
	}
}

// mustLinearizableGet reads a link through the leader's read index.
func mustLinearizableGet(t *testing.T, p *proc, code string) {
	t.Helper()
	req, _ := http.NewRequest("GET", p.URL+"/api/v1/links/"+code+"?consistency=linearizable", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("linearizable read on %s after %s: %d %s", p.id, time.Since(start), resp.StatusCode, b)
	}
}

// A node cut off from the majority accepts no writes; the majority carries
// on; when the partition heals, everything converges.
func TestMinorityPartitionAcceptsNoWrites(t *testing.T) {
	procs := startCluster(t, 3, "--raft-heartbeat", "300ms", "--max-staleness", "1s")
	leader := leaderOf(t, procs)
	f := followersOf(procs, leader)
	// Freeze the leader: from a follower's view the old leader is gone;
	// from the leader's view it is a minority of one when it wakes up.
	isolated := f[0]
	for _, p := range []*proc{leader, f[1]} {
		p.signal(syscall.SIGSTOP)
	}
	t.Cleanup(func() {
		for _, p := range procs {
			p.signal(syscall.SIGCONT)
		}
	})
	req, _ := http.NewRequest("POST", isolated.URL+"/api/v1/links", strings.NewReader(`{"url":"https://minority.test"}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The frozen leader holds the forwarded request unanswered: when it
	// wakes it may still apply it, so the honest answer is "outcome
	// unknown" (504); "not applied" (503 with Retry-After) only when the
	// write certainly never left.
	notApplied := resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "" && strings.Contains(string(body), "/_/problems/not-applied")
	unknown := resp.StatusCode == 504 && strings.Contains(string(body), "/_/problems/outcome-unknown")
	if !(notApplied || unknown) || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("a write to a minority of one: %d Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	eventually(t, 10*time.Second, "the isolated node to report not ready", func() bool {
		resp, err := http.Get(isolated.URL + "/_/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 503
	})
	for _, p := range []*proc{leader, f[1]} {
		p.signal(syscall.SIGCONT)
	}
	for _, p := range procs {
		p.waitReady(t, 30*time.Second)
	}
	code := mustCreateOn(t, isolated, "https://healed.test")
	for _, p := range procs {
		redirectsTo(t, p, code, "https://healed.test")
	}
}

// A node that joins late catches up from a snapshot (the log it would need
// has been truncated); a node can be removed with the CLI; a non-voter
// serves redirects without voting.
func TestLateJoinSnapshotRemoveNonVoter(t *testing.T) {
	procs := startCluster(t, 3, "--snapshot-threshold", "64", "--snapshot-interval", "100ms", "--raft-trailing-logs", "8")
	leader := leaderOf(t, procs)
	links := map[string]string{}
	for i := range 300 {
		url := fmt.Sprintf("https://late.test/%d", i)
		links[mustCreateOn(t, procs[i%3], url)] = url
	}
	joins := strings.Join([]string{procs[0].raftAddr, procs[1].raftAddr, procs[2].raftAddr}, ",")
	late := launch(t, newSpec(t, "n4", "--join", joins, "--cluster-secret", testSecret))
	late.waitReady(t, 30*time.Second)
	for code, url := range links {
		redirectsTo(t, late, code, url)
	}
	if !strings.Contains(late.logs.String(), "restored state from snapshot") {
		t.Fatalf("n4 caught up without a snapshot; the test did not exercise snapshot install:\n%s", late.logs)
	}
	replica := launch(t, newSpec(t, "r1", "--join", joins, "--non-voter", "--cluster-secret", testSecret))
	replica.waitReady(t, 30*time.Second)
	code := mustCreateOn(t, leader, "https://replica.test")
	redirectsTo(t, replica, code, "https://replica.test")

	var out strings.Builder
	if err := clusterCmd([]string{"remove", "n4", "--server", procs[1].URL, "--token", testToken}, &out, io.Discard); err != nil {
		t.Fatalf("linkd cluster remove: %v", err)
	}
	eventually(t, 10*time.Second, "n4 to leave the configuration", func() bool {
		s, err := status(leader)
		if err != nil {
			return false
		}
		suffrage := map[string]string{}
		for _, m := range s.Members {
			suffrage[m.ID] = m.Suffrage
		}
		return len(s.Members) == 4 && suffrage["n4"] == "" && suffrage["r1"] == "Nonvoter"
	})
	if err := clusterCmd([]string{"remove", "nope", "--server", procs[0].URL, "--token", testToken}, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "404") {
		t.Fatalf("removing an unknown node: %v", err)
	}
}

// Restarting every node in turn with SIGTERM (leadership is handed over
// first) loses no request of a client that retries on connection errors:
// each create carries an Idempotency-Key, so a retry never duplicates.
func TestRollingRestartLosesNoRequest(t *testing.T) {
	procs := startCluster(t, 3, "--raft-heartbeat", "500ms")
	live := newLiveSet(procs)
	stop := startWriters(4, live, "rolling")
	for i, p := range procs {
		time.Sleep(500 * time.Millisecond)
		p.stop(t)
		np := p.restart(t)
		np.waitReady(t, 30*time.Second)
		live.set(i, np)
	}
	time.Sleep(500 * time.Millisecond)
	done, failed, acked := stop()
	if failed > 0 || done < 50 {
		t.Fatalf("%d requests failed, %d succeeded during the rolling restart", failed, done)
	}
	for code, url := range acked {
		for _, p := range live.all() {
			redirectsTo(t, p, code, url)
		}
	}
	t.Logf("%d creates, none lost, during a rolling restart of 3 nodes", done)
}

// liveSet is the processes currently serving, as nodes are replaced.
type liveSet struct {
	mu    sync.Mutex
	procs []*proc
}

func newLiveSet(procs []*proc) *liveSet { return &liveSet{procs: append([]*proc(nil), procs...)} }

func (l *liveSet) get(i int) *proc {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.procs[i%len(l.procs)]
}

func (l *liveSet) set(i int, p *proc) {
	l.mu.Lock()
	l.procs[i] = p
	l.mu.Unlock()
}

func (l *liveSet) all() []*proc {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*proc(nil), l.procs...)
}

// startWriters runs n clients creating links on live nodes (each create
// retried on another node with its Idempotency-Key) until stop is called,
// which returns how many succeeded and failed and the acknowledged links.
func startWriters(n int, live *liveSet, prefix string) (stop func() (done, failed int, acked map[string]string)) {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var wg sync.WaitGroup
	var done, failed int
	acked := map[string]string{}
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				url := fmt.Sprintf("https://%s.test/%d/%d", prefix, w, i)
				code, ok := createRetrying(live.get(w+i), live.get(w+i+1), url, fmt.Sprintf("%s-%d-%d", prefix, w, i))
				mu.Lock()
				if ok {
					done++
					acked[code] = url
				} else {
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	return func() (int, int, map[string]string) {
		cancel()
		wg.Wait()
		return done, failed, acked
	}
}

// createRetrying creates a link, retrying on connection errors against the
// other node, with the same Idempotency-Key.
func createRetrying(a, b *proc, url, key string) (string, bool) {
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		target := a
		if i%2 == 1 {
			target = b
		}
		req, _ := http.NewRequest("POST", target.URL+"/api/v1/links", strings.NewReader(`{"url":"`+url+`"}`))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := noRedirect.Do(req)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue // connection error: retry
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var l struct{ Code string }
		json.Unmarshal(b, &l)
		if resp.StatusCode != 201 {
			fmt.Printf("create on %s: %d %s\n", target.id, resp.StatusCode, b)
		}
		return l.Code, resp.StatusCode == 201
	}
	return "", false
}
