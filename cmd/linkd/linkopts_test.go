package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Every link option flag reaches the API: create with all of them (the
// password from standard input), update some, promote a variant.
func TestCLILinkOptions(t *testing.T) {
	p := mustStart(t, t.TempDir())
	env := []string{"LINKD_SERVER=" + p.URL, "LINKD_TOKEN=" + testToken}
	rules := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(rules, []byte(`[{"if": {"os": ["ios"]}, "url": "https://apps.apple.com/app/x"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "link", "create", "https://example.com/o", "--alias", "opts-1", "--password-stdin",
		"--starts", "2020-01-01T00:00:00Z", "--fallback", "https://example.com/fb", "--max-visits", "7",
		"--no-forward-query", "--forward-path", "--rules-file", rules,
		"--variant", "https://example.com/a?x=1=40", "--variant", "https://example.com/b=60")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("open sesame\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("link create: %v: %s", err, out)
	}
	type view struct {
		URL                       string
		PasswordProtected         bool
		StartsAt                  *string
		FallbackURL               string
		MaxVisits                 uint64
		ForwardQuery, ForwardPath bool
		Rules                     []struct{ URL string }
		Variants                  []struct {
			URL    string
			Weight int
		}
	}
	var v view
	if err := json.Unmarshal(out, &v); err != nil || !v.PasswordProtected || v.StartsAt == nil || v.FallbackURL != "https://example.com/fb" ||
		v.MaxVisits != 7 || v.ForwardQuery || !v.ForwardPath || len(v.Rules) != 1 || len(v.Variants) != 2 ||
		v.Variants[0].URL != "https://example.com/a?x=1" || v.Variants[0].Weight != 40 {
		t.Fatalf("link create printed %s (%v)", out, err)
	}
	out2 := mustCLI(t, env, "link", "update", "opts-1", "--max-visits", "0")
	if json.Unmarshal([]byte(out2), &v) != nil || v.MaxVisits != 0 || !v.PasswordProtected {
		t.Fatalf("link update printed %s", out2)
	}
	out2 = mustCLI(t, env, "link", "promote", "opts-1", "B")
	if json.Unmarshal([]byte(out2), &v) != nil || v.URL != "https://example.com/b" || len(v.Variants) != 0 {
		t.Fatalf("link promote printed %s", out2)
	}
	if out, code := cli(t, env, "link", "create", "https://example.com", "--variant", "nourl"); code == 0 || !strings.Contains(out, "URL=WEIGHT") {
		t.Fatalf("a bad --variant: exit %d: %s", code, out)
	}
}
