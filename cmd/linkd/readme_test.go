//go:build readme

// The README suite runs the README's quick start through bash and curl,
// which plain `go test` may not have: -tags readme. It fails, never skips,
// without them. Run: go test -tags readme -run README -v ./cmd/linkd/
package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// shBlock matches a README shell block: the heading it sits under and its
// text.
var shBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

// readmeBlocks returns the README's shell blocks, by the "## " section
// they sit in (several blocks of one section are joined).
func readmeBlocks(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, sec := range strings.Split("\n"+string(b), "\n## ")[1:] {
		title, body, _ := strings.Cut(sec, "\n")
		for _, m := range shBlock.FindAllStringSubmatch(body, -1) {
			out[title] += m[1]
		}
	}
	return out
}

// TestREADMEQuickStart runs the README's quick start as pasted: the
// "Start" section's `go run ./cmd/linkd` and `go install ./cmd/linkd` +
// `linkd serve`, the walk-through's curl commands, and the CLI commands of
// "Accounts, console and rate limits", each block through bash with
// `set -e`. What differs from a newcomer's terminal, and only that:
//   - the environment picks free ports and a temporary data directory
//     (LINKD_HTTP_ADDR, LINKD_RAFT_ADDR, LINKD_DATA_DIR, which the README
//     documents as the flags' environment form), and the commands' literal
//     "localhost:8080" is rewritten to the chosen port;
//   - `T=lk_...` is set to the token the node printed, as the README says;
//   - GOBIN points `go install` at a temporary directory put first on PATH;
//   - `go test ./...` is not run (it is the suite this test belongs to):
//     the test only checks the line is there.
func TestREADMEQuickStart(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's blocks need %s: install it (.ci/run does)", tool)
		}
	}
	blocks := readmeBlocks(t)
	start, walk, cli := blocks["Start"], blocks["Walk-through"], blocks["Accounts, console and rate limits"]
	for _, want := range []string{"go run ./cmd/linkd ", "go test ./... ", "go install ./cmd/linkd ", "linkd serve "} {
		if !strings.Contains(start, want) {
			t.Fatalf("README's Start section lost %q:\n%s", want, start)
		}
	}
	if !strings.HasPrefix(walk, "T=lk_...") || !strings.Contains(cli, "export LINKD_SERVER=http://localhost:8080 LINKD_TOKEN=$T") {
		t.Fatalf("README's walk-through or CLI block changed shape:\n%s\n%s", walk, cli)
	}
	repo, _ := filepath.Abs("../..")
	gobin := t.TempDir()
	addr := httpdtest.FreeAddr(t)
	port := addr[strings.LastIndex(addr, ":")+1:]
	env := append(os.Environ(), "GOBIN="+gobin, "PATH="+gobin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LINKD_DATA_DIR="+t.TempDir(), "LINKD_HTTP_ADDR="+addr, "LINKD_RAFT_ADDR="+httpdtest.FreeAddr(t), "LINKD_DRAIN=0s")
	local := func(s string) string { return strings.ReplaceAll(s, "localhost:8080", "localhost:"+port) }

	// Start: `go run ./cmd/linkd`, literally, in the repository.
	p := launchShell(t, repo, env, lineWith(start, "go run ./cmd/linkd "))
	p.waitReady(t, 3*time.Minute) // go run compiles first
	token := regexp.MustCompile(`Admin API token: +(lk_\S+)`).FindStringSubmatch(waitLog(t, p, "=====\n\n"))
	if token == nil {
		t.Fatalf("no admin token in the banner:\n%s", p.logs)
	}
	tokenLine := "T=" + token[1]

	// Walk-through.
	out := runBlock(t, repo, env, tokenLine+"\n"+local(strings.TrimPrefix(walk, "T=lk_...")))
	for _, want := range []string{`"code":"hello"`, "HTTP/1.1 302", "Location: https://example.com/hello?x=1", "302 https://example.org/\n", "204\n410\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("walk-through output lacks %q:\n%s", want, out)
		}
	}

	// `go install ./cmd/linkd`, then the CLI block with that linkd.
	install := lineWith(start, "go install ./cmd/linkd ")
	runBlock(t, repo, env, install)
	if _, err := os.Stat(filepath.Join(gobin, "linkd")); err != nil {
		t.Fatalf("%s installed nothing: %v", install, err)
	}
	out = runBlock(t, t.TempDir(), env, tokenLine+"\n"+local(cli))
	for _, want := range []string{"ann@example.com", "deploy", "launch"} {
		if !strings.Contains(out, want) {
			t.Errorf("CLI block output lacks %q:\n%s", want, out)
		}
	}
	stopGroup(t, p)

	// `linkd serve` (the installed binary) starts the same node again.
	p = launchShell(t, t.TempDir(), env, lineWith(start, "linkd serve "))
	p.waitReady(t, 30*time.Second)
	stopGroup(t, p)
}

// lineWith returns the command of the block's line that starts with
// prefix, without its trailing comment.
func lineWith(block, prefix string) string {
	for _, l := range strings.Split(block, "\n") {
		if strings.HasPrefix(l, prefix) {
			cmd, _, _ := strings.Cut(l, "#")
			return strings.TrimSpace(cmd)
		}
	}
	return ""
}

// runBlock runs a block through bash -e in dir and returns its output.
func runBlock(t *testing.T, dir string, env []string, block string) string {
	t.Helper()
	cmd := exec.Command("bash", "-e", "-c", block)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README block failed: %v\n--- block\n%s\n--- output\n%s", err, block, out)
	}
	t.Logf("--- ran\n%s\n--- output\n%s", block, out)
	return string(out)
}

// launchShell starts a server command line through sh in its own process
// group (go run's child is a grandchild), collecting its log.
func launchShell(t *testing.T, dir string, env []string, line string) *proc {
	t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var addr string
	for _, e := range env {
		if a, ok := strings.CutPrefix(e, "LINKD_HTTP_ADDR="); ok {
			addr = a
		}
	}
	p := launchCmd(t, spec{id: line, httpAddr: addr}, cmd, nil)
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return p
}

// stopGroup sends SIGTERM to the server's process group and waits.
func stopGroup(t *testing.T, p *proc) {
	t.Helper()
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop:\n%s", p.id, p.logs)
	}
}
