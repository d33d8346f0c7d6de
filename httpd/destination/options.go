package destination

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Limits on options, kept together. They bound the size of a compiled
// program and so the work of matching it.
const (
	MaxRules       = 50
	MaxVariants    = 10
	MaxCondValues  = 50 // values in one condition list
	MaxQueryConds  = 10
	maxLangTag     = 15
	maxQueryKeyLen = 64
	maxQueryValLen = 256
)

// Cond is the "if" of a rule. Every non-empty field must hold; a list holds
// when any of its values does.
type Cond struct {
	Device   []string            `json:"device,omitempty"`   // mobile, tablet, desktop
	OS       []string            `json:"os,omitempty"`       // ios, android, windows, macos, linux, chromeos, other
	Language []string            `json:"language,omitempty"` // BCP 47 tags: "de" matches de, de-AT...; "pt-BR" only pt-BR
	Country  []string            `json:"country,omitempty"`  // ISO 3166-1 alpha-2, e.g. "DE"
	Query    map[string][]string `json:"query,omitempty"`    // parameter present, with one of the values if any are listed
	From     string              `json:"from,omitempty"`     // RFC 3339; the rule holds from then on
	Until    string              `json:"until,omitempty"`    // RFC 3339; the rule holds until then
}

// Rule sends visitors for whom If holds to URL.
type Rule struct {
	If  Cond   `json:"if"`
	URL string `json:"url"`
}

// Variant is one destination of an A/B split.
type Variant struct {
	URL    string `json:"url"`
	Weight int    `json:"weight"`
}

// Options are a link's rules and variants, as the API shows them.
type Options struct {
	Rules    []Rule    `json:"rules,omitempty"`
	Variants []Variant `json:"variants,omitempty"`
}

// Devices and operating systems, as bits of a mask. Values are part of the
// compiled encoding: only ever add.
var (
	devices = []string{"mobile", "tablet", "desktop"}
	systems = []string{"ios", "android", "windows", "macos", "linux", "chromeos", "other"}
)

// Device and OS bits.
const (
	DeviceMobile uint8 = 1 << iota
	DeviceTablet
	DeviceDesktop
)

// OS bits, in the order of systems.
const (
	OSiOS uint16 = 1 << iota
	OSAndroid
	OSWindows
	OSMacOS
	OSLinux
	OSChromeOS
	OSOther
)

// FieldError names the option that is wrong, as a JSON path such as
// "rules[2].if.os", and says why.
type FieldError struct {
	Field   string
	Message string
}

// Error implements error.
func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// CheckURL validates and normalises a destination URL (the caller's URL
// rules: schemes, loops, blocklists).
type CheckURL func(string) (string, error)

// Normalize validates o, normalising URLs through check, tags to lower
// case and countries to upper case, and returns the first problem of each
// field. An empty Options is valid and means "no options".
func Normalize(o Options, check CheckURL) (Options, []FieldError) {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	if len(o.Rules) > MaxRules {
		bad("rules", "at most %d rules", MaxRules)
		return o, errs
	}
	if len(o.Variants) > MaxVariants {
		bad("variants", "at most %d variants", MaxVariants)
		return o, errs
	}
	out := Options{}
	for i, r := range o.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		c, ok := normalizeCond(r.If, f+".if", bad)
		u, err := check(r.URL)
		if err != nil {
			bad(f+".url", "%v", err)
			ok = false
		}
		if c.empty() {
			bad(f+".if", "a rule needs at least one condition")
			ok = false
		}
		if ok {
			out.Rules = append(out.Rules, Rule{If: c, URL: u})
		}
	}
	if len(o.Variants) > 0 {
		sum := 0
		for i, v := range o.Variants {
			f := fmt.Sprintf("variants[%d]", i)
			u, err := check(v.URL)
			if err != nil {
				bad(f+".url", "%v", err)
			}
			if v.Weight < 1 || v.Weight > 100 {
				bad(f+".weight", "must be between 1 and 100")
			}
			sum += v.Weight
			out.Variants = append(out.Variants, Variant{URL: u, Weight: v.Weight})
		}
		if len(o.Variants) < 2 {
			bad("variants", "an A/B split needs at least two variants")
		} else if sum != 100 {
			bad("variants", "the weights must add up to 100, not %d", sum)
		}
	}
	return out, errs
}

