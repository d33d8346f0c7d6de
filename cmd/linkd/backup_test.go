package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// apiDo sends a JSON request with a token and returns status and body.
func apiDo(t *testing.T, method, u, token, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, u, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func mustAPI(t *testing.T, want int, method, u, token, body string) []byte {
	t.Helper()
	st, b := apiDo(t, method, u, token, body)
	if st != want {
		t.Fatalf("%s %s: %d %s, want %d", method, u, st, b, want)
	}
	return b
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consoleLogin logs in through the console form and returns the session
// cookie.
func consoleLogin(t *testing.T, base, email, password string) *http.Cookie {
	t.Helper()
	resp, err := noRedirect.Get(base + "/app/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field on the login page")
	}
	form := url.Values{"email": {email}, "password": {password}, "csrf": {string(m[1])}}
	req, _ := http.NewRequest("POST", base+"/app/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "linkd_session") {
			return c
		}
	}
	t.Fatalf("login answered %d without a session cookie", resp.StatusCode)
	return nil
}

// loggedIn reports whether the console accepts the session cookie.
func loggedIn(t *testing.T, base string, c *http.Cookie) bool {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/app/links", nil)
	req.AddCookie(c)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// A backup taken from a live 3-node cluster while writes continue holds
// every write acknowledged before it began; restored into a fresh 3-node
// cluster, links, users, keys, sessions, profiles and analytics work, and
// new codes are never ones the old cluster issued. A damaged backup is
// refused, and restore refuses a data directory in use.
func TestBackupRestoreIntoNewCluster(t *testing.T) {
	old := startCluster(t, 3, "--raft-heartbeat", "300ms", "--analytics-lag", "200ms")
	base := old[0].URL

	// Users, keys, a session, a profile, links and clicks.
	mustAPI(t, 201, "POST", base+"/api/v1/users", testToken, `{"email":"ann@backup.test","password":"correct horse battery","role":"user"}`)
	var key struct{ Token string }
	json.Unmarshal(mustAPI(t, 201, "POST", base+"/api/v1/keys", testToken, `{"name":"backup-test","scopes":["links:read"]}`), &key)
	if key.Token == "" {
		t.Fatal("no key token")
	}
	mustAPI(t, 200, "PUT", base+"/api/v1/profile", testToken, `{"handle":"backupann","displayName":"Ann","theme":"classic","links":[{"title":"Blog","url":"https://blog.test/"}]}`)
	clicked := mustCreateOn(t, old[1], "https://clicked.test/")
	redirectsTo(t, old[2], clicked, "https://clicked.test/")
	for range 5 {
		req, _ := http.NewRequest("GET", old[2].URL+"/"+clicked, nil)
		req.Header.Set("User-Agent", browserUA)
		resp, err := noRedirect.Do(req)
		if err != nil || resp.StatusCode != 302 {
			t.Fatalf("click: %v", err)
		}
		resp.Body.Close()
	}
	// redirectsTo's own request counts too.
	eventually(t, 15*time.Second, "clicks to reach analytics", func() bool { return totalClicks(t, old[0], clicked) >= 6 })

	// Only admins may take a backup.
	if st, _ := apiDo(t, "GET", base+"/api/v1/backup", key.Token, ""); st != 403 {
		t.Fatalf("a links:read key got %d from /api/v1/backup, want 403", st)
	}

	// Writers on every node, before, during and after the backup.
	var mu sync.Mutex
	acked := map[string]string{} // code -> url, acknowledged
	ackedAt := map[string]time.Time{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				u := fmt.Sprintf("https://backup.test/%d/%d", w, i)
				if code := create(ctx, old[(w+i)%3].URL, u); code != "" {
					mu.Lock()
					acked[code], ackedAt[code] = u, time.Now()
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(time.Second)
	session := consoleLogin(t, old[1].URL, "ann@backup.test", "correct horse battery")
	file := filepath.Join(t.TempDir(), "linkd.backup")
	clicks := totalClicks(t, old[2], clicked)
	began := time.Now()
	out := mustCLI(t, nil, "backup", "--server", old[2].URL, "--token", testToken, "-o", file)
	t.Logf("%s", strings.TrimSpace(out))
	time.Sleep(500 * time.Millisecond)
	cancel()
	wg.Wait()

	// A damaged copy and a used data directory are refused.
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.backup")
	damaged := append([]byte(nil), raw...)
	damaged[len(damaged)/2] ^= 0x40
	os.WriteFile(bad, damaged, 0o600)
	if out, code := cli(t, nil, "restore", bad, "--data-dir", filepath.Join(t.TempDir(), "d")); code == 0 || !strings.Contains(out, "corrupt") {
		t.Fatalf("a damaged backup was restored (exit %d): %s", code, out)
	}
	if out, code := cli(t, nil, "restore", file, "--data-dir", old[0].dir); code == 0 || !strings.Contains(out, "not empty") {
		t.Fatalf("restore into a data directory in use: exit %d: %s", code, out)
	}

	// Restore into a new cluster started with the usual command line.
	specs := make([]spec, 3)
	var joins []string
	for i := range specs {
		specs[i] = newSpec(t, fmt.Sprintf("r%d", i+1))
		joins = append(joins, specs[i].raftAddr)
	}
	mustCLI(t, nil, "restore", file, "--data-dir", specs[0].dir)
	restored := make([]*proc, 3)
	for i := range specs {
		specs[i].args = []string{"--join", strings.Join(joins, ","), "--bootstrap-expect", "3", "--raft-heartbeat", "300ms", "--cluster-secret", testSecret}
		restored[i] = launch(t, specs[i])
	}
	for _, p := range restored {
		p.waitReady(t, 30*time.Second)
	}
	eventually(t, 20*time.Second, "all three restored nodes in one cluster", func() bool {
		s, err := status(restored[2])
		return err == nil && len(s.Members) == 3
	})

	// Everything acknowledged before the backup began is on every node.
	mu.Lock()
	before := 0
	for code, u := range acked {
		if ackedAt[code].Before(began) {
			before++
			for _, p := range restored {
				redirectsTo(t, p, code, u)
			}
		}
	}
	mu.Unlock()
	if before < 20 {
		t.Fatalf("only %d links were acknowledged before the backup", before)
	}
	for _, p := range restored {
		redirectsTo(t, p, clicked, "https://clicked.test/")
		if n := totalClicks(t, p, clicked); n < clicks {
			t.Fatalf("%s: %d clicks after restore, want at least the %d counted before", p.id, n, clicks)
		}
		if st, _ := apiDo(t, "GET", p.URL+"/api/v1/profiles/backupann", "", ""); st != 200 {
			t.Fatalf("%s: profile after restore: %d", p.id, st)
		}
	}
	// The old admin token, the user's API key and the console session work.
	mustAPI(t, 200, "GET", restored[1].URL+"/api/v1/links", key.Token, "")
	mustAPI(t, 200, "GET", restored[2].URL+"/api/v1/users", testToken, "")
	if !loggedIn(t, restored[2].URL, session) {
		t.Fatal("the console session from before the backup does not work after restore")
	}
	// New codes, minted by every node, are never ones issued before.
	for i := range 30 {
		code := mustCreateOn(t, restored[i%3], fmt.Sprintf("https://after.test/%d", i))
		if prev, ok := acked[code]; ok || code == clicked {
			t.Fatalf("code %s issued again (it was %s)", code, prev)
		}
	}
	t.Logf("%d links acknowledged before the backup, %d in all; all there after the restore", before, len(acked))
}
