package svgchart

import (
	"math"
	"strconv"
	"strings"
)

// num formats a coordinate with at most two decimals: enough precision for
// any screen, short enough to keep 1,000-point paths small. It never emits
// NaN, Inf or "-0", which would make the SVG invalid or noisy.
func num(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0"
	}
	f = math.Round(f*100) / 100
	if f == 0 {
		return "0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// trimmed formats v with at most prec decimals and no trailing zeros.
func trimmed(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// compact formats an axis value briefly (950, 1.2k, 3.4M), because tick
// labels must fit the narrow left margin.
func compact(v float64) string {
	const units = "kMBT"
	// Values that would round up to "1000" move to the next unit instead.
	const rollover = 999.95
	v = cleanValue(v)
	u := -1
	for v >= rollover && u < len(units)-1 {
		v /= 1000
		u++
	}
	if u < 0 {
		return trimmed(v, 1)
	}
	return trimmed(v, 1) + units[u:u+1]
}

// exact formats a value in full with thousands separators (1,234,567), for
// tooltips and bar ends where the reader wants the precise count.
// Unlike compact it does not cap v, so totals above maxValue stay right.
func exact(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		v = 0
	}
	whole, frac, _ := strings.Cut(trimmed(v, 2), ".")
	if frac == "" {
		return group(whole)
	}
	return group(whole) + "." + frac
}

// count formats a uint64 count in full with thousands separators.
func count(n uint64) string { return group(strconv.FormatUint(n, 10)) }

// group inserts a comma every three digits of a string of digits.
func group(digits string) string {
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

// niceMax rounds v up on a 1-2-5 scale (1, 2, 5, 10, 20, 50, ...), so the y
// axis ends on a round number. Anything up to 1 becomes 1: a chart of
// clicks never needs a finer axis, and 0 must not divide anything.
func niceMax(v float64) float64 {
	v = cleanValue(v)
	if v <= 1 {
		return 1
	}
	mag := math.Pow10(int(math.Floor(math.Log10(v))))
	// Log10 may be off by one ulp around powers of ten; the 10 candidate
	// absorbs an underestimate and 1 an overestimate.
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= v {
			return m * mag
		}
	}
	return 10 * mag
}

// tickStep picks the spacing of y gridlines for a niceMax result: top/5 for
// 1s and 5s, top/4 for 2s, giving 4-5 labelled lines above the baseline.
// For whole-number data the step never drops below 1, so small counts get
// axes of 0, 1, 2 rather than 0.2, 0.4.
func tickStep(top float64, integral bool) float64 {
	mag := math.Pow10(int(math.Floor(math.Log10(top))))
	step := top / 5
	if m := math.Round(top / mag); m == 2 || m == 20 {
		step = top / 4
	}
	if integral && step < 1 {
		step = 1
	}
	return step
}
