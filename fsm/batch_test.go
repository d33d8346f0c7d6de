package fsm

import (
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/store"
)

// batchSamples are the golden samples of the batch commands (types 70-72);
// TestGoldenCommands pins them with the others. They have no legacy
// (47bad8b) bytes: that release had no batches.
func batchSamples() map[string]Command {
	title := "T"
	return map[string]Command{
		"70-create-links": &CreateLinks{Items: []CreateLink{
			{Now: 1700000000100, Code: "abc1234", Custom: true, URL: "https://example.com/1", Owner: 7, ExpiresAt: 1700000999000,
				RedirectStatus: 301, Title: "One", Tags: []string{"a"}, IdemKey: "k#0", BodyHash: []byte{1}},
			{Now: 1700000000100, Code: "abc1235", URL: "https://example.com/2", Owner: 7, RedirectStatus: 302}}},
		"71-update-links": &UpdateLinks{Items: []UpdateLink{{Now: 1700000000101, Code: "abc1234", Actor: 7, Title: &title}}},
		"72-delete-links": &DeleteLinks{Items: []DeleteLink{{Now: 1700000000102, Code: "abc1234", Actor: 7},
			{Now: 1700000000102, Code: "abc1235", Actor: 7, Admin: true}}},
		"73-set-imported-clicks": &SetImportedClicks{Now: 1700000000103, Owner: 7, Source: "bitly",
			Items: []ImportedClickTotal{{Code: "abc1234", Clicks: 12345}, {Code: "abc1235", Clicks: 0}}},
	}
}

// A batch is one entry with per-item outcomes: items see earlier items'
// writes (a repeated alias fails the second time), a failed item leaves
// no trace, and the results travel to a forwarding follower intact.
func TestBatchPerItem(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "d")
	defer st.Close()
	res := f.ApplyBatch(logsFor(t, 1,
		&CreateLinks{Items: []CreateLink{*create("aaa", "https://e.test/1", 5), *create("bbb", "https://e.test/2", 5),
			*create("aaa", "https://e.test/3", 6)}},
		&UpdateLinks{Items: []UpdateLink{{Now: 7, Code: "aaa", Actor: 1, URL: ptr("https://e.test/new")}, {Now: 7, Code: "zzz", Actor: 1}}},
		&DeleteLinks{Items: []DeleteLink{{Now: 8, Code: "bbb", Actor: 1}, {Now: 8, Code: "bbb", Actor: 1}, {Now: 8, Code: "aaa", Actor: 2}}},
	))
	c := res[0].(*Result)
	if len(c.Items) != 3 || c.Items[0].Link == nil || c.Items[1].Link == nil || !errors.Is(c.Items[2].Err, ErrExists) {
		t.Fatalf("create items: %+v", c.Items)
	}
	u := res[1].(*Result)
	if len(u.Items) != 2 || u.Items[0].Link.URL != "https://e.test/new" || !errors.Is(u.Items[1].Err, ErrNotFound) {
		t.Fatalf("update items: %+v", u.Items)
	}
	d := res[2].(*Result)
	if len(d.Items) != 3 || d.Items[0].Err != nil || d.Items[1].Err != nil || !errors.Is(d.Items[2].Err, ErrNotFound) {
		t.Fatalf("delete items: %+v %+v %+v", d.Items[0], d.Items[1], d.Items[2])
	}
	if l, _ := st.Link("aaa"); l.URL != "https://e.test/new" || l.Status != store.StatusActive {
		t.Fatalf("aaa: %+v", l)
	}
	if l, _ := st.Link("bbb"); l.Status != store.StatusDeleted {
		t.Fatalf("bbb: %+v", l)
	}
	b, err := EncodeResult(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeResult(b)
	if err != nil || len(back.Items) != 3 || back.Items[0].Link.Code != "aaa" || !errors.Is(back.Items[2].Err, ErrExists) {
		t.Fatalf("result round trip: %+v %v", back, err)
	}
	if !Idempotent(&CreateLinks{}) || !Idempotent(&DeleteLinks{}) || Idempotent(&UpdateLinks{}) || !Idempotent(&SetImportedClicks{}) {
		t.Fatal("batch idempotence must follow its items'")
	}
}

// Imported click totals go to their own table, only for the importer's
// live links, and a rerun replaces them; linkd's own counts stay apart.
func TestSetImportedClicks(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "d")
	defer st.Close()
	other := create("ccc", "https://e.test/3", 6)
	other.Owner = 2
	res := f.ApplyBatch(logsFor(t, 1,
		&CreateLinks{Items: []CreateLink{*create("aaa", "https://e.test/1", 5), *create("bbb", "https://e.test/2", 5), *other}},
		&DeleteLinks{Items: []DeleteLink{{Now: 8, Code: "bbb", Actor: 1}}},
		&SetImportedClicks{Now: 9, Owner: 1, Source: "bitly", Items: []ImportedClickTotal{
			{Code: "aaa", Clicks: 10}, {Code: "bbb", Clicks: 20}, {Code: "ccc", Clicks: 30}, {Code: "zzz", Clicks: 40}}},
		&SetImportedClicks{Now: 10, Owner: 1, Source: "shlink", Items: []ImportedClickTotal{{Code: "aaa", Clicks: 11}}},
	))
	r := res[2].(*Result)
	if r.Items[0].Err != nil || !errors.Is(r.Items[1].Err, ErrNotFound) || !errors.Is(r.Items[2].Err, ErrNotFound) || !errors.Is(r.Items[3].Err, ErrNotFound) {
		t.Fatalf("items: %+v %+v %+v %+v", r.Items[0], r.Items[1], r.Items[2], r.Items[3])
	}
	if c, err := st.ImportedClicks("aaa"); err != nil || *c != (store.ImportedClicks{Source: "shlink", Clicks: 11, At: 10}) {
		t.Fatalf("aaa: %+v %v", c, err)
	}
	for _, code := range []string{"bbb", "ccc", "zzz"} {
		if _, err := st.ImportedClicks(code); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: a total was recorded (%v)", code, err)
		}
	}
	if n, _ := st.Clicks("aaa"); n != 0 {
		t.Fatalf("imported clicks leaked into linkd's own total: %d", n)
	}
}
