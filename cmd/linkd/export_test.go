package main

import (
	"encoding/csv"
	"net/http"
	"net/http/httptest"
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

// TestCLIImport: linkd import reads a source file, shows progress, prints
// the per-row report; a rerun changes nothing; linkd link export from one
// node imports into a fresh node as the same links.
func TestCLIImport(t *testing.T) {
	p := mustStart(t, t.TempDir())
	admin := []string{"LINKD_SERVER=" + p.URL, "LINKD_TOKEN=" + testToken}
	fixture := filepath.Join("..", "..", "testdata", "import", "bitly.csv")
	out := mustCLI(t, admin, "import", "--from", "bitly", "--collisions", "rename", fixture)
	for _, want := range []string{"imported 4 rows", "row 1: created 3xYzAbC", "row 3: renamed", "was ab", "row 4: failed",
		"4 rows: 2 created, 0 unchanged, 1 renamed, 0 skipped, 1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	if out := mustCLI(t, admin, "import", "--from", "bitly", "--collisions", "rename", "--quiet", fixture); !strings.Contains(out, "4 rows: 0 created, 3 unchanged, 0 renamed, 0 skipped, 1 failed") {
		t.Errorf("rerun:\n%s", out)
	}
	// The rows went as linkd JSON lines, yet their click totals are Bitly's.
	if export := mustCLI(t, admin, "link", "export"); !strings.Contains(export, ",0,1520,bitly,") {
		t.Errorf("the imported clicks are not labelled as Bitly's:\n%s", export)
	}
	file := filepath.Join(t.TempDir(), "links.jsonl")
	mustCLI(t, admin, "link", "export", "--format", "json", "-o", file)
	q := mustStart(t, t.TempDir())
	fresh := []string{"LINKD_SERVER=" + q.URL, "LINKD_TOKEN=" + testToken}
	if out := mustCLI(t, fresh, "import", "--from", "linkd", "--quiet", file); !strings.Contains(out, "3 rows: 3 created") {
		t.Fatalf("import of the export:\n%s", out)
	}
	strip := func(export string) []string {
		rows, err := csv.NewReader(strings.NewReader(export)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, r := range rows { // without shortUrl (each node's own), updatedAt, clicks and importedFrom
			lines = append(lines, strings.Join(append(append([]string{r[0]}, r[2:6]...), append(r[7:11], r[12])...), "|"))
		}
		return lines
	}
	a, b := strip(mustCLI(t, admin, "link", "export")), strip(mustCLI(t, fresh, "link", "export"))
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("round trip:\n%s\nvs\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

// TestCLIImportShlinkAPI: linkd import pages through a Shlink server's
// REST API (a local server answering pages in Shlink's documented shape,
// refusing a wrong API key).
func TestCLIImportShlinkAPI(t *testing.T) {
	pages := map[string]string{"1": "shlink-api-page1.json", "2": "shlink-api-page2.json"}
	shlink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rest/v3/short-urls" || r.Header.Get("X-Api-Key") != "secret-key" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(401)
			w.Write([]byte(`{"type":"https://shlink.io/api/error/invalid-api-key","title":"Invalid API key","status":401}`))
			return
		}
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "import", pages[r.URL.Query().Get("page")]))
		if err != nil {
			w.WriteHeader(404)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	defer shlink.Close()
	p := mustStart(t, t.TempDir())
	admin := []string{"LINKD_SERVER=" + p.URL, "LINKD_TOKEN=" + testToken}
	out := mustCLI(t, admin, "import", "--from", "shlink", "--shlink-api", shlink.URL, "--api-key", "secret-key")
	for _, want := range []string{"row 1: created api-one", "row 2: created api-two", "row 3: created api-three", "3 rows: 3 created"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if out := mustCLI(t, admin, "link", "get", "api-two"); !strings.Contains(out, `"expiresAt": "2099-12-31T00:00:00Z"`) {
		t.Errorf("api-two: %s", out)
	}
	if out, code := cli(t, admin, "import", "--from", "shlink", "--shlink-api", shlink.URL, "--api-key", "wrong"); code == 0 || !strings.Contains(out, "401") {
		t.Errorf("wrong key: exit %d: %s", code, out)
	}
}
