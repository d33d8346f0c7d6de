package httpd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/store"
)

type importReport struct {
	Rows []struct {
		Row          int
		Status       string
		Code         string
		From         string
		SourceClicks *uint64
		Problem      *problem
	}
	Counts map[string]int
	Error  *problem
}

func mustImport(t *testing.T, n *httpdtest.Node, query string, body []byte) importReport {
	t.Helper()
	return mustJSON[importReport](t, n.Do("POST", "/api/v1/imports?"+query, body, "Content-Type", "application/octet-stream"), 200)
}

// summary is a report as "row:status:code[:problem slug]" lines.
func summary(r importReport) string {
	var s []string
	for _, row := range r.Rows {
		line := fmt.Sprintf("%d:%s:%s", row.Row, row.Status, row.Code)
		if row.Problem != nil {
			line += ":" + strings.TrimPrefix(row.Problem.Type, "/_/problems/")
		}
		s = append(s, line)
	}
	return strings.Join(s, " ")
}

// TestImportFixtures imports each source's fixture (testdata/import,
// written from the source's documented export format) and checks the
// per-row report, the links, and that a rerun changes nothing.
func TestImportFixtures(t *testing.T) {
	n := httpdtest.Start(t, "")
	mustCreate(t, n, `{"url":"https://someone.else/","alias":"ozh"}`) // a collision for YOURLS
	minted := "[A-Za-z0-9]{7}"
	for _, c := range []struct {
		file, query, want string
		clicks            []uint64
	}{
		{"bitly.csv", "from=bitly&collisions=rename", "1:created:3xYzAbC 2:created:4aBcDeF 3:renamed:" + minted + " 4:failed::validation", []uint64{1520, 33, 0, 1}},
		{"yourls.sql", "from=yourls&collisions=skip", "1:skipped::alias-taken 2:created:yourls-home 3:created:quote", []uint64{12, 7, 0}},
		{"yourls.csv", "from=yourls&collisions=rename", "1:renamed:" + minted + " 2:unchanged:yourls-home", []uint64{12, 7}},
		{"yourls-api.json", "from=yourls&collisions=fail", "1:failed::alias-taken 2:unchanged:yourls-home", nil},
		{"shlink.csv", "from=shlink", "1:created:docs-v3 2:created:Ab3dE", []uint64{250, 4}},
		{"kutt.json", "from=kutt", "1:created:kutt-one 2:created:kutt-two", []uint64{99, 0}},
		{"generic.csv", "from=csv&map=" + url.QueryEscape("code:Slug,url:Destination,title:Label,tags:Keywords"), "1:created:gen-one 2:created:" + minted, nil},
	} {
		body, err := os.ReadFile(filepath.Join("..", "testdata", "import", c.file))
		if err != nil {
			t.Fatal(err)
		}
		r := mustImport(t, n, c.query, body)
		if got := summary(r); !matches(c.want, got) {
			t.Errorf("%s: report\n got %s\nwant %s", c.file, got, c.want)
		}
		for i, want := range c.clicks {
			if i < len(r.Rows) && (r.Rows[i].SourceClicks == nil || *r.Rows[i].SourceClicks != want) {
				t.Errorf("%s row %d: sourceClicks %v, want %d", c.file, i+1, r.Rows[i].SourceClicks, want)
			}
		}
		// Rerun: nothing changes; done rows are unchanged, under the same codes.
		again := mustImport(t, n, c.query, body)
		for i, row := range again.Rows {
			first := r.Rows[i]
			if first.Status == "failed" || first.Status == "skipped" {
				if row.Status != first.Status {
					t.Errorf("%s rerun row %d: %s, first %s", c.file, i+1, row.Status, first.Status)
				}
				continue
			}
			if row.Status != "unchanged" || row.Code != first.Code {
				t.Errorf("%s rerun row %d: %s %s, first %s %s", c.file, i+1, row.Status, row.Code, first.Status, first.Code)
			}
		}
	}
	l := mustJSON[link](t, n.Do("GET", "/api/v1/links/3xYzAbC", nil), 200)
	if l.URL != "https://shop.example.com/sale?utm_source=bitly" || l.Title != "Spring sale" || strings.Join(l.Tags, ",") != "promo,spring" ||
		l.CreatedAt != "2023-03-01T10:15:00Z" {
		t.Errorf("bitly link: %+v", l)
	}
	if l := mustJSON[link](t, n.Do("GET", "/api/v1/links/quote", nil), 200); l.URL != "https://example.org/it's" || l.Title != "It's quoted" {
		t.Errorf("SQL escapes: %+v", l)
	}
	if l := mustJSON[link](t, n.Do("GET", "/api/v1/links/kutt-two", nil), 200); l.ExpiresAt == nil || *l.ExpiresAt != "2099-01-01T00:00:00Z" {
		t.Errorf("kutt expiry: %+v", l)
	}
	// A file that breaks off: the rows before the break are imported, and
	// the report says where it stopped.
	cut := mustImport(t, n, "from=kutt", []byte(`{"data":[{"address":"cut-one","target":"https://e.test/cut1"},{"address":"cut-two","target":"https://e.test/cut2"},{"addr`))
	if got := summary(cut); got != "1:created:cut-one 2:created:cut-two" || cut.Error == nil || !hasField(*cut.Error, "file") {
		t.Errorf("a broken file: %s, error %+v", got, cut.Error)
	}
	mustProblem(t, n.Do("POST", "/api/v1/imports?from=nothing", []byte("x")), 422, "from")
	mustProblem(t, n.Do("POST", "/api/v1/imports?from=csv&collisions=maybe", []byte("x")), 422, "collisions")
	mustProblem(t, n.Do("POST", "/api/v1/imports?from=linkd&origin=elsewhere", []byte("x")), 422, "origin")
	mustProblem(t, n.Do("POST", "/api/v1/imports?from=csv", []byte("a,b\n1,2\n")), 422, "file")
}

