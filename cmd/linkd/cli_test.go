package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// cli runs the built binary with the server and token in the environment,
// as a user would, and returns its output and exit code.
func cli(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func mustCLI(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, code := cli(t, env, args...)
	if code != 0 {
		t.Fatalf("linkd %s: exit %d: %s", strings.Join(args, " "), code, out)
	}
	return out
}

func TestCLI(t *testing.T) {
	p := mustStart(t, t.TempDir())
	admin := []string{"LINKD_SERVER=" + p.URL, "LINKD_TOKEN=" + testToken}

	out := mustCLI(t, append(admin, "LINKD_PASSWORD=correct horse battery"), "user", "create", "ann@example.com", "--role", "user")
	var u struct{ ID uint64 }
	if json.Unmarshal([]byte(out), &u) != nil || u.ID < 2 {
		t.Fatalf("user create printed %s", out)
	}
	if out := mustCLI(t, admin, "user", "list"); !strings.Contains(out, "ann@example.com") {
		t.Fatalf("user list: %s", out)
	}
	uid := strconv.FormatUint(u.ID, 10)
	if out := mustCLI(t, admin, "user", "trust", uid, "--daily-links", "5", "--approve", "--release-held"); !strings.Contains(out, `"dailyLinks": 5`) ||
		!strings.Contains(out, `"approved": true`) {
		t.Fatalf("user trust: %s", out)
	}
	if out := mustCLI(t, admin, "user", "trust", uid, "--daily-links", "default", "--unapprove"); !strings.Contains(out, `"dailyLinks": null`) ||
		!strings.Contains(out, `"approved": false`) {
		t.Fatalf("user trust back to the defaults: %s", out)
	}
	if out := mustCLI(t, admin, "user", "trust", uid); !strings.Contains(out, `"defaultDailyLinks": 0`) {
		t.Fatalf("user trust (show): %s", out)
	}
	out = mustCLI(t, admin, "key", "create", "ci", "--scope", "links:read", "--scope", "links:write")
	var k struct{ ID, Token string }
	if json.Unmarshal([]byte(out), &k) != nil || !strings.HasPrefix(k.Token, "lk_") {
		t.Fatalf("key create printed %s", out)
	}
	ci := []string{"LINKD_SERVER=" + p.URL, "LINKD_TOKEN=" + k.Token}
	out = mustCLI(t, ci, "link", "create", "https://example.com/cli", "--alias", "cli-x", "--tag", "a", "--tag", "b")
	if !strings.Contains(out, `"code": "cli-x"`) {
		t.Fatalf("link create printed %s", out)
	}
	if out := mustCLI(t, ci, "link", "list", "--tag", "b"); !strings.Contains(out, "cli-x") {
		t.Fatalf("link list --tag b: %s", out)
	}
	if out := mustCLI(t, ci, "link", "list", "--q", "nothing-like-this"); strings.Contains(out, "cli-x") {
		t.Fatalf("link list --q matched: %s", out)
	}
	mustCLI(t, ci, "link", "update", "cli-x", "--title", "From the CLI", "--expires", "never")
	if out := mustCLI(t, ci, "link", "get", "cli-x"); !strings.Contains(out, `"title": "From the CLI"`) {
		t.Fatalf("link get: %s", out)
	}
	if out := mustCLI(t, ci, "link", "delete", "cli-x"); !strings.Contains(out, "deleted cli-x") {
		t.Fatalf("link delete: %s", out)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"link", "get", "cli-x"}, "410"},
		{[]string{"link", "create"}, "want 1 argument"},
		{[]string{"link", "frob"}, `unknown link command "frob"`},
		{[]string{"link", "update", "cli-x"}, "nothing to change"},
		{[]string{"key", "create", "wide", "--scope", "admin"}, "403"},
		{[]string{"user", "list"}, "403"},
	} {
		out, code := cli(t, ci, bad.args...)
		if code == 0 || !strings.Contains(out, bad.want) {
			t.Errorf("linkd %s: exit %d, want failure mentioning %q: %s", strings.Join(bad.args, " "), code, bad.want, out)
		}
	}
	mustCLI(t, admin, "key", "delete", k.ID)
	if out, code := cli(t, ci, "link", "list"); code == 0 || !strings.Contains(out, "401") {
		t.Fatalf("revoked key still works: %s", out)
	}
}