func (c Cond) empty() bool {
	return len(c.Device) == 0 && len(c.OS) == 0 && len(c.Language) == 0 && len(c.Country) == 0 &&
		len(c.Query) == 0 && c.From == "" && c.Until == ""
}

func normalizeCond(c Cond, f string, bad func(string, string, ...any)) (Cond, bool) {
	ok := true
	fail := func(field, format string, args ...any) { bad(f+"."+field, format, args...); ok = false }
	for _, l := range []struct {
		name string
		n    int
	}{{"device", len(c.Device)}, {"os", len(c.OS)}, {"language", len(c.Language)}, {"country", len(c.Country)}} {
		if l.n > MaxCondValues {
			fail(l.name, "at most %d values", MaxCondValues)
		}
	}
	out := Cond{From: c.From, Until: c.Until}
	for _, d := range c.Device {
		d = strings.ToLower(d)
		if !slices.Contains(devices, d) {
			fail("device", "%q is not one of %s", d, strings.Join(devices, ", "))
		}
		out.Device = appendUnique(out.Device, d)
	}
	for _, s := range c.OS {
		s = strings.ToLower(s)
		if !slices.Contains(systems, s) {
			fail("os", "%q is not one of %s", s, strings.Join(systems, ", "))
		}
		out.OS = appendUnique(out.OS, s)
	}
	for _, l := range c.Language {
		l = strings.ToLower(l)
		if !langTag(l) {
			fail("language", "%q is not a language tag like de or pt-BR", l)
		}
		out.Language = appendUnique(out.Language, l)
	}
	for _, cc := range c.Country {
		cc = strings.ToUpper(cc)
		if len(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
			fail("country", "%q is not a two-letter country code like DE", cc)
		}
		out.Country = appendUnique(out.Country, cc)
	}
	if len(c.Query) > MaxQueryConds {
		fail("query", "at most %d parameters", MaxQueryConds)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Query)) {
		vs := c.Query[k]
		if k == "" || len(k) > maxQueryKeyLen || !queryText(k) {
			fail("query", "parameter name %q must be 1-%d URL-safe characters", k, maxQueryKeyLen)
		}
		if len(vs) > MaxCondValues {
			fail("query", "at most %d values for %q", MaxCondValues, k)
		}
		for _, v := range vs {
			if len(v) > maxQueryValLen || !queryText(v) {
				fail("query", "value %q of %q must be at most %d URL-safe characters", v, k, maxQueryValLen)
			}
		}
		if out.Query == nil {
			out.Query = map[string][]string{}
		}
		out.Query[k] = slices.Compact(slices.Sorted(slices.Values(vs)))
	}
	from, errF := parseTime(c.From)
	until, errU := parseTime(c.Until)
	if errF != nil {
		fail("from", "%v", errF)
	}
	if errU != nil {
		fail("until", "%v", errU)
	}
	if from != 0 && until != 0 && until <= from {
		fail("until", "must be after from")
	}
	return out, ok
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// langTag accepts a lower-cased primary subtag of 2-3 letters, optionally
// followed by subtags of 1-8 letters or digits: "de", "pt-br", "zh-hant-tw".
func langTag(l string) bool {
	if len(l) > maxLangTag {
		return false
	}
	for i, sub := range strings.Split(l, "-") {
		if i == 0 && (len(sub) < 2 || len(sub) > 3) || len(sub) < 1 || len(sub) > 8 {
			return false
		}
		for j := 0; j < len(sub); j++ {
			c := sub[j]
			if !(c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

// queryText accepts the characters a query parameter carries unescaped or
// percent-escaped, compared byte for byte with the raw query.
func queryText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '&' || c == '=' || c == '#' {
			return false
		}
	}
	return true
}

func parseTime(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, errors.New("must be an RFC 3339 time like 2030-01-02T15:04:05Z")
	}
	return t.UnixMilli(), nil
}
