package httpd_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/httpd/ops"
)

// TestExportLinks: CSV (header row, every field) and JSON lines carry the
// same links as the API shows, deleted ones left out; bad formats are 422.
func TestExportLinks(t *testing.T) {
	n := httpdtest.Start(t, "")
	a := mustCreate(t, n, `{"url":"https://e.test/a?x=1,2","title":"Comma, \"quote\"","tags":["one","two"],"expiresAt":"2099-01-02T03:04:05Z","redirectStatus":301}`)
	b := mustCreate(t, n, `{"url":"https://e.test/b","alias":"bee-link"}`)
	gone := mustCreate(t, n, `{"url":"https://e.test/gone"}`)
	if r := n.Do("DELETE", "/api/v1/links/"+gone.Code, nil); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	want := map[string]map[string]any{}
	for _, l := range []link{a, b} {
		var m map[string]any
		json.Unmarshal(n.Do("GET", "/api/v1/links/"+l.Code, nil).Body, &m)
		want[l.Code] = m
	}

	r := n.Do("GET", "/api/v1/links/export?format=json", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("json export: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	got := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		w, ok := want[m["code"].(string)]
		if !ok {
			t.Fatalf("unexpected link %v", m)
		}
		mj, _ := json.Marshal(m)
		wj, _ := json.Marshal(w)
		if !bytes.Equal(mj, wj) {
			t.Errorf("export %s\n   api %s", mj, wj)
		}
		got++
	}
	if got != 2 {
		t.Fatalf("%d links exported, want 2", got)
	}

	r = n.Do("GET", "/api/v1/links/export?format=csv", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv export: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("csv: %v, %d rows", err, len(rows))
	}
	if strings.Join(rows[0], ",") != strings.Join(ops.LinkExportColumns, ",") {
		t.Fatalf("header %v", rows[0])
	}
	for _, row := range rows[1:] {
		w := want[row[0]]
		exp, _ := w["expiresAt"].(string)
		tags := []string{}
		for _, t := range w["tags"].([]any) {
			tags = append(tags, t.(string))
		}
		if row[2] != w["url"] || row[3] != w["title"] || row[4] != strings.Join(tags, ",") || row[5] != w["createdAt"] ||
			row[7] != exp || row[9] != w["status"] {
			t.Errorf("csv row %q, api %v", row, w)
		}
	}
	mustProblem(t, n.Do("GET", "/api/v1/links/export?format=xml", nil), 422, "format")
	mustProblem(t, n.Do("GET", "/api/v1/links/export", nil, "Authorization", ""), 401, "")
}

// TestExportAnalytics: daily counts and dimensions per link as CSV.
func TestExportAnalytics(t *testing.T) {
	n := httpdtest.Start(t, "")
	l := mustCreate(t, n, `{"url":"https://e.test/a"}`)
	for _, ref := range []string{"https://www.google.com/", "https://t.co/x"} {
		n.Do("GET", "/"+l.Code, nil, "Authorization", "", "User-Agent", firefox, "Referer", ref, "X-Forwarded-For", "1.1.1.1", "CF-IPCountry", "DE")
	}
	deadline := time.Now().Add(20 * httpdtest.AnalyticsLag)
	var rows [][]string
	for time.Now().Before(deadline) {
		r := n.Do("GET", "/api/v1/analytics/export?code="+l.Code, nil)
		if r.Status != 200 {
			t.Fatalf("export: %d %s", r.Status, r.Body)
		}
		rows, _ = csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
		if len(rows) > 1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	got := map[string]string{}
	for _, row := range rows[1:] {
		if row[0] != l.Code || row[1] != today {
			t.Fatalf("row %v", row)
		}
		got[row[2]+"/"+row[3]] = row[4]
	}
	for k, v := range map[string]string{"humans/": "2", "referrer/google.com": "1", "referrer/t.co": "1", "country/DE": "2"} {
		if got[k] != v {
			t.Errorf("%s = %q, want %s (all: %v)", k, got[k], v, got)
		}
	}
	// All links: same rows.
	all := n.Do("GET", "/api/v1/analytics/export", nil)
	if rs, _ := csv.NewReader(bytes.NewReader(all.Body)).ReadAll(); len(rs) != len(rows) {
		t.Errorf("all links: %d rows, one link: %d", len(rs), len(rows))
	}
	mustProblem(t, n.Do("GET", "/api/v1/analytics/export?from=yesterday", nil), 422, "from")
	mustProblem(t, n.Do("GET", "/api/v1/analytics/export?code=nosuch1", nil), 404, "")
}

// TestConsoleExport: the console's export page and its downloads.
func TestConsoleExport(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, token := n.User(t, "ann@example.com", "correct horse battery")
	mustCreate(t, n, `{"url":"https://e.test/ann","alias":"anns-link"}`, httpdtest.As(token)...)
	mustCreate(t, n, `{"url":"https://e.test/admin","alias":"admins-link"}`)
	if r := c.Get("/app/transfer"); r.Status != 200 || !bytes.Contains(r.Body, []byte(`href="/app/transfer/links.csv"`)) {
		t.Fatalf("transfer page: %d", r.Status)
	}
	r := c.Get("/app/transfer/links.csv")
	if r.Status != 200 || !bytes.Contains(r.Body, []byte("anns-link,")) || bytes.Contains(r.Body, []byte("admins-link")) {
		t.Fatalf("links.csv: %d %s", r.Status, r.Body)
	}
	if r := c.Get("/app/transfer/links.jsonl"); r.Status != 200 || !bytes.Contains(r.Body, []byte(`"code":"anns-link"`)) {
		t.Fatalf("links.jsonl: %d %s", r.Status, r.Body)
	}
	if r := c.Get("/app/transfer/analytics.csv"); r.Status != 200 || !bytes.HasPrefix(r.Body, []byte("code,date,dimension,value,clicks\n")) {
		t.Fatalf("analytics.csv: %d %s", r.Status, r.Body)
	}
	if r := n.NewConsole(t).Get("/app/transfer/links.csv"); r.Status == 200 {
		t.Fatalf("logged out: %d", r.Status)
	}
}

// TestConsoleImport: the upload form imports a file and shows the report.
func TestConsoleImport(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, _ := n.User(t, "ann@example.com", "correct horse battery")
	c.Get("/app/transfer")
	body, err := os.ReadFile(filepath.Join("..", "testdata", "import", "kutt.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := c.PostMultipart("/app/transfer/import", url.Values{"from": {"kutt"}, "collisions": {"skip"}}, map[string][]byte{"file": body})
	if r.Status != 200 || !bytes.Contains(r.Body, []byte("Imported 2 rows")) || !bytes.Contains(r.Body, []byte(`href="/app/links/kutt-one"`)) ||
		!bytes.Contains(r.Body, []byte("created: 2")) {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	c.Get("/app/transfer")
	r = c.PostMultipart("/app/transfer/import", url.Values{"from": {"kutt"}, "collisions": {"skip"}}, map[string][]byte{"file": body})
	if !bytes.Contains(r.Body, []byte("unchanged: 2")) {
		t.Fatalf("rerun: %s", r.Body)
	}
	c.Get("/app/transfer")
	if r := c.PostMultipart("/app/transfer/import", url.Values{"from": {"nothing"}}, map[string][]byte{"file": body}); r.Status != 422 {
		t.Fatalf("bad source: %d", r.Status)
	}
}

// The console's import streams its progress while it runs: a line per
// batch of 1,000 rows (rows done of the total; created, skipped, failed)
// arrives before the import ends, then the report.
func TestConsoleImportProgress(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, _ := n.User(t, "bulk@example.com", "correct horse battery")
	var csv strings.Builder
	csv.WriteString("code,url,title\n")
	for i := range 2500 {
		switch {
		case i == 7:
			fmt.Fprintf(&csv, "bad-%04d,javascript:alert(1),x\n", i) // fails
		default:
			fmt.Fprintf(&csv, "imp-%04d,https://example.com/%d,Row %d\n", i, i, i)
		}
	}
	mustCreate(t, n, `{"url":"https://someone.else/","alias":"imp-0009"}`) // skipped: taken
	c.Get("/app/transfer")
	type piece struct {
		at   time.Time
		text string
	}
	var pieces []piece
	c.OnRead = func(b []byte) { pieces = append(pieces, piece{time.Now(), string(b)}) }
	r := c.PostMultipart("/app/transfer/import", url.Values{"from": {"csv"}, "collisions": {"skip"}}, map[string][]byte{"file": []byte(csv.String())})
	c.OnRead = nil
	body := string(r.Body)
	lines := []string{"1000 of 2500 rows: 998 created, 0 unchanged, 0 renamed, 1 skipped, 1 failed",
		"2000 of 2500 rows: 1998 created, 0 unchanged, 0 renamed, 1 skipped, 1 failed",
		"2500 of 2500 rows: 2498 created, 0 unchanged, 0 renamed, 1 skipped, 1 failed", "Imported 2500 rows"}
	at := -1
	for _, l := range lines {
		i := strings.Index(body, l)
		if i < at {
			t.Fatalf("%q missing or out of order in:\n%.3000s", l, body)
		}
		at = i
	}
	first, last := -1, -1
	for i, p := range pieces {
		if first < 0 && strings.Contains(p.text, "1000 of 2500") {
			first = i
		}
		if strings.Contains(p.text, "Imported 2500 rows") {
			last = i
		}
	}
	if first < 0 || last <= first {
		t.Fatalf("progress arrived with the report, not before it (%d pieces; first progress in %d, report in %d)", len(pieces), first, last)
	}
	t.Logf("first progress line %v before the report (%d pieces)", pieces[last].at.Sub(pieces[first].at), len(pieces))
}
