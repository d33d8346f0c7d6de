package svgchart

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"unicode/utf8"
)

// Point is one sample of a time series.
type Point struct {
	Label string // x-axis label, e.g. "Nov 21" or "14:00"
	Value float64
}

// Series renders a time series as a filled line chart (area) with a y axis
// (0 .. a "nice" rounded max, 3-5 gridlines with tick labels), a few x labels
// (first, last and evenly spaced ones so they never overlap; at most ~8), and a
// <title> and <desc> for screen readers (role="img", aria-labelledby). Width and
// height are the viewBox size; the SVG must scale to its container width
// (width="100%" with preserveAspectRatio). An all-zero or empty series renders
// an empty chart with the text "No clicks in this period". Each point gets an
// invisible hit rect with a <title> "label: value" so hovering shows the value.
//
// Values are clamped to [0, 1e15]; NaN counts as 0.
func Series(title string, pts []Point, width, height int) template.HTML {
	w, h := clampSize(width, minWidth), clampSize(height, minHeight)
	vals, peak, integral := seriesValues(pts)
	if peak == 0 {
		return emptyChart(title, emptySeries, w, h)
	}
	p := plot{
		x: padLeft, y: padTop,
		w: float64(w - padLeft - padRight), h: float64(h - padTop - padBottom),
		n: len(vals), top: niceMax(peak),
	}
	var c canvas
	p.yAxis(&c, tickStep(p.top, integral))
	p.area(&c, vals)
	p.xLabels(&c, pts)
	p.hitRects(&c, pts, vals)
	return finish(title, seriesDesc(pts, vals), w, h, c.b.String())
}

// seriesValues cleans every value and reports the peak and whether all
// values are whole numbers (then the y axis avoids fractional ticks).
func seriesValues(pts []Point) (vals []float64, peak float64, integral bool) {
	vals = make([]float64, len(pts))
	integral = true
	for i, pt := range pts {
		v := cleanValue(pt.Value)
		vals[i] = v
		peak = math.Max(peak, v)
		integral = integral && v == math.Trunc(v)
	}
	return vals, peak, integral
}

// plot is the data area of a series chart and its mapping from data to
// viewBox coordinates.
type plot struct {
	x, y, w, h float64
	n          int     // number of points
	top        float64 // value at the top edge
}

// px is the x coordinate of point i; a lone point sits in the middle.
func (p plot) px(i int) float64 {
	if p.n < 2 {
		return p.x + p.w/2
	}
	return p.x + p.w*float64(i)/float64(p.n-1)
}

// py is the y coordinate of value v.
func (p plot) py(v float64) float64 { return p.y + p.h*(1-v/p.top) }

// yAxis draws the gridlines with compact tick labels, baseline last so it
// is drawn over the lighter grid.
func (p plot) yAxis(c *canvas, step float64) {
	ticks := int(math.Round(p.top / step))
	for i := ticks; i >= 0; i-- {
		v := step * float64(i)
		color := colorGrid
		if i == 0 {
			color = colorAxis
		}
		y := num(p.py(v))
		c.printf(`<line x1="%s" x2="%s" y1="%s" y2="%s" style="stroke:%s;stroke-width:1"/>`, num(p.x), num(p.x+p.w), y, y, color)
		c.text(p.x-tickGap, p.py(v), "end", compact(v))
	}
}

// area draws the filled region under the line and the line itself; a single
// point has no line, so it gets a dot instead.
func (p plot) area(c *canvas, vals []float64) {
	color := paletteColor(0)
	if len(vals) == 1 {
		c.printf(`<circle cx="%s" cy="%s" r="3" style="fill:%s"/>`, num(p.px(0)), num(p.py(vals[0])), color)
		return
	}
	// segs is "Lx y" per point: the line is segs with its first L turned
	// into M, the area is segs closed down to the baseline at both ends.
	var segs strings.Builder
	for i, v := range vals {
		fmt.Fprintf(&segs, "L%s %s", num(p.px(i)), num(p.py(v)))
	}
	base := num(p.py(0))
	c.printf(`<path d="M%s %s%sL%s %sZ" style="fill:%s;fill-opacity:%s;stroke:none"/>`,
		num(p.px(0)), base, segs.String(), num(p.px(len(vals)-1)), base, color, areaAlpha)
	c.printf(`<path d="M%s" style="fill:none;stroke:%s;stroke-width:2;stroke-linejoin:round;stroke-linecap:round"/>`,
		segs.String()[1:], color)
}

