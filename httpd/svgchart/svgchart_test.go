package svgchart

import (
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// texts parses h as XML, failing the test if it is not well formed, and
// returns the character data of every <text> element in order.
func texts(t *testing.T, h template.HTML) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(h)))
	var out []string
	inText := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("invalid XML: %v\n%s", err, h)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
			if inText {
				out = append(out, "")
			}
		case xml.EndElement:
			inText = false
		case xml.CharData:
			if inText {
				out[len(out)-1] += string(tok)
			}
		}
	}
}

// noBadNumbers fails if a non-finite number leaked into the markup.
func noBadNumbers(t *testing.T, name string, h template.HTML) {
	t.Helper()
	for _, bad := range []string{"NaN", "Inf", `="-`} {
		if strings.Contains(string(h), bad) {
			t.Errorf("%s: output contains %q:\n%s", name, bad, h)
		}
	}
}

func seriesInputs() map[string][]Point {
	many := make([]Point, 1000)
	for i := range many {
		many[i] = Point{Label: fmt.Sprintf("Day %d", i), Value: float64(i % 37 * i)}
	}
	return map[string][]Point{
		"nil":      nil,
		"empty":    {},
		"zeros":    {{"a", 0}, {"b", 0}},
		"single":   {{"Nov 21", 3}},
		"two":      {{"Nov 21", 3}, {"Nov 22", 1}},
		"fraction": {{"a", 0.25}, {"b", 0.5}},
		"many":     many,
		"negative": {{"a", -5}, {"b", -1}, {"c", 2}},
		"weird":    {{"a", math.NaN()}, {"b", math.Inf(1)}, {"c", math.Inf(-1)}, {"d", 1e300}, {"e", math.MaxFloat64}},
		"huge":     {{"a", 9e14}, {"b", 1e15}},
		"nolabels": {{"", 1}, {"", 2}, {"", 3}},
		"control":  {{"a\x00b\x1b\xff\uFFFE", 4}, {"\t", 2}},
	}
}

func TestSeriesValidXML(t *testing.T) {
	for name, pts := range seriesInputs() {
		for _, size := range [][2]int{{720, 220}, {0, 0}, {-5, -5}, {1 << 30, 1 << 30}, {200, 90}} {
			h := Series("Clicks "+name, pts, size[0], size[1])
			texts(t, h)
			noBadNumbers(t, name, h)
		}
	}
}

func TestSeriesEmpty(t *testing.T) {
	for _, pts := range [][]Point{nil, {{"a", 0}}, {{"a", -3}, {"b", math.NaN()}}} {
		got := texts(t, Series("Clicks", pts, 600, 200))
		if len(got) != 1 || got[0] != "No clicks in this period" {
			t.Errorf("Series(%v) texts = %q, want the empty message only", pts, got)
		}
	}
}

func TestSeriesAccessible(t *testing.T) {
	h := string(Series("Clicks per day", []Point{{"Nov 21", 1234}, {"Nov 22", 5}}, 600, 200))
	for _, want := range []string{
		`role="img"`, `aria-labelledby="svgchart-`, `width="100%"`, `preserveAspectRatio=`,
		`viewBox="0 0 600 200"`, `<title>Nov 21: 1,234</title>`, `<title>Nov 22: 5</title>`,
		`Total 1,239, peak 1,234 at Nov 21.`, `font-family="system-ui`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("output lacks %q:\n%s", want, h)
		}
	}
	ids := regexp.MustCompile(`aria-labelledby="(\S+) (\S+)"`).FindStringSubmatch(h)
	if ids == nil || !strings.Contains(h, `<title id="`+ids[1]+`"`) || !strings.Contains(h, `<desc id="`+ids[2]+`"`) {
		t.Errorf("aria-labelledby does not name the title and desc:\n%s", h)
	}
}