// matches compares a report with a want line where [..]{7} stands for any
// minted code.
func matches(want, got string) bool {
	w, g := strings.Fields(want), strings.Fields(got)
	if len(w) != len(g) {
		return false
	}
	for i := range w {
		if p, ok := strings.CutSuffix(w[i], "[A-Za-z0-9]{7}"); ok {
			if !strings.HasPrefix(g[i], p) || len(g[i]) != len(p)+7 {
				return false
			}
		} else if w[i] != g[i] {
			return false
		}
	}
	return true
}

// TestExportImportRoundTrip: links exported from one node (JSON lines and
// CSV) and imported into a fresh node are the same links, with their
// options. A password-protected link is not imported (no export holds
// its password), so that it does not become public: its row fails.
func TestExportImportRoundTrip(t *testing.T) {
	a := httpdtest.Start(t, "")
	mustCreate(t, a, `{"url":"https://e.test/a?x=1,2","title":"Comma, \"quote\"","tags":["one","two"],"expiresAt":"2099-01-02T03:04:05Z","redirectStatus":301}`)
	mustCreate(t, a, `{"url":"https://e.test/b","alias":"bee-link","redirectStatus":308}`)
	for i := 0; i < 5; i++ {
		mustCreate(t, a, fmt.Sprintf(`{"url":"https://e.test/%d","tags":["t%d"]}`, i, i))
	}
	mustCreate(t, a, `{"url":"https://e.test/opts","alias":"with-options","startsAt":"2098-01-01T00:00:00Z","fallbackUrl":"https://e.test/soon",
		"maxVisits":5,"forwardQuery":false,"forwardPath":true,"queryPrecedence":"visitor",
		"rules":[{"if":{"os":["iOS"],"language":["DE"]},"url":"https://apps.apple.com/de/app/x?a=1&b=<2>"}],
		"variants":[{"url":"https://e.test/A","weight":30},{"url":"https://e.test/B","weight":70}]}`)
	domain := []byte(`{"host":"links.example","kind":"links"}`)
	mustJSON[map[string]any](t, a.Do("POST", "/api/v1/domains", domain), 201)
	mustCreate(t, a, `{"url":"https://e.test/on-domain","alias":"bee-link","domain":"links.example"}`) // the same code on another domain
	want := exportedLinks(t, a)
	mustCreate(t, a, `{"url":"https://e.test/secret","alias":"locked","password":"open sesame"}`)
	for _, f := range []struct{ format, from string }{{"json", "linkd"}, {"csv", "csv"}} {
		b := httpdtest.Start(t, "")
		mustJSON[map[string]any](t, b.Do("POST", "/api/v1/domains", domain), 201)
		file := a.Do("GET", "/api/v1/links/export?format="+f.format, nil)
		r := mustImport(t, b, "from="+f.from, file.Body)
		if r.Counts["created"] != len(want) || r.Counts["failed"] != 1 {
			t.Fatalf("%s: %v", f.format, r.Counts)
		}
		for _, row := range r.Rows {
			if row.Status == "failed" && (row.Problem == nil || !hasField(*row.Problem, "password")) {
				t.Errorf("%s: the protected link's row: %+v", f.format, row.Problem)
			}
		}
		if got := exportedLinks(t, b); !reflect.DeepEqual(got, want) {
			t.Errorf("%s round trip:\n got %v\nwant %v", f.format, got, want)
		}
	}
}

