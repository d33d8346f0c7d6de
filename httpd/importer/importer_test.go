package importer

import (
	"os"
	"path/filepath"
	"testing"
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
