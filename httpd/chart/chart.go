// Package chart renders small, accessible SVG charts on the server, so the
// console's analytics need no JavaScript and no chart library in the
// browser. Output is deterministic and every label is escaped.
package chart

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Layout and palette, kept together. Colors are CSS variables with
// fallbacks, so pages can theme charts and charts work without CSS.
const (
	padLeft    = 44
	padRight   = 12
	padTop     = 12
	padBottom  = 26
	barHeight  = 20
	barGap     = 8
	labelWidth = 120
	fontStyle  = "font:12px system-ui,sans-serif;fill:var(--muted,#5b6270)"
	maxXLabels = 8
	// maxValue caps values: far beyond any click count, far below overflow.
	maxValue = 1e15
)

var palette = []string{"var(--chart-1,#4338ca)", "var(--chart-2,#0e9384)", "var(--chart-3,#dc6803)", "var(--chart-4,#c11574)"}

// Point is one sample of a time series.
type Point struct {
	Label string
	Value float64
}

// Bar is one labelled count.
type Bar struct {
	Label string
	Value uint64
}

// svg collects a chart's markup.
type svg struct{ b bytes.Buffer }

func (s *svg) f(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

// open starts an <svg> that scales to its container, titled for screen readers.
func (s *svg) open(title string, w, h int) {
	s.f(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="%s">`,
		w, h, esc(title))
	s.f(`<title>%s</title>`, esc(title))
}

func (s *svg) close() template.HTML {
	s.b.WriteString(`</svg>`)
	return template.HTML(s.b.String()) // built from escaped parts only
}

func (s *svg) empty(title, msg string, w, h int) template.HTML {
	s.open(title, w, h)
	s.f(`<text x="%d" y="%d" text-anchor="middle" style="%s">%s</text>`, w/2, h/2, fontStyle, esc(msg))
	return s.close()
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// Series renders a time series as an area chart with a y axis from 0 to a
// rounded maximum and at most maxXLabels x labels. Hovering a point shows
// its label and value.
func Series(title string, pts []Point, width, height int) template.HTML {
	var s svg
	top := 0.0
	for _, p := range pts {
		top = math.Max(top, clean(p.Value))
	}
	if top == 0 {
		return s.empty(title, "No clicks in this period", width, height)
	}
	top = NiceMax(top)
	s.open(title, width, height)
	pw, ph := float64(width-padLeft-padRight), float64(height-padTop-padBottom)
	x := func(i int) float64 { return padLeft + pw*float64(i)/math.Max(float64(len(pts)-1), 1) }
	y := func(v float64) float64 { return padTop + ph*(1-clean(v)/top) }
	ticks := 4
	if top < 4 {
		ticks = int(top) // whole clicks only: 0, 1, 2
	}
	for i := 0; i <= ticks; i++ {
		v := top / float64(ticks) * float64(i)
		s.f(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" style="stroke:var(--line,#e2e5ec)"/>`, padLeft, width-padRight, y(v), y(v))
		s.f(`<text x="%d" y="%.1f" text-anchor="end" style="%s">%s</text>`, padLeft-6, y(v)+4, fontStyle, Compact(v))
	}
	var line strings.Builder
	for i, p := range pts {
		fmt.Fprintf(&line, "%.1f,%.1f ", x(i), y(p.Value))
	}
	s.f(`<polygon points="%.1f,%.1f %s%.1f,%.1f" style="fill:%s;fill-opacity:.15"/>`,
		x(0), y(0), line.String(), x(len(pts)-1), y(0), palette[0])
	s.f(`<polyline points="%s" style="fill:none;stroke:%s;stroke-width:2"/>`, strings.TrimSpace(line.String()), palette[0])
	step := max((len(pts)+maxXLabels-1)/maxXLabels, 1)
	for i, p := range pts {
		if i%step == 0 {
			s.f(`<text x="%.1f" y="%d" text-anchor="middle" style="%s">%s</text>`, x(i), height-8, fontStyle, esc(p.Label))
		}
		hw := pw / math.Max(float64(len(pts)), 1) / 2
		s.f(`<rect x="%.1f" y="%d" width="%.1f" height="%.1f" style="fill:transparent"><title>%s: %s</title></rect>`,
			x(i)-hw, padTop, 2*hw, ph, esc(p.Label), Exact(uint64(clean(p.Value))))
	}
	return s.close()
}