// xLabels draws the labels chosen by xLabelIndexes. The first is anchored
// at its start and the last at its end so neither spills out of the chart.
func (p plot) xLabels(c *canvas, pts []Point) {
	runes := 0
	for _, pt := range pts {
		runes = max(runes, utf8.RuneCountInString(truncate(pt.Label, xLabelRunes)))
	}
	y := p.y + p.h + padBottom/2
	for _, i := range xLabelIndexes(p.n, p.px(1)-p.px(0), float64(runes)*charWidth) {
		anchor := "middle"
		switch {
		case p.n == 1:
		case i == 0:
			anchor = "start"
		case i == p.n-1:
			anchor = "end"
		}
		c.text(p.px(i), y, anchor, truncate(pts[i].Label, xLabelRunes))
	}
}

// xLabelIndexes picks which of n points get an x label, given the distance
// between neighbouring points and the widest label. It keeps the first,
// labels every s-th point after it, and the last when it fits, with s large
// enough that no more than maxXLabels appear and labels cannot touch.
// Neighbours are kept two label widths apart, which is what the worst pair
// needs: the start-anchored first and the end-anchored last label.
func xLabelIndexes(n int, step, labelW float64) []int {
	if n < 2 {
		return make([]int, n)
	}
	need := 2*labelW + xLabelGap
	// (n-2)/(maxXLabels-1)+1 is ceil((n-1)/(maxXLabels-1)) for n >= 2.
	s := max((n-2)/(maxXLabels-1)+1, int(math.Ceil(need/step)), 1)
	idx := []int{}
	for i := 0; i < n; i += s {
		idx = append(idx, i)
	}
	switch last := idx[len(idx)-1]; {
	case last == n-1:
	case float64(n-1-last)*step >= need:
		idx = append(idx, n-1)
	case last > 0:
		idx[len(idx)-1] = n - 1 // the one before is at least s points back
	}
	return idx
}

// hitRects covers each point's slice of the plot with an invisible rect
// whose title the browser shows on hover. A transparent fill, unlike
// fill:none, still receives pointer events.
func (p plot) hitRects(c *canvas, pts []Point, vals []float64) {
	for i := range vals {
		left, right := p.x, p.x+p.w
		if i > 0 {
			left = (p.px(i-1) + p.px(i)) / 2
		}
		if i < p.n-1 {
			right = (p.px(i) + p.px(i+1)) / 2
		}
		c.printf(`<rect x="%s" y="%s" width="%s" height="%s" style="fill:#000;fill-opacity:0"><title>%s: %s</title></rect>`,
			num(left), num(p.y), num(right-left), num(p.h), esc(pointLabel(pts, i)), exact(vals[i]))
	}
}

// pointLabel names point i for tooltips and the description; unlabeled
// points fall back to their position so the text never starts with ":".
func pointLabel(pts []Point, i int) string {
	if pts[i].Label == "" {
		return fmt.Sprintf("Point %d", i+1)
	}
	return pts[i].Label
}

// seriesDesc summarises the series for screen readers, which cannot see the
// shape: range, total and peak.
func seriesDesc(pts []Point, vals []float64) string {
	total, at := 0.0, 0
	for i, v := range vals {
		total += v
		if v > vals[at] {
			at = i // the first peak
		}
	}
	if len(vals) == 1 {
		return fmt.Sprintf("%s: %s.", pointLabel(pts, 0), exact(vals[0]))
	}
	return fmt.Sprintf("%d points from %s to %s. Total %s, peak %s at %s.",
		len(vals), pointLabel(pts, 0), pointLabel(pts, len(vals)-1), exact(total), exact(vals[at]), pointLabel(pts, at))
}