func TestSeriesYAxis(t *testing.T) {
	got := texts(t, Series("c", []Point{{"a", 13}, {"b", 2}}, 600, 200))
	want := []string{"20", "15", "10", "5", "0", "a", "b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("texts = %q, want %q", got, want)
	}
	// Whole-number data never gets fractional ticks.
	got = texts(t, Series("c", []Point{{"a", 1}, {"b", 0}}, 600, 200))
	if strings.Join(got, "|") != "1|0|a|b" {
		t.Errorf("texts = %q, want 1|0|a|b", got)
	}
}

func TestXLabelIndexes(t *testing.T) {
	for _, tc := range []struct {
		n           int
		step, label float64
	}{
		{2, 500, 40}, {3, 10, 40}, {7, 100, 40}, {8, 80, 40}, {9, 70, 40}, {30, 20, 40},
		{31, 20, 37}, {365, 1.7, 40}, {1000, 0.6, 74}, {1000, 0.6, 6}, {24, 26, 31}, {2, 10, 40},
		{2, 85, 40}, {3, 44, 40}, {5, 30, 40}, {12, 60, 37},
	} {
		idx := xLabelIndexes(tc.n, tc.step, tc.label)
		if len(idx) == 0 || idx[0] != 0 || len(idx) > maxXLabels {
			t.Errorf("%+v: indexes %v", tc, idx)
			continue
		}
		if fits := float64(tc.n-1)*tc.step >= 2*tc.label+xLabelGap; fits != (idx[len(idx)-1] == tc.n-1) {
			t.Errorf("%+v: indexes %v: last label shown = %v, want %v", tc, idx, !fits, fits)
		}
		for k := 1; k < len(idx); k++ {
			if gap := float64(idx[k]-idx[k-1]) * tc.step; gap < 2*tc.label+xLabelGap {
				t.Errorf("%+v: indexes %v: labels %d and %d overlap", tc, idx, idx[k-1], idx[k])
			}
		}
	}
}

func TestBars(t *testing.T) {
	cases := map[string][]Bar{
		"nil":   nil,
		"one":   {{"example.com", 42}},
		"zeros": {{"a", 0}, {"b", 0}},
		"huge":  {{"a", math.MaxUint64}, {"b", math.MaxUint64}, {"c", 1}},
		"long":  {{strings.Repeat("very-long-subdomain.", 10) + "example.com", 7}},
	}
	for name, bars := range cases {
		for _, limit := range []int{-1, 0, 1, 2, 10} {
			h := Bars("Referrers", bars, 480, limit)
			texts(t, h)
			noBadNumbers(t, name, h)
		}
	}
	if got := texts(t, Bars("Referrers", nil, 480, 10)); len(got) != 1 || got[0] != "No data" {
		t.Errorf("empty Bars texts = %q", got)
	}
	short, tall := Bars("r", cases["one"], 480, 10), Bars("r", cases["huge"], 480, 10)
	if viewHeight(t, short) >= viewHeight(t, tall) {
		t.Errorf("height does not grow with bars: %d vs %d", viewHeight(t, short), viewHeight(t, tall))
	}
}

