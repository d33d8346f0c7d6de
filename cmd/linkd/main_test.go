package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/internal/hangdump"
)

// binary is the linkd binary the process tests run (the jepsen suite may
// point it at another build); built is the one TestMain built from this tree.
var binary, built string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "linkd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "linkd")
	built = binary
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building linkd:", err)
		os.Exit(1)
	}
	code := hangdump.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

const testToken = "lk_process_test_token"

// spec is how a test process is started; restarting uses the same spec.
type spec struct {
	id, dir, httpAddr, raftAddr string
	args                        []string
	bin                         string // the linkd binary; "" is the one built by TestMain
	// uid, when set, runs the process as that user (the jepsen suite cuts
	// network links between nodes by process owner).
	uid uint32
}

// proc is a linkd process started by a test.
type proc struct {
	spec
	cmd  *exec.Cmd
	URL  string
	logs *syncBuffer
	done chan struct{}
}

// syncBuffer collects a process's log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) add(line string) {
	s.mu.Lock()
	s.b.WriteString(line + "\n")
	s.mu.Unlock()
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newSpec returns a spec with a fresh data directory and free ports.
func newSpec(t testing.TB, id string, args ...string) spec {
	return spec{id: id, dir: t.TempDir(), httpAddr: httpdtest.FreeAddr(t), raftAddr: httpdtest.FreeAddr(t), args: args}
}

// launch starts the process without waiting for it to be ready.
func launch(t testing.TB, s spec) *proc {
	t.Helper()
	all := append([]string{"serve", "--node-id", s.id, "--data-dir", s.dir, "--http-addr", s.httpAddr,
		"--raft-addr", s.raftAddr, "--http-advertise", s.httpAddr, "--admin-token", testToken,
		// The load these tests make all comes from 127.0.0.1; the
		// redirect budget per address is tested in httpd.
		"--rate-redirects-per-ip", "off",
		"--log-level", "info"}, s.args...)
	bin := s.bin
	if bin == "" {
		bin = binary
	}
	if bin == built {
		// Stopping is part of most tests; the drain itself is tested in
		// drain_test.go with its own --drain (which, given later, wins).
		// Older builds (the upgrade and jepsen suites run them) lack the flag.
		all = append(all[:1], append([]string{"--drain", "100ms"}, all[1:]...)...)
	}
	cmd := exec.Command(bin, all...)
	if s.uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: s.uid, Gid: s.uid}}
		cmd.Env = append(os.Environ(), "HOME="+s.dir)
	}
	return launchCmd(t, s, cmd, nil)
}

// launchCmd starts cmd (a linkd serve command line for s) with env added
// to the environment, collecting its log.
func launchCmd(t testing.TB, s spec, cmd *exec.Cmd, env []string) *proc {
	t.Helper()
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	p := &proc{spec: s, cmd: cmd, URL: "http://" + s.httpAddr, logs: &syncBuffer{}, done: make(chan struct{})}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.logs.add(sc.Text())
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() && os.Getenv("LINKD_TEST_LOG") != "" {
			t.Logf("logs of %s:\n%s", p.id, p.logs)
		}
	})
	return p
}

// waitReady waits until /_/readyz answers 200.
func (p *proc) waitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(p.URL + "/_/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited:\n%s", p.id, p.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %s:\n%s", p.id, timeout, p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mustStart starts a single node with fast raft timing on dataDir and waits
// until it is ready.
func mustStart(t testing.TB, dataDir string, args ...string) *proc {
	t.Helper()
	s := newSpec(t, "n1", append([]string{"--raft-heartbeat", "150ms"}, args...)...)
	s.dir = dataDir
	p := launch(t, s)
	p.waitReady(t, 15*time.Second)
	return p
}

// restart starts the same command again (after the process has exited).
func (p *proc) restart(t testing.TB) *proc {
	t.Helper()
	<-p.done
	return launch(t, p.spec)
}

func (p *proc) signal(sig os.Signal) { p.cmd.Process.Signal(sig) }

func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		// SIGQUIT makes the Go runtime print every goroutine's stack to
		// stderr: the log then says where the shutdown is stuck.
		p.signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
		t.Fatalf("linkd did not stop on SIGTERM (goroutines at the end):\n%s", p.logs)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("linkd exited %d on SIGTERM:\n%s", code, p.logs)
	}
}

var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// create posts a link and returns its code, or "" if it was not
// acknowledged (any error or non-201).
func create(ctx context.Context, base, url string) string {
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/links", strings.NewReader(`{"url":"`+url+`"}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := noRedirect.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		return ""
	}
	const key = `"code":"`
	i := strings.Index(string(b), key)
	if i < 0 {
		return ""
	}
	rest := string(b[i+len(key):])
	return rest[:strings.IndexByte(rest, '"')]
}

// location follows nothing: it returns the status and Location of /code.
func location(t testing.TB, base, code string) (int, string) {
	t.Helper()
	resp, err := noRedirect.Get(base + "/" + code)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}
