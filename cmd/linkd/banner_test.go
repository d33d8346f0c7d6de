package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// curlLines matches the banner's curl commands (a line and its backslash
// continuation).
var curlLines = regexp.MustCompile(`(?m)^ +curl .*\\\n +.*$`)

// shellArgs runs a printed curl command through /bin/sh with curl replaced
// by printf, so the arguments come out exactly as a shell would pass them
// (quotes removed, variables expanded).
func shellArgs(t *testing.T, cmd string, env ...string) []string {
	t.Helper()
	sh := exec.Command("/bin/sh", "-c", "printf '%s\\0' "+strings.TrimPrefix(strings.TrimSpace(cmd), "curl "))
	sh.Env = append(os.Environ(), env...)
	out, err := sh.Output()
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// doCurl performs the request of a curl command line (-s, -X, -H, -d, URL).
func doCurl(t *testing.T, args []string) (int, map[string]any) {
	t.Helper()
	method, body, url := "GET", "", ""
	hdr := http.Header{}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-s":
		case "-X":
			i++
			method = args[i]
		case "-H":
			i++
			k, v, _ := strings.Cut(args[i], ": ")
			hdr.Add(k, v)
		case "-d":
			i++
			body = args[i]
			if method == "GET" {
				method = "POST"
			}
		default:
			url = args[i]
		}
	}
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

// waitLog waits until the process has logged want.
func waitLog(t *testing.T, p *proc, want string) string {
	t.Helper()
	eventually(t, 20*time.Second, "log "+want, func() bool { return strings.Contains(p.logs.String(), want) })
	return p.logs.String()
}

// The start-up banner's commands work pasted into a shell: with a
// generated token, with the token from LINKD_ADMIN_TOKEN, and the restart
// notice's invite command. A guessed public URL is warned about.
func TestBannerCommandsWorkInAShell(t *testing.T) {
	for _, given := range []bool{false, true} {
		s := newSpec(t, "n1", "--raft-heartbeat", "150ms")
		bin := exec.Command(binary, "serve", "--data-dir", s.dir, "--http-addr", s.httpAddr, "--raft-addr", s.raftAddr, "--drain", "0s")
		env := []string{}
		if given {
			env = append(env, "LINKD_ADMIN_TOKEN=lk_banner_test_token_0123456789")
		}
		p := launchCmd(t, s, bin, env)
		logs := waitLog(t, p, "=====\n\n")
		if !strings.Contains(logs, "LINKD_PUBLIC_URL") {
			t.Errorf("no warning about the guessed public URL:\n%s", logs)
		}
		cmds := curlLines.FindAllString(logs, -1)
		if len(cmds) != 2 {
			t.Fatalf("want the link and the invite commands in the banner:\n%s", logs)
		}
		p.waitReady(t, 15*time.Second)
		if st, v := doCurl(t, shellArgs(t, cmds[0], env...)); st != 201 || v["code"] == nil {
			t.Fatalf("given token %v: the banner's create command answered %d %v", given, st, v)
		}
		if st, v := doCurl(t, shellArgs(t, cmds[1], env...)); st != 201 || !strings.Contains(v["url"].(string), "/app/signup?invite=") {
			t.Fatalf("given token %v: the banner's invite command answered %d %v", given, st, v)
		}
		if !given {
			continue
		}
		// After a restart the banner is gone; the notice says how to log in.
		p.stop(t)
		p = launchCmd(t, s, exec.Command(binary, bin.Args[1:]...), env)
		logs = waitLog(t, p, "/api/v1/invites\n")
		cmds = curlLines.FindAllString(logs, -1)
		if len(cmds) != 1 || strings.Contains(logs, "Shown only this once") {
			t.Fatalf("restart notice:\n%s", logs)
		}
		p.waitReady(t, 15*time.Second)
		if st, v := doCurl(t, shellArgs(t, cmds[0], env...)); st != 201 || v["url"] == nil {
			t.Fatalf("the restart notice's invite command answered %d %v", st, v)
		}
		p.stop(t)
	}
}
