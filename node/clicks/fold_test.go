package clicks

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/linkd/linkd/store"
)

// The fold keeps each link's minutes and days in time order as records
// arrive. Records usually come in time order, but not always (clocks of
// concurrent requests, a segment spanning midnight): the command must not
// depend on the order, and its buckets and days must come out sorted.
func TestFoldDoesNotDependOnRecordOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	day0 := int64(20_000) * store.DayMs
	var recs [][]byte
	for i := range 3000 {
		rec := record{timeMs: day0 - 90_000 + r.Int64N(300_000), kind: KindClick, class: ClassHuman,
			code: fmt.Appendf(nil, "c%d", r.IntN(20)), country: []byte("DE"), device: []byte("mobile"),
			browser: fmt.Appendf(nil, "B%d", i%3), os: []byte("Android"), refHost: []byte("x.test")}
		if i%7 == 0 {
			rec.class = ClassPreview
		}
		recs = append(recs, rec.appendTo(nil))
	}
	c := &Compactor{log: quiet}
	fold := func(recs [][]byte) []store.LinkClicks {
		cmd, err := c.foldRecords(func(fn func([]byte)) error {
			for _, b := range recs {
				fn(b)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return cmd.Links
	}
	sorted := slices.Clone(recs)
	slices.SortStableFunc(sorted, func(a, b []byte) int {
		va, _ := viewRecord(a)
		vb, _ := viewRecord(b)
		return int(va.timeMs - vb.timeMs)
	})
	want := fold(sorted)
	var clicks uint64
	for _, l := range want {
		if !slices.IsSortedFunc(l.Minutes, func(a, b store.ClickBucket) int { return int(a.T - b.T) }) {
			t.Fatalf("%s: minutes out of order: %v", l.Code, l.Minutes)
		}
		if len(l.Days) != 2 || l.Days[0].Day+1 != l.Days[1].Day {
			t.Fatalf("%s: want two consecutive days in order, got %+v", l.Code, l.Days)
		}
		for _, m := range l.Minutes {
			clicks += m.N
		}
	}
	if previews := uint64(3000/7 + 1); clicks != 3000-previews {
		t.Fatalf("minute buckets count %d clicks, want %d", clicks, 3000-previews)
	}
	for range 5 {
		r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		if got := fold(recs); !reflect.DeepEqual(got, want) {
			t.Fatal("folding the same records in another order gave another command")
		}
	}
}

// A link-day's dimension values are counted the same whether they are few
// (found by a scan) or more than dimScan (found through an index built
// when the scan's limit is passed): every value once, with all its
// records, sorted by dimension and value.
func TestFoldCountsManyDimensionValues(t *testing.T) {
	const refs = 3 * dimScan
	var recs [][]byte
	for round := range 3 {
		for i := range refs {
			rec := record{timeMs: int64(20_000)*store.DayMs + int64(round*refs+i), kind: KindClick, class: ClassHuman,
				code: []byte("c1"), country: []byte("DE"), device: []byte("mobile"), browser: fmt.Appendf(nil, "B%d", round),
				os: []byte("Android"), refHost: fmt.Appendf(nil, "r%02d.test", i)}
			recs = append(recs, rec.appendTo(nil))
		}
	}
	c := &Compactor{log: quiet}
	cmd, err := c.foldRecords(func(fn func([]byte)) error {
		for _, b := range recs {
			fn(b)
		}
		return nil
	})
	if err != nil || len(cmd.Links) != 1 || len(cmd.Links[0].Days) != 1 {
		t.Fatalf("fold: %v, %+v", err, cmd)
	}
	want := []store.DimCount{{Dim: store.DimCountry, Key: "DE", N: 3 * refs}}
	for i := range refs {
		want = append(want, store.DimCount{Dim: store.DimReferrer, Key: fmt.Sprintf("r%02d.test", i), N: 3})
	}
	want = append(want, store.DimCount{Dim: store.DimDevice, Key: "mobile", N: 3 * refs},
		store.DimCount{Dim: store.DimOS, Key: "Android", N: 3 * refs})
	for round := range 3 { // a referrer is in three profiles, one per browser
		want = append(want, store.DimCount{Dim: store.DimBrowser, Key: fmt.Sprintf("B%d", round), N: refs})
	}
	slices.SortFunc(want, func(a, b store.DimCount) int {
		if a.Dim != b.Dim {
			return int(a.Dim) - int(b.Dim)
		}
		return strings.Compare(a.Key, b.Key)
	})
	if got := cmd.Links[0].Days[0].Dims; !reflect.DeepEqual(got, want) {
		t.Fatalf("dims:\n%v\nwant\n%v", got, want)
	}
}