// Bars renders labelled horizontal bars (largest first, as given). At most
// limit bars are drawn; the rest are summed into "Other".
func Bars(title string, bars []Bar, width, limit int) template.HTML {
	var s svg
	bars = withOther(bars, limit)
	if len(bars) == 0 {
		return s.empty(title, "No data", width, 60)
	}
	var top uint64
	for _, b := range bars {
		top = max(top, b.Value)
	}
	h := len(bars)*(barHeight+barGap) + barGap
	s.open(title, width, h)
	span := float64(width - labelWidth - 70)
	for i, b := range bars {
		y := barGap + i*(barHeight+barGap)
		w := 0.0
		if top > 0 {
			w = math.Max(span*float64(b.Value)/float64(top), 1)
		}
		s.f(`<g><title>%s: %s</title>`, esc(b.Label), Exact(b.Value))
		s.f(`<text x="%d" y="%d" text-anchor="end" style="%s">%s</text>`, labelWidth-8, y+14, fontStyle, esc(truncate(b.Label, 18)))
		s.f(`<rect x="%d" y="%d" width="%.1f" height="%d" rx="3" style="fill:%s"/>`, labelWidth, y, w, barHeight, palette[0])
		s.f(`<text x="%.1f" y="%d" style="%s">%s</text></g>`, float64(labelWidth)+w+6, y+14, fontStyle, Exact(b.Value))
	}
	return s.close()
}

// Share renders parts of a whole as one stacked bar with a legend giving
// each part's count and percentage.
func Share(title string, parts []Bar, width int) template.HTML {
	var s svg
	var total uint64
	for _, p := range parts {
		total += p.Value
	}
	if total == 0 {
		return s.empty(title, "No data", width, 60)
	}
	s.open(title, width, 64)
	x := 0.0
	for i, p := range parts {
		w := float64(width) * float64(p.Value) / float64(total)
		s.f(`<rect x="%.1f" y="0" width="%.1f" height="22" style="fill:%s"><title>%s: %s</title></rect>`,
			x, w, palette[i%len(palette)], esc(p.Label), Exact(p.Value))
		x += w
	}
	col := width / max(len(parts), 1)
	for i, p := range parts {
		lx := i * col
		s.f(`<rect x="%d" y="38" width="10" height="10" style="fill:%s"/>`, lx, palette[i%len(palette)])
		s.f(`<text x="%d" y="47" style="%s">%s %s (%s)</text>`, lx+14, fontStyle, esc(p.Label), Exact(p.Value), Percent(p.Value, total))
	}
	return s.close()
}

// withOther keeps the first limit-1 bars and sums the rest into "Other"
// when there are more than limit.
func withOther(bars []Bar, limit int) []Bar {
	if limit < 1 || len(bars) <= limit {
		return bars
	}
	out := append([]Bar(nil), bars[:limit-1]...)
	other := Bar{Label: "Other"}
	for _, b := range bars[limit-1:] {
		other.Value += b.Value
	}
	return append(out, other)
}

// NiceMax rounds v up to 1, 2 or 5 times a power of ten, so gridlines fall
// on round numbers.
func NiceMax(v float64) float64 {
	if v <= 1 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

// Compact writes axis numbers short: 950, 1.2k, 3.4M.
func Compact(v float64) string {
	switch {
	case v >= 1e6:
		return trimZero(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case v >= 1e3:
		return trimZero(fmt.Sprintf("%.1f", v/1e3)) + "k"
	}
	return trimZero(fmt.Sprintf("%.1f", v))
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }

// Exact writes a count with thousands separators: 1,234,567.
func Exact(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Percent is part of total as a percentage with one decimal.
func Percent(part, total uint64) string {
	if total == 0 {
		return "0%"
	}
	return trimZero(fmt.Sprintf("%.1f", 100*float64(part)/float64(total))) + "%"
}

// clean turns negative, NaN and infinite values into something drawable.
func clean(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	return math.Min(v, maxValue)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
