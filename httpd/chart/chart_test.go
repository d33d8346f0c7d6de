package chart

import (
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"testing"
)

// mustXML fails unless h is well-formed XML.
func mustXML(t *testing.T, h template.HTML) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(h)))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("invalid XML (%v): %s", err, h)
		}
	}
}

func TestChartsAreValidXML(t *testing.T) {
	many := make([]Point, 1000)
	for i := range many {
		many[i] = Point{fmt.Sprint(i), float64(i * i)}
	}
	for name, pts := range map[string][]Point{
		"empty": nil, "zeros": {{"a", 0}, {"b", 0}}, "one": {{"a", 3}}, "many": many,
		"odd": {{"a", math.NaN()}, {"b", -5}, {"c", math.Inf(1)}, {"d", 1e300}},
	} {
		h := Series("Clicks", pts, 720, 220)
		mustXML(t, h)
		if strings.Contains(string(h), "NaN") || strings.Contains(string(h), "Inf") {
			t.Errorf("%s: NaN or Inf in output", name)
		}
	}
	mustXML(t, Bars("Referrers", nil, 400, 8))
	mustXML(t, Bars("Referrers", []Bar{{"a", 10}, {"b", 0}}, 400, 8))
	mustXML(t, Share("Kinds", []Bar{{"Humans", 3}, {"Bots", 1}}, 720))
	mustXML(t, Share("Kinds", []Bar{{"Humans", 0}}, 720))
	if !strings.Contains(string(Series("x", nil, 10, 10)), "No clicks in this period") {
		t.Error("empty series has no message")
	}
}

func TestLabelsEscaped(t *testing.T) {
	evil := `<script>alert(1)</script>"&`
	for _, h := range []template.HTML{
		Series(evil, []Point{{evil, 1}}, 300, 100), Bars(evil, []Bar{{evil, 1}}, 300, 5), Share(evil, []Bar{{evil, 1}}, 300),
	} {
		mustXML(t, h)
		if strings.Contains(string(h), "<script") {
			t.Fatalf("unescaped label: %s", h)
		}
	}
}

func TestOther(t *testing.T) {
	bars := []Bar{{"a", 5}, {"b", 4}, {"c", 3}, {"d", 2}, {"e", 1}}
	got := withOther(bars, 3)
	if len(got) != 3 || got[2] != (Bar{"Other", 6}) || got[0].Label != "a" {
		t.Fatalf("withOther = %+v", got)
	}
	if len(withOther(bars, 5)) != 5 {
		t.Fatal("Other added when everything fits")
	}
	if !strings.Contains(string(Bars("t", bars, 400, 3)), ">Other<") {
		t.Fatal("no Other bar drawn")
	}
}

func TestNumbers(t *testing.T) {
	for v, want := range map[float64]float64{0: 1, 0.5: 1, 1: 1, 7: 10, 13: 20, 20: 20, 101: 200, 450: 500, 5000: 5000, 5001: 10000} {
		if got := NiceMax(v); got != want {
			t.Errorf("NiceMax(%v) = %v, want %v", v, got, want)
		}
	}
	for v, want := range map[float64]string{0: "0", 950: "950", 1200: "1.2k", 1000: "1k", 3.4e6: "3.4M", 2.5: "2.5"} {
		if got := Compact(v); got != want {
			t.Errorf("Compact(%v) = %q, want %q", v, got, want)
		}
	}
	for n, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := Exact(n); got != want {
			t.Errorf("Exact(%d) = %q, want %q", n, got, want)
		}
	}
	if Percent(1, 3) != "33.3%" || Percent(0, 0) != "0%" || Percent(2, 2) != "100%" {
		t.Error("Percent")
	}
}
