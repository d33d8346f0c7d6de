// Package svgchart renders small, accessible, dependency-free SVG charts for
// server-rendered pages.
//
// Every chart is returned as template.HTML so it can be dropped into a page
// template as is. That is only safe because every piece of caller text
// (titles, labels) passes through esc on its way out; numbers and
// coordinates are produced here. Output is deterministic: the same input
// always yields the same bytes, which keeps pages cacheable and tests exact.
// Sizes are viewBox units, clamped to at least 160×80 and at most 10000 so
// layout arithmetic can never go negative or explode.
package svgchart

import (
	"fmt"
	"hash/fnv"
	"html/template"
	"math"
	"strings"
	"unicode/utf8"
)

// Layout, typography and colors, kept together so the look can be tuned in
// one place. Colors are CSS custom properties with fallbacks, set through
// style attributes because var() is not reliably honoured in SVG
// presentation attributes; a page without CSS gets the fallback colors.
const (
	fontFamily = "system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"
	fontSize   = 11
	// charWidth is the average advance of one fontSize glyph. There is no
	// text measurement on the server, so layout works with this estimate.
	charWidth = 6.2
	// textDY vertically centers a text line on its y coordinate without
	// dominant-baseline, which some renderers ignore.
	textDY = ".32em"

	minWidth  = 160
	minHeight = 80
	maxSize   = 10000 // bounds the viewBox, so absurd sizes cannot blow up the markup

	// maxValue caps values: far above any click count, far below the range
	// where float64 loses integer precision, so labels stay exact.
	maxValue = 1e15

	padTop    = 10
	padRight  = 12
	padBottom = 24
	padLeft   = 44 // room for compact y tick labels such as "1.5k"
	padSide   = 4  // horizontal inset of bar and share charts

	maxXLabels  = 8
	xLabelRunes = 12
	xLabelGap   = 8
	tickGap     = 6 // distance between y tick labels and the plot

	rowHeight     = 22
	barThickness  = 14
	barLabelRunes = 28
	valueGap      = 4
	emptyHeight   = 48

	shareBarHeight = 20
	legendTop      = 14 // distance between the share bar and the first legend row
	legendRow      = 18
	swatchSize     = 10
	swatchGap      = 5
	legendItemGap  = 16
	legendRunes    = 24

	colorText  = "var(--chart-text,#4b5563)"
	colorGrid  = "var(--chart-grid,#e5e7eb)"
	colorAxis  = "var(--chart-axis,#9ca3af)"
	colorSep   = "var(--chart-bg,#ffffff)"
	colorOther = "var(--chart-other,#64748b)"
	areaAlpha  = ".18"

	emptySeries = "No clicks in this period"
	emptyData   = "No data"
	otherLabel  = "Other"
)

// paletteColor returns the i-th series color, cycling. The fallbacks keep at
// least 3:1 contrast against white, as WCAG asks of graphical objects, and
// differ in hue and lightness so neighbours stay distinguishable.
func paletteColor(i int) string {
	switch i % 8 {
	case 0:
		return "var(--chart-1,#4f46e5)"
	case 1:
		return "var(--chart-2,#0d9488)"
	case 2:
		return "var(--chart-3,#d97706)"
	case 3:
		return "var(--chart-4,#db2777)"
	case 4:
		return "var(--chart-5,#0284c7)"
	case 5:
		return "var(--chart-6,#65a30d)"
	case 6:
		return "var(--chart-7,#9333ea)"
	default:
		return "var(--chart-8,#64748b)"
	}
}

// canvas accumulates a chart body. Arguments to printf must be numbers from
// num, constants, or caller text already passed through esc.
type canvas struct{ b strings.Builder }

func (c *canvas) printf(format string, args ...any) { fmt.Fprintf(&c.b, format, args...) }

// text writes one line of escaped text; anchor is start, middle or end.
func (c *canvas) text(x, y float64, anchor, s string) {
	c.printf(`<text x="%s" y="%s" dy="%s" text-anchor="%s" style="fill:%s">%s</text>`,
		num(x), num(y), textDY, anchor, colorText, esc(s))
}

// finish wraps body in the root element. The title and desc ids are derived
// from the content, so they are deterministic yet differ between charts on
// one page, which aria-labelledby needs.
func finish(title, desc string, w, h int, body string) template.HTML {
	hash := fnv.New64a()
	for _, s := range []string{title, desc, body} {
		hash.Write([]byte(s))
		hash.Write([]byte{0})
	}
	id := fmt.Sprintf("svgchart-%016x", hash.Sum64())
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="svgchart" viewBox="0 0 %d %d" width="100%%" `+
		`preserveAspectRatio="xMidYMid meet" style="display:block;height:auto;max-width:100%%" `+
		`role="img" aria-labelledby="%s-t %s-d" font-family="%s" font-size="%d">`,
		w, h, id, id, fontFamily, fontSize)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(title), id, esc(desc))
	b.WriteString(body)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // caller text in it went through esc
}

// emptyChart is the placeholder drawn when there is nothing to plot, so the
// page layout does not jump and screen readers still hear the title.
func emptyChart(title, msg string, w, h int) template.HTML {
	var c canvas
	c.text(float64(w)/2, float64(h)/2, "middle", msg)
	return finish(title, msg, w, h, c.b.String())
}

// esc makes caller text safe as XML character data: characters XML 1.0
// forbids (control characters, invalid UTF-8, U+FFFE/U+FFFF) become U+FFFD,
// then markup characters are escaped.
func esc(s string) string {
	return template.HTMLEscapeString(strings.Map(xmlRune, s))
}

func xmlRune(r rune) rune {
	switch {
	case r == '\t' || r == '\n' || r == '\r',
		r >= 0x20 && r <= 0xD7FF,
		r >= 0xE000 && r <= 0xFFFD,
		r >= 0x10000 && r <= 0x10FFFF:
		return r
	}
	return utf8.RuneError
}

// truncate shortens s to at most n runes, marking the cut with an ellipsis,
// so long referrer hosts cannot overrun their column. The full text stays
// available in the hover title.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:max(n-1, 0)]) + "…"
}

// clampSize bounds a caller's dimension so layout arithmetic stays positive.
func clampSize(v, lo int) int {
	return min(max(v, lo), maxSize)
}

// cleanValue maps any float to [0, maxValue]: NaN and negatives would put
// points outside the plot, infinities would poison every coordinate.
func cleanValue(v float64) float64 {
	if math.IsNaN(v) || v <= 0 {
		return 0
	}
	return math.Min(v, maxValue)
}