// exportedLinks are a node's links by domain and code, without what a node decides
// itself (update time, clicks).
func exportedLinks(t *testing.T, n *httpdtest.Node) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, line := range bytes.Split(bytes.TrimSpace(n.Do("GET", "/api/v1/links/export?format=json", nil).Body), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "updatedAt")
		delete(m, "clicks")
		out[m["domain"].(string)+"/"+m["code"].(string)] = m
	}
	return out
}

// Source click totals are kept per link, apart from linkd's own counts, and
// labelled with their source in the link JSON, the export and the console;
// a rerun leaves them as they were, and a zero total records nothing.
func TestImportedClicksKeptApart(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, tok := n.User(t, "mover@example.com", pw)
	body, err := os.ReadFile(filepath.Join("..", "testdata", "import", "bitly.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		mustJSON[importReport](t, n.Do("POST", "/api/v1/imports?from=bitly&collisions=rename", body,
			append(httpdtest.As(tok), "Content-Type", "text/csv")...), 200)
	}
	type imported struct {
		Clicks                    uint64
		Source, Label, ImportedAt string
	}
	var l struct {
		Clicks         uint64
		ImportedClicks *imported
	}
	json.Unmarshal(n.Do("GET", "/api/v1/links/3xYzAbC", nil, httpdtest.As(tok)...).Body, &l)
	if l.Clicks != 0 || l.ImportedClicks == nil || l.ImportedClicks.Clicks != 1520 || l.ImportedClicks.Source != "bitly" ||
		l.ImportedClicks.Label != "imported clicks (from Bitly)" || l.ImportedClicks.ImportedAt == "" {
		t.Fatalf("link JSON: clicks %d, imported %+v", l.Clicks, l.ImportedClicks)
	}
	export := string(n.Do("GET", "/api/v1/links/export?format=csv", nil, httpdtest.As(tok)...).Body)
	if !strings.Contains(strings.SplitN(export, "\n", 2)[0], ",clicks,importedClicks,importedFrom,") ||
		!strings.Contains(export, "3xYzAbC,") || !strings.Contains(export, ",0,1520,bitly,sho.rt,") {
		t.Fatalf("export:\n%s", export)
	}
	jsonl := n.Do("GET", "/api/v1/links/export?format=json", nil, httpdtest.As(tok)...).Body
	if !strings.Contains(string(jsonl), `"importedClicks":{"clicks":1520,"source":"bitly","label":"imported clicks (from Bitly)"`) {
		t.Fatal("JSON export lacks the imported total")
	}
	page := string(c.Get("/app/links/3xYzAbC/analytics").Body)
	if !strings.Contains(page, `<div class="stat" id="imported-clicks"><b>1520</b><span>imported clicks (from Bitly)`) {
		t.Fatal("the analytics page does not show the imported total")
	}
	// Row 3 (0 clicks at Bitly, renamed): no record.
	var list struct {
		Items []struct {
			Code           string
			ImportedClicks *imported
		}
	}
	json.Unmarshal(n.Do("GET", "/api/v1/links?limit=100", nil, httpdtest.As(tok)...).Body, &list)
	with := 0
	for _, x := range list.Items {
		if x.ImportedClicks != nil {
			with++
		}
	}
	if with != 2 { // 1520 and 33; row 3 had 0, row 4 failed
		t.Fatalf("%d links carry an imported total, want 2: %+v", with, list.Items)
	}
	// A linkd export imported into a fresh node keeps the history: its
	// clicks (0 here) plus what it had imported.
	m := httpdtest.Start(t, "")
	mustImport(t, m, "from=linkd", jsonl)
	json.Unmarshal(m.Do("GET", "/api/v1/links/3xYzAbC", nil).Body, &l)
	if l.ImportedClicks == nil || l.ImportedClicks.Clicks != 1520 || l.ImportedClicks.Label != "imported clicks (from linkd)" {
		t.Fatalf("after a linkd to linkd move: %+v", l.ImportedClicks)
	}
}

