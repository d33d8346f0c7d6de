//go:build docker

// Docker end-to-end suite: builds the image from the Dockerfile and runs
// linkd in real containers on a private network. Containers are reached only
// through ports published on 127.0.0.1. It fails (never skips) when Docker
// is missing. Run with:
//
//	go test -tags docker -run Docker -v -timeout 20m ./cmd/linkd/
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const dockerImage = "linkd:e2e"

// docker runs a docker command and returns its trimmed output.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

var buildOnce sync.Once

// buildImage builds the static binary and the image exactly as the README
// says, failing loudly if Docker is not usable.
func buildImage(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatal("docker is not installed: the Docker suite needs the docker CLI and a running engine")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Fatalf("the Docker engine is not reachable: %v\n%s", err, out)
	}
	buildOnce.Do(func() {
		root, _ := filepath.Abs("../..")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", "build/linkd", "./cmd/linkd")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building the static binary: %v\n%s", err, out)
		}
		os.MkdirAll(filepath.Join(root, "build", "data"), 0o755)
		cmd = exec.Command("docker", "build", "-q", "-t", dockerImage, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker build: %v\n%s", err, out)
		}
	})
}

// container is one linkd container.
type container struct {
	name, host, url string
}

// runContainer starts a container and returns it once its HTTP port is published.
func runContainer(t *testing.T, name, network, host string, args ...string) *container {
	t.Helper()
	all := []string{"run", "-d", "--name", name, "-p", "127.0.0.1::8080", "-e", "LINKD_ADMIN_TOKEN=" + testToken,
		"-e", "LINKD_CLUSTER_SECRET=" + testSecret}
	if network != "" {
		all = append(all, "--network", network, "--hostname", host, "--network-alias", host)
	}
	docker(t, append(append(all, dockerImage), args...)...)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("docker", "logs", "--tail", "60", name).CombinedOutput()
			t.Logf("logs of %s:\n%s", name, out)
		}
		exec.Command("docker", "rm", "-f", "-v", name).Run()
	})
	c := &container{name: name, host: host}
	c.refreshURL(t)
	return c
}

// refreshURL reads the published port (it changes when a container restarts).
func (c *container) refreshURL(t *testing.T) {
	t.Helper()
	out := docker(t, "port", c.name, "8080/tcp")
	c.url = "http://" + strings.Split(out, "\n")[0]
}