func viewHeight(t *testing.T, h template.HTML) int {
	t.Helper()
	m := regexp.MustCompile(`viewBox="0 0 \d+ (\d+)"`).FindStringSubmatch(string(h))
	if m == nil {
		t.Fatalf("no viewBox in %s", h)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestBarsOther(t *testing.T) {
	bars := []Bar{{"a", 50}, {"b", 40}, {"c", 30}, {"d", 20}, {"e", 10}}
	got := texts(t, Bars("Referrers", bars, 480, 3))
	want := []string{"a", "50", "b", "40", "Other", "60"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("texts = %q, want %q", got, want)
	}
	if got := texts(t, Bars("Referrers", bars, 480, 5)); len(got) != 10 {
		t.Errorf("exactly max bars must not fold into Other: %q", got)
	}
	rows, other := withOther([]Bar{{"a", 1}, {"b", math.MaxUint64}, {"c", 5}}, 2)
	if !other || len(rows) != 2 || rows[1].Value != math.MaxUint64 {
		t.Errorf("Other sum must saturate: %v", rows)
	}
	if rows, _ := withOther(bars, 2); &rows[0] == &bars[0] {
		t.Error("withOther must not alias the caller's slice")
	}
}

func TestEscaping(t *testing.T) {
	evil := `<script>alert("x")</script>&'`
	for name, h := range map[string]template.HTML{
		"series": Series(evil, []Point{{evil, 1}, {evil, 2}}, 600, 200),
		"empty":  Series(evil, nil, 600, 200),
		"bars":   Bars(evil, []Bar{{evil, 1}, {"b", 1}, {"c", 1}}, 600, 2),
		"share":  Share(evil, []Bar{{evil, 1}, {"ok", 3}}, 600),
	} {
		s := string(h)
		if strings.Contains(s, "<script") || strings.Contains(s, `"x"`) {
			t.Errorf("%s: raw markup leaked:\n%s", name, s)
		}
		if !strings.Contains(s, "&lt;script&gt;") {
			t.Errorf("%s: escaped label missing:\n%s", name, s)
		}
		found := false
		for _, txt := range texts(t, h) {
			found = found || strings.HasPrefix(txt, "<script>")
		}
		if name != "empty" && !found {
			t.Errorf("%s: label does not round-trip as text", name)
		}
	}
}

func TestShare(t *testing.T) {
	parts := []Bar{{"Humans", 1200}, {"Bots", 300}, {"Previews", 0}, {"QR scans", 7}}
	h := Share("Visits by kind", parts, 600)
	got := texts(t, h)
	if len(got) != 4 || got[0] != "Humans 1,200 (79.6%)" || got[2] != "Previews 0 (0.0%)" {
		t.Errorf("legend = %q", got)
	}
	if n := strings.Count(string(h), "<rect"); n != 3+4 {
		t.Errorf("%d rects, want 3 segments and 4 swatches", n)
	}
	for _, p := range [][]Bar{nil, {{"a", 0}}} {
		if got := texts(t, Share("x", p, 600)); len(got) != 1 || got[0] != "No data" {
			t.Errorf("Share(%v) texts = %q", p, got)
		}
	}
	wide := make([]Bar, 20)
	for i := range wide {
		wide[i] = Bar{Label: fmt.Sprintf("part-%d", i), Value: uint64(i)}
	}
	if viewHeight(t, Share("x", wide, 300)) <= viewHeight(t, Share("x", parts[:1], 300)) {
		t.Error("legend does not wrap onto more rows")
	}
	noBadNumbers(t, "share", Share("x", []Bar{{"a", math.MaxUint64}, {"b", math.MaxUint64}}, 0))
}

func TestPercentagesSumTo100(t *testing.T) {
	for _, parts := range [][]Bar{
		{{"a", 1}, {"b", 1}, {"c", 1}},
		{{"a", 2}, {"b", 1}, {"c", 1}, {"d", 1}, {"e", 1}, {"f", 1}, {"g", 1}},
		{{"a", 999999}, {"b", 1}},
		{{"a", 1}, {"b", 0}, {"c", 0}},
		{{"a", math.MaxUint64}, {"b", math.MaxUint64 / 3}, {"c", 12345}},
		{{"a", 17}, {"b", 23}, {"c", 29}, {"d", 31}, {"e", 37}},
	} {
		sum := 0.0
		for _, txt := range texts(t, Share("x", parts, 800)) {
			m := regexp.MustCompile(`\((\d+\.\d)%\)$`).FindStringSubmatch(txt)
			if m == nil {
				t.Fatalf("legend %q has no percentage", txt)
			}
			p, _ := strconv.ParseFloat(m[1], 64)
			sum += p
		}
		if math.Abs(sum-100) > 1e-9 {
			t.Errorf("%v: percentages sum to %v", parts, sum)
		}
	}
}

func TestNiceMax(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{-3, 1}, {0, 1}, {math.NaN(), 1}, {0.4, 1}, {1, 1}, {1.01, 2}, {2, 2}, {3, 5}, {5, 5},
		{7, 10}, {10, 10}, {13, 20}, {20, 20}, {21, 50}, {99, 100}, {100, 100}, {101, 200},
		{999, 1000}, {1000, 1000}, {1001, 2000}, {45000, 50000}, {1e6, 1e6}, {math.Inf(1), 1e15},
	} {
		if got := niceMax(tc.in); got != tc.want {
			t.Errorf("niceMax(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestTickStep(t *testing.T) {
	for _, tc := range []struct {
		top      float64
		integral bool
		want     float64
	}{
		{1, false, 0.2}, {1, true, 1}, {2, true, 1}, {5, true, 1}, {10, true, 2},
		{20, true, 5}, {50, true, 10}, {200, true, 50}, {1000, true, 200}, {1e15, true, 2e14},
	} {
		if got := tickStep(tc.top, tc.integral); math.Abs(got-tc.want) > 1e-9*tc.want {
			t.Errorf("tickStep(%v, %v) = %v, want %v", tc.top, tc.integral, got, tc.want)
		}
	}
}

func TestNumberFormats(t *testing.T) {
	for _, tc := range []struct {
		in            float64
		compact, full string
	}{
		{0, "0", "0"}, {-4, "0", "0"}, {0.2, "0.2", "0.2"}, {7, "7", "7"}, {999, "999", "999"},
		{999.96, "1k", "999.96"}, {1000, "1k", "1,000"}, {1234, "1.2k", "1,234"},
		{1500, "1.5k", "1,500"}, {3.4e6, "3.4M", "3,400,000"}, {2e9, "2B", "2,000,000,000"},
		{1e15, "1000T", "1,000,000,000,000,000"}, {12.345, "12.3", "12.35"},
	} {
		if got := compact(tc.in); got != tc.compact {
			t.Errorf("compact(%v) = %q, want %q", tc.in, got, tc.compact)
		}
		if got := exact(tc.in); got != tc.full {
			t.Errorf("exact(%v) = %q, want %q", tc.in, got, tc.full)
		}
	}
	if got := count(math.MaxUint64); got != "18,446,744,073,709,551,615" {
		t.Errorf("count(MaxUint64) = %q", got)
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Copysign(0, -1), -0.001} {
		if got := num(f); got != "0" {
			t.Errorf("num(%v) = %q, want 0", f, got)
		}
	}
}

func TestDeterministic(t *testing.T) {
	pts := seriesInputs()["many"]
	bars := []Bar{{"a", 3}, {"b", 2}, {"c", 1}}
	render := []func() template.HTML{
		func() template.HTML { return Series("c", pts, 700, 200) },
		func() template.HTML { return Bars("b", bars, 400, 2) },
		func() template.HTML { return Share("s", bars, 400) },
	}
	for i, f := range render {
		if first, second := f(), f(); first != second {
			t.Errorf("chart %d is not deterministic", i)
		}
	}
	if Series("a", pts, 700, 200) == Series("b", pts, 700, 200) {
		t.Error("different charts should get different ids")
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"}, {"exactly10!", 10, "exactly10!"}, {"abcdefghijk", 5, "abcd…"}, {"ünïcödé", 4, "ünï…"}, {"ab", 0, "…"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// A label longer than the label column is drawn whole (wrapped above its
// bar), never truncated.
func TestBarsNeverTruncateLabels(t *testing.T) {
	long := "a-very-long-referrer-host-name.with-many-parts.example.org"
	svg := string(Bars("Referrers", []Bar{{Label: long, Value: 4}, {Label: "t.co", Value: 1}}, 300, 8))
	if strings.Contains(svg, "…") {
		t.Fatalf("a label was truncated: %s", svg)
	}
	var text strings.Builder
	for _, part := range strings.Split(svg, "<text")[1:] {
		s := part[strings.Index(part, ">")+1:]
		text.WriteString(s[:strings.Index(s, "<")])
	}
	if !strings.Contains(text.String(), long) {
		t.Fatalf("the label is not drawn whole: %q", text.String())
	}
}
