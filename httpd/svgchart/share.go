package svgchart

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Share renders a single 100%-wide stacked bar of parts (e.g. humans / bots /
// previews / QR scans) with a legend under it showing label, count and percentage;
// colors come from a fixed accessible palette; zero total renders "No data".
//
// Percentages are rounded to one decimal so that they add up to exactly
// 100.0%. Parts with a zero count appear only in the legend.
func Share(title string, parts []Bar, width int) template.HTML {
	w := clampSize(width, minWidth)
	total := 0.0
	for _, p := range parts {
		total += float64(p.Value) // float64: a uint64 sum could wrap
	}
	if total == 0 {
		return emptyChart(title, emptyData, w, emptyHeight)
	}
	pcts := tenths(parts, total)
	var c canvas
	shareBar(&c, parts, pcts, total, float64(w-2*padSide))
	rows := legend(&c, parts, pcts, w)
	h := padSide + shareBarHeight + legendTop + rows*legendRow + padSide
	return finish(title, shareDesc(parts, pcts), w, h, c.b.String())
}

// shareBar draws one segment per non-zero part. Segment edges come from
// running totals, so rounding never leaves a gap or overruns the bar; a thin
// separator in the page background keeps similar colors apart.
func shareBar(c *canvas, parts []Bar, pcts []int, total, span float64) {
	run := 0.0
	for i, p := range parts {
		if p.Value == 0 {
			continue
		}
		x0 := padSide + span*run/total
		run += float64(p.Value)
		x1 := padSide + span*run/total
		c.printf(`<rect x="%s" y="%d" width="%s" height="%d" style="fill:%s;stroke:%s;stroke-width:1"><title>%s: %s (%s)</title></rect>`,
			num(x0), padSide, num(x1-x0), shareBarHeight, paletteColor(i), colorSep, esc(p.Label), count(p.Value), percent(pcts[i]))
	}
}

// legend lays the entries out left to right, wrapping like text when the
// next one would not fit, and returns the number of rows used.
func legend(c *canvas, parts []Bar, pcts []int, w int) int {
	x, row := float64(padSide), 0
	for i, p := range parts {
		label := fmt.Sprintf("%s %s (%s)", truncate(p.Label, legendRunes), count(p.Value), percent(pcts[i]))
		itemW := swatchSize + swatchGap + float64(utf8.RuneCountInString(label))*charWidth
		if x > padSide && x+itemW > float64(w-padSide) {
			x, row = padSide, row+1
		}
		mid := float64(padSide + shareBarHeight + legendTop + row*legendRow + legendRow/2)
		c.printf(`<rect x="%s" y="%s" width="%d" height="%d" rx="2" style="fill:%s"/>`,
			num(x), num(mid-swatchSize/2), swatchSize, swatchSize, paletteColor(i))
		c.text(x+swatchSize+swatchGap, mid, "start", label)
		x += itemW + legendItemGap
	}
	return row + 1
}

// tenths gives each part's share in tenths of a percent, using the largest
// remainder method so the shares add up to exactly 1000 (100.0%): naive
// rounding can show 33.3% three times, which readers notice.
func tenths(parts []Bar, total float64) []int {
	out := make([]int, len(parts))
	rem := make([]float64, len(parts))
	order := make([]int, len(parts))
	left := 1000
	for i, p := range parts {
		share := float64(p.Value) * 1000 / total
		out[i] = int(math.Floor(share))
		rem[i] = share - float64(out[i])
		order[i] = i
		left -= out[i]
	}
	// Stable, so equal remainders favour earlier parts: deterministic.
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case rem[a] > rem[b]:
			return -1
		case rem[a] < rem[b]:
			return 1
		}
		return 0
	})
	for k := 0; k < left && k < len(order); k++ {
		out[order[k]]++
	}
	return out
}

// percent formats tenths of a percent, e.g. 805 as "80.5%".
func percent(t int) string { return fmt.Sprintf("%d.%d%%", t/10, t%10) }

// shareDesc lists every part in words, since screen readers cannot compare
// segment widths.
func shareDesc(parts []Bar, pcts []int) string {
	items := make([]string, len(parts))
	for i, p := range parts {
		items[i] = fmt.Sprintf("%s %s (%s)", p.Label, count(p.Value), percent(pcts[i]))
	}
	return strings.Join(items, ", ") + "."
}