func (c *container) waitReady(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(c.url + "/_/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, _ := exec.Command("docker", "logs", "--tail", "40", c.name).CombinedOutput()
	t.Fatalf("%s not ready after %s:\n%s", c.name, timeout, out)
}

func uniq() string { return fmt.Sprintf("linkd-e2e-%d-%d", os.Getpid(), rand.IntN(1e6)) }

// `docker run -p 8080:8080 -v linkd:/data IMAGE` starts a working node:
// create a link, follow it, and find it again after a container restart.
func TestDockerSingleNode(t *testing.T) {
	buildImage(t)
	name := uniq()
	vol := name + "-data"
	t.Cleanup(func() { exec.Command("docker", "volume", "rm", "-f", vol).Run() })
	all := []string{"run", "-d", "--name", name, "-p", "127.0.0.1::8080", "-v", vol + ":/data", "-e", "LINKD_ADMIN_TOKEN=" + testToken, dockerImage}
	docker(t, all...)
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	c := &container{name: name}
	c.refreshURL(t)
	c.waitReady(t, 30*time.Second)
	code := create(context.Background(), c.url, "https://docker.test/single")
	if code == "" {
		t.Fatal("create in the container failed")
	}
	if st, loc := location(t, c.url, code); st != 302 || loc != "https://docker.test/single" {
		t.Fatalf("redirect: %d %q", st, loc)
	}
	docker(t, "restart", name)
	c.refreshURL(t)
	c.waitReady(t, 30*time.Second)
	if st, loc := location(t, c.url, code); st != 302 || loc != "https://docker.test/single" {
		t.Fatalf("after restart: %d %q", st, loc)
	}
}

// Three containers on a private network, bootstrapped with one command
// line and a cluster secret (LINKD_CLUSTER_SECRET); writes through a follower while the leader is killed, a node is
// partitioned off and reconnected, and containers restart. At the end every
// acknowledged link is on every node with its destination, and no link
// exists in a form nobody asked for.
func TestDockerClusterFaults(t *testing.T) {
	buildImage(t)
	prefix := uniq()
	network := prefix + "-net"
	docker(t, "network", "create", network)
	t.Cleanup(func() { exec.Command("docker", "network", "rm", network).Run() })
	join := "n1:7000,n2:7000,n3:7000"
	nodes := map[string]*container{}
	for _, id := range []string{"n1", "n2", "n3"} {
		nodes[id] = runContainer(t, prefix+"-"+id, network, id, "--node-id", id, "--raft-addr", id+":7000",
			"--http-addr", ":8080", "--http-advertise", id+":8080", "--bootstrap-expect", "3", "--join", join)
	}
	for _, c := range nodes {
		c.waitReady(t, 60*time.Second)
	}
	w := startWriter(t, nodes)
	leader := dockerLeader(t, nodes)
	time.Sleep(2 * time.Second)

	docker(t, "kill", leader.name)
	time.Sleep(4 * time.Second)
	docker(t, "start", leader.name)
	leader.refreshURL(t)
	leader.waitReady(t, 60*time.Second)

	victim := nodes["n2"]
	docker(t, "network", "disconnect", network, victim.name)
	time.Sleep(5 * time.Second)
	docker(t, "network", "connect", "--alias", victim.host, network, victim.name)
	victim.refreshURL(t) // the published port belongs to the network endpoint
	victim.waitReady(t, 60*time.Second)

	for _, id := range []string{"n3", "n1"} {
		docker(t, "restart", nodes[id].name)
		nodes[id].refreshURL(t)
		nodes[id].waitReady(t, 60*time.Second)
	}
	time.Sleep(2 * time.Second)
	acked, attempted := w.stop()
	if len(acked) < 50 {
		t.Fatalf("only %d links acknowledged; the writer barely ran", len(acked))
	}
	for _, c := range nodes {
		c.waitReady(t, 60*time.Second)
		checkNode(t, c, acked, attempted)
	}
	t.Logf("%d acknowledged links (of %d attempts) on all 3 nodes after kill, partition and restarts", len(acked), len(attempted))
}

// writer creates links through followers (whoever is not the leader when
// asked), recording what was acknowledged and what was attempted.
type writer struct {
	mu        sync.Mutex
	acked     map[string]string // code -> url
	attempted map[string]bool   // urls
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

func startWriter(t *testing.T, nodes map[string]*container) *writer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &writer{acked: map[string]string{}, attempted: map[string]bool{}, cancel: cancel}
	ids := []string{"n1", "n2", "n3"}
	for g := range 4 {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				c := nodes[ids[(g+i)%3]]
				url := fmt.Sprintf("https://e2e.test/%d/%d", g, i)
				w.mu.Lock()
				w.attempted[url] = true
				base := c.url
				w.mu.Unlock()
				rctx, rcancel := context.WithTimeout(ctx, 15*time.Second)
				code := create(rctx, base, url)
				rcancel()
				if code != "" {
					w.mu.Lock()
					w.acked[code] = url
					w.mu.Unlock()
				} else {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	return w
}

func (w *writer) stop() (map[string]string, map[string]bool) {
	w.cancel()
	w.wg.Wait()
	return w.acked, w.attempted
}

func dockerLeader(t *testing.T, nodes map[string]*container) *container {
	t.Helper()
	for range 100 {
		for _, c := range nodes {
			resp, err := http.Get(c.url + "/_/status")
			if err != nil {
				continue
			}
			var s clusterStatus
			json.NewDecoder(resp.Body).Decode(&s)
			resp.Body.Close()
			if s.State == "Leader" {
				return c
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no leader among the containers")
	return nil
}

// checkNode lists every link on c and checks it against what the writer
// saw: all acknowledged links present with their URLs, nothing else but
// links whose creation was attempted, and no destination twice.
func checkNode(t *testing.T, c *container, acked map[string]string, attempted map[string]bool) {
	t.Helper()
	seen := map[string]string{}
	urls := map[string]int{}
	path := "/api/v1/links?limit=100&consistency=linearizable"
	for {
		req, _ := http.NewRequest("GET", c.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var page struct {
			Items []struct {
				Code, URL string
			} `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(b, &page) != nil {
			t.Fatalf("listing on %s: %d %s", c.name, resp.StatusCode, b)
		}
		for _, l := range page.Items {
			seen[l.Code] = l.URL
			urls[l.URL]++
		}
		if page.NextCursor == nil {
			break
		}
		path = "/api/v1/links?limit=100&consistency=linearizable&cursor=" + *page.NextCursor
	}
	for code, url := range acked {
		if seen[code] != url {
			t.Fatalf("%s: acknowledged link %s -> %s is %q", c.name, code, url, seen[code])
		}
	}
	for code, url := range seen {
		if !attempted[url] {
			t.Fatalf("%s: link %s -> %s was never requested", c.name, code, url)
		}
		if urls[url] > 1 {
			t.Fatalf("%s: %s exists %d times", c.name, url, urls[url])
		}
	}
}