// Rows that cannot keep the source's code (renamed, or code-less) keep
// their creation time, and a rerun long after the first run — past the
// 24 h any idempotency record lives, and with rows added above them —
// still finds them unchanged under the same codes instead of creating
// them again.
func TestImportRerunBeyondIdempotencyWindow(t *testing.T) {
	n := httpdtest.Start(t, "")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "import", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bitly, generic := read("bitly.csv"), read("generic.csv")
	genericQuery := "from=csv&map=" + url.QueryEscape("code:Slug,url:Destination,title:Label,tags:Keywords")
	b1 := mustImport(t, n, "from=bitly&collisions=rename", bitly)
	g1 := mustImport(t, n, genericQuery, generic)
	renamed, codeless := b1.Rows[2], g1.Rows[1]
	if renamed.Status != "renamed" || codeless.Status != "created" {
		t.Fatalf("first run: %s / %s", summary(b1), summary(g1))
	}
	if l := mustJSON[link](t, n.Do("GET", "/api/v1/links/"+renamed.Code, nil), 200); l.CreatedAt != "2023-05-01T00:00:00Z" {
		t.Errorf("the renamed row's link was created at %s, want the source's 2023-05-01T00:00:00Z", l.CreatedAt)
	}
	count := func() int {
		return bytes.Count(n.Do("GET", "/api/v1/links/export?format=json", nil).Body, []byte("\n"))
	}
	links := count()

	// A day and an hour later, a create with an Idempotency-Key prunes
	// every record that has expired by then.
	later := time.Now().Add(store.IdemTTL + time.Hour).UnixMilli()
	if _, err := n.Node.Propose(context.Background(), &fsm.CreateLink{Now: later, Code: "a-day-later", Custom: true,
		URL: "https://e.test/later", Owner: fsm.AdminUser, RedirectStatus: 302, IdemKey: "later", BodyHash: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	b2 := mustImport(t, n, "from=bitly&collisions=rename", bitly)
	edited := append([]byte("Slug,Destination,Label,Keywords\n,https://example.net/new,A new row above,\n"),
		bytes.SplitN(generic, []byte("\n"), 2)[1]...)
	g2 := mustImport(t, n, genericQuery, edited)
	if r := b2.Rows[2]; r.Status != "unchanged" || r.Code != renamed.Code {
		t.Errorf("rerun of the renamed row: %s %s, first renamed %s", r.Status, r.Code, renamed.Code)
	}
	if r := g2.Rows[2]; r.Status != "unchanged" || r.Code != codeless.Code {
		t.Errorf("rerun of the code-less row: %s %s, first created %s", r.Status, r.Code, codeless.Code)
	}
	if got := count(); got != links+2 { // the create a day later and the new row
		t.Errorf("%d links after the reruns, want %d", got, links+2)
	}
}
