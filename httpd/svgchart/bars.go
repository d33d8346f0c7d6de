package svgchart

import (
	"fmt"
	"html/template"
	"math"
	"unicode/utf8"
)

// Bar is one labelled count.
type Bar struct {
	Label string
	Value uint64
}

// Bars renders horizontal bars, largest first as given (caller sorts), label
// left, bar scaled to the largest value, value printed at the bar's end, with
// <title>/<desc>. At most max bars are drawn; the rest are summed into a final
// "Other" bar. An empty list renders "No data". Height grows with the number of bars.
//
// A max below 2 is treated as 2, so "Other" never stands alone.
func Bars(title string, bars []Bar, width, max int) template.HTML {
	w := clampSize(width, minWidth)
	rows, other := withOther(bars, max)
	if len(rows) == 0 {
		return emptyChart(title, emptyData, w, emptyHeight)
	}
	l := barLayout(rows, w)
	if l.stacked {
		return stackedBars(title, rows, other, w)
	}
	h := 2*padSide + len(rows)*rowHeight
	var c canvas
	for i, b := range rows {
		l.row(&c, i, b, other && i == len(rows)-1)
	}
	return finish(title, barsDesc(rows), w, h, c.b.String())
}

// stackedBars is the layout for labels longer than the label column: each
// label gets the full width on its own line(s) above its bar, wrapped, never
// truncated (a referrer host is only useful whole).
func stackedBars(title string, rows []Bar, other bool, w int) template.HTML {
	perLine := max(int(float64(w-2*padSide)/charWidth), 1)
	valueRunes := 0
	var top uint64
	for _, b := range rows {
		top = max(top, b.Value)
		valueRunes = max(valueRunes, utf8.RuneCountInString(count(b.Value)))
	}
	barMax := math.Max(float64(w)-2*padSide-float64(valueRunes)*charWidth-valueGap, 1)
	var c canvas
	y := float64(padSide)
	for i, b := range rows {
		c.printf(`<g><title>%s: %s</title>`, esc(b.Label), count(b.Value))
		for _, line := range wrapRunes(b.Label, perLine) {
			c.text(padSide, y+labelLine/2, "start", line)
			y += labelLine
		}
		mid := y + rowHeight/2
		bw := 0.0
		if top > 0 {
			bw = barMax * float64(b.Value) / float64(top)
		}
		color := paletteColor(0)
		if other && i == len(rows)-1 {
			color = colorOther
		}
		c.printf(`<rect x="%s" y="%s" width="%s" height="%d" rx="2" style="fill:%s"/>`,
			num(padSide), num(mid-barThickness/2), num(bw), barThickness, color)
		c.text(padSide+bw+valueGap, mid, "start", count(b.Value))
		c.printf(`</g>`)
		y += rowHeight
	}
	return finish(title, barsDesc(rows), w, int(math.Ceil(y))+padSide, c.b.String())
}

// labelLine is the height of one wrapped label line in stacked bars.
const labelLine = 15

// wrapRunes cuts s into lines of at most n runes, at the last space, dot,
// slash or hyphen of a line when there is one.
func wrapRunes(s string, n int) []string {
	r := []rune(s)
	var out []string
	for len(r) > n {
		cut := n
		for j := n; j > n/2; j-- {
			if r[j-1] == ' ' || r[j-1] == '.' || r[j-1] == '/' || r[j-1] == '-' {
				cut = j
				break
			}
		}
		out = append(out, string(r[:cut]))
		r = r[cut:]
	}
	return append(out, string(r))
}

// withOther keeps the first limit-1 bars and sums the rest into "Other"
// when there are more than limit, reporting whether it did. The sum
// saturates instead of wrapping.
func withOther(bars []Bar, limit int) (rows []Bar, other bool) {
	limit = max(limit, 2)
	if len(bars) <= limit {
		return bars, false
	}
	rows = append([]Bar(nil), bars[:limit-1]...)
	var rest uint64
	for _, b := range bars[limit-1:] {
		if rest > math.MaxUint64-b.Value {
			rest = math.MaxUint64
			continue
		}
		rest += b.Value
	}
	return append(rows, Bar{Label: otherLabel, Value: rest}), true
}

// barGeometry is the horizontal layout of a bar chart: a label column, a
// bar track and room for the longest value text after the longest bar.
type barGeometry struct {
	// stacked: some label is longer than the label column, so labels go
	// above their bars (see stackedBars).
	stacked      bool
	labelRunes   int
	barX, barMax float64
	top          uint64
}

func barLayout(rows []Bar, w int) barGeometry {
	labelW := math.Min(math.Max(float64(w)*0.3, 60), barLabelRunes*charWidth)
	l := barGeometry{labelRunes: int(labelW / charWidth), barX: padSide + labelW + valueGap}
	valueRunes := 0
	for _, b := range rows {
		l.stacked = l.stacked || utf8.RuneCountInString(b.Label) > l.labelRunes
		l.top = max(l.top, b.Value)
		valueRunes = max(valueRunes, utf8.RuneCountInString(count(b.Value)))
	}
	l.barMax = math.Max(float64(w)-l.barX-float64(valueRunes)*charWidth-valueGap-padSide, 1)
	return l
}

// row draws bar i: truncated label, bar and exact value, grouped under a
// title with the full label so hovering anywhere on the row shows it.
func (l barGeometry) row(c *canvas, i int, b Bar, other bool) {
	mid := float64(padSide + i*rowHeight + rowHeight/2)
	bw := 0.0
	if l.top > 0 {
		bw = l.barMax * float64(b.Value) / float64(l.top)
	}
	color := paletteColor(0)
	if other {
		color = colorOther
	}
	c.printf(`<g><title>%s: %s</title>`, esc(b.Label), count(b.Value))
	c.text(padSide, mid, "start", truncate(b.Label, l.labelRunes))
	c.printf(`<rect x="%s" y="%s" width="%s" height="%d" rx="2" style="fill:%s"/>`,
		num(l.barX), num(mid-barThickness/2), num(bw), barThickness, color)
	c.text(l.barX+bw+valueGap, mid, "start", count(b.Value))
	c.printf(`</g>`)
}

// barsDesc tells screen readers what the bars show, largest first.
func barsDesc(rows []Bar) string {
	return fmt.Sprintf("%d bars; the first is %s with %s.", len(rows), rows[0].Label, count(rows[0].Value))
}
