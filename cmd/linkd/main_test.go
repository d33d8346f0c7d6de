package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the linkd binary built once for the process tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "linkd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "linkd")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building linkd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testToken = "lk_process_test_token"

// proc is a linkd process started by a test.
type proc struct {
	cmd  *exec.Cmd
	URL  string
	logs *strings.Builder
	done chan struct{}
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// mustStart starts linkd with args plus a test token and fast raft timing,
// and waits until /_/readyz answers 200.
func mustStart(t testing.TB, dataDir string, args ...string) *proc {
	t.Helper()
	httpAddr := freePort(t)
	all := append([]string{"serve", "--data-dir", dataDir, "--http-addr", httpAddr, "--raft-addr", freePort(t),
		"--admin-token", testToken, "--raft-heartbeat", "150ms", "--log-level", "warn"}, args...)
	cmd := exec.Command(binary, all...)
	p := &proc{cmd: cmd, URL: "http://" + httpAddr, logs: &strings.Builder{}, done: make(chan struct{})}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.logs.WriteString(sc.Text() + "\n")
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/_/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("linkd exited during start-up:\n%s", p.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("linkd not ready after 15 s:\n%s", p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

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
		t.Fatalf("linkd did not stop on SIGTERM:\n%s", p.logs)
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
