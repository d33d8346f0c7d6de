package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Shlink's REST API pages carry the click total in visitsSummary.total and
// the expiry in meta.validUntil.
func TestShlinkAPIPage(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "import", "shlink-api-page1.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []Row
	if err := Read("shlink-api", f, nil, func(r Row) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Code != "api-one" || rows[0].Clicks == nil || *rows[0].Clicks != 41 ||
		len(rows[0].Tags) != 2 || rows[1].ExpiresAt.Year() != 2099 || rows[1].Title != "" {
		t.Fatalf("rows: %+v", rows)
	}
}

// SQL values: quotes, escapes, NULL, several tuples per INSERT.
func TestSQLTuples(t *testing.T) {
	got, err := sqlTuples(`('a','it\'s, ok',NULL,3),('b','x''y','',4);`)
	if err != nil || len(got) != 2 || got[0][1] != "it's, ok" || got[0][2] != "" || got[1][1] != "x'y" || got[1][3] != "4" {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := sqlTuples(`('a','unterminated`); err == nil {
		t.Fatal("an unterminated tuple was accepted")
	}
}

// brokenReader serves its text, then fails: a file that broke off.
type brokenReader struct{ text string }

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.text == "" {
		return 0, errors.New("connection reset")
	}
	n := copy(p, b.text)
	b.text = b.text[n:]
	return n, nil
}

// JSON lists are streamed: each link reaches fn as soon as it is read, so
// a large Kutt or YOURLS file is never decoded whole, and the rows before
// a break in the file are imported (a rerun resumes from there).
func TestJSONStreams(t *testing.T) {
	for _, c := range []struct{ source, head, want string }{
		{"kutt", `{"limit":10,"data":[{"address":"k1","target":"https://e.test/1"},{"address":"k2","target":"https://e.test/2"},`, "k1 k2"},
		{"yourls", `{"links":{"link_1":{"shorturl":"https://sho.rt/y1","url":"https://e.test/1"},"link_2":{"shorturl":"https://sho.rt/y2","url":"https://e.test/2"},`, "y1 y2"},
		{"shlink-api", `{"shortUrls":{"data":[{"shortCode":"s1","longUrl":"https://e.test/1"},{"shortCode":"s2","longUrl":"https://e.test/2"},`, "s1 s2"},
	} {
		var got []string
		err := Read(c.source, &brokenReader{c.head + strings.Repeat(" ", 8192)}, nil, func(r Row) error {
			if r.URL != "https://e.test/"+r.Code[1:] {
				t.Errorf("%s: row %+v", c.source, r)
			}
			got = append(got, r.Code)
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Errorf("%s: error %v, want the reader's", c.source, err)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: rows before the break %q, want %s", c.source, got, c.want)
		}
	}
}

// A linkd JSON line carries both "clicks" and "visits" (the visits
// counted toward maxVisits): the click total is always "clicks", never
// whichever key a map happened to yield first.
func TestJSONFieldOrder(t *testing.T) {
	line := `{"code":"x1","url":"https://e.test/","clicks":5,"visits":0,"passwordProtected":false,"maxVisits":9,"rules":[{"url":"https://e.test/r"}]}` + "\n"
	n := 0
	err := Read("linkd", strings.NewReader(strings.Repeat(line, 64)), nil, func(r Row) error {
		n++
		if r.Clicks == nil || *r.Clicks != 5 || r.Protected || string(r.Options["maxVisits"]) != "9" ||
			string(r.Options["rules"]) != `[{"url":"https://e.test/r"}]` {
			t.Fatalf("row %d: clicks %v, protected %v, options %s", r.N, r.Clicks, r.Protected, r.Options)
		}
		return nil
	})
	if err != nil || n != 64 {
		t.Fatal(n, err)
	}
}

// A row sent as linkd JSON (as linkd import sends what it read) reads
// back as the same row: options, domain, password protection and the
// whole click history included.
func TestLinkdJSONRoundTrip(t *testing.T) {
	clicks, imported, custom := uint64(5), uint64(7), false
	want := Row{N: 1, Code: "abc1234", URL: "https://e.test/?a=1&b=<2>", Title: "T", Tags: []string{"x", "y"},
		CreatedAt: time.Date(2023, 1, 2, 3, 4, 5, 6e6, time.UTC), ExpiresAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
		Clicks: &clicks, Imported: &imported, RedirectStatus: 301, Custom: &custom, Domain: "links.example", Protected: true,
		Options: map[string]json.RawMessage{"startsAt": json.RawMessage(`"2098-01-01T00:00:00Z"`), "maxVisits": json.RawMessage(`9`),
			"forwardQuery": json.RawMessage(`false`), "rules": json.RawMessage(`[{"if":{"os":["iOS"]},"url":"https://e.test/r"}]`)}}
	line, err := json.Marshal(want.LinkdJSON())
	if err != nil {
		t.Fatal(err)
	}
	var got []Row
	if err := Read("linkd", bytes.NewReader(line), nil, func(r Row) error { got = append(got, r); return nil }); err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	sum := clicks + imported
	want.Clicks, want.Imported = &sum, nil // sent as one total
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got[0], want)
	}
}
