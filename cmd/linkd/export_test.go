package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIExport: linkd link export writes CSV or JSON lines to stdout or
// a file; --analytics writes the analytics CSV.
func TestCLIExport(t *testing.T) {
	p := mustStart(t, t.TempDir())
	admin := []string{"LINKD_SERVER=" + p.URL, "LINKD_TOKEN=" + testToken}
	mustCLI(t, admin, "link", "create", "https://example.com/x", "--alias", "exp-one", "--tag", "t1")
	if out := mustCLI(t, admin, "link", "export"); !strings.HasPrefix(out, "code,shortUrl,url,") || !strings.Contains(out, "exp-one,") {
		t.Fatalf("csv export: %s", out)
	}
	file := filepath.Join(t.TempDir(), "links.jsonl")
	if out := mustCLI(t, admin, "link", "export", "--format", "json", "-o", file); !strings.Contains(out, "wrote "+file) {
		t.Fatalf("export -o: %s", out)
	}
	if b, _ := os.ReadFile(file); !strings.Contains(string(b), `"code":"exp-one"`) || strings.Count(string(b), "\n") != 1 {
		t.Fatalf("json lines file: %s", b)
	}
	if out := mustCLI(t, admin, "link", "export", "--analytics", "--code", "exp-one"); !strings.HasPrefix(out, "code,date,dimension,value,clicks") {
		t.Fatalf("analytics export: %s", out)
	}
	if out, code := cli(t, admin, "link", "export", "--format", "xml"); code == 0 || !strings.Contains(out, "422") {
		t.Fatalf("bad format: exit %d: %s", code, out)
	}
}
