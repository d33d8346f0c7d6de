package destination

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func checkHTTP(u string) (string, error) {
	if !strings.HasPrefix(u, "https://") {
		return "", errors.New("must be https")
	}
	return u, nil
}

func mustCompile(t testing.TB, o Options) Program {
	t.Helper()
	n, errs := Normalize(o, checkHTTP)
	if len(errs) > 0 {
		t.Fatalf("normalize: %v", errs)
	}
	return Compile(n)
}

// The User-Agent strings are real ones, as browsers sent them in 2025-26.
var agents = map[string]string{
	"iphone":          "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"ipad":            "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
	"android phone":   "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"android tablet":  "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"windows":         "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"mac":             "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"linux firefox":   "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"chromebook":      "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"firefox android": "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
	"curl":            "curl/8.5.0",
}

func TestClassify(t *testing.T) {
	for name, want := range map[string]struct {
		d  uint8
		os uint16
	}{
		"iphone": {DeviceMobile, OSiOS}, "ipad": {DeviceTablet, OSiOS},
		"android phone": {DeviceMobile, OSAndroid}, "android tablet": {DeviceTablet, OSAndroid},
		"firefox android": {DeviceMobile, OSAndroid},
		"windows":         {DeviceDesktop, OSWindows}, "mac": {DeviceDesktop, OSMacOS},
		"linux firefox": {DeviceDesktop, OSLinux}, "chromebook": {DeviceDesktop, OSChromeOS},
		"curl": {DeviceDesktop, OSOther},
	} {
		d, os := Classify([]byte(agents[name]))
		if d != want.d || os != want.os {
			t.Errorf("%s: device %b os %b, want %b %b", name, d, os, want.d, want.os)
		}
	}
}

func TestPreferredLanguage(t *testing.T) {
	buf := make([]byte, 0, maxLangTag)
	for in, want := range map[string]string{
		"de-AT,de;q=0.9,en;q=0.8":       "de-at",
		"en;q=0.5, fr;q=0.9, de;q=0.7":  "fr",
		"en-US,en;q=0.9":                "en-us",
		"*;q=1, es;q=0.1":               "es",
		"de;q=0, en;q=0.001":            "en",
		"pt_BR":                         "pt-br",
		"ja;q=1.0, ko;q=1":              "ja",
		"fr;q=2":                        "",
		"":                              "",
		"x" + strings.Repeat("y", 30):   "",
		"zh-Hant-TW;q=0.8 , zh;q=0.799": "zh-hant-tw",
	} {
		if got := string(PreferredLanguage(buf, []byte(in))); got != want {
			t.Errorf("PreferredLanguage(%q) = %q, want %q", in, got, want)
		}
	}
}

func visitor(ua, lang, country string, query string) *Visitor {
	v := &Visitor{Now: 1_800_000_000_000} // January 2027
	v.Device, v.OS = Classify([]byte(ua))
	v.Lang = PreferredLanguage(nil, []byte(lang))
	copy(v.Country[:], country)
	if query != "" {
		var a fasthttp.Args
		a.Parse(query)
		v.Query = &a
	}
	return v
}

// TestRulesTable sends real User-Agent and Accept-Language strings through
// a rule list, first match wins.
func TestRulesTable(t *testing.T) {
	p := mustCompile(t, Options{Rules: []Rule{
		{If: Cond{OS: []string{"ios"}, Language: []string{"de"}}, URL: "https://apps.apple.com/de/app/x"},
		{If: Cond{OS: []string{"ios"}}, URL: "https://apps.apple.com/app/x"},
		{If: Cond{OS: []string{"android"}, Device: []string{"mobile"}}, URL: "https://play.google.com/x"},
		{If: Cond{Country: []string{"fr", "BE"}}, URL: "https://e.fr/"},
		{If: Cond{Query: map[string][]string{"ref": {"mail", "news"}}}, URL: "https://e.test/newsletter"},
		{If: Cond{Query: map[string][]string{"debug": nil}}, URL: "https://e.test/debug"},
		{If: Cond{From: "2030-01-01T00:00:00Z"}, URL: "https://e.test/future"},
		{If: Cond{Until: "2030-01-01T00:00:00Z", Language: []string{"pt-BR"}}, URL: "https://e.test/br"},
	}})
	for _, c := range []struct {
		ua, lang, country, query string
		want                     string
		rule                     int
	}{
		{agents["iphone"], "de-DE,de;q=0.9", "DE", "", "https://apps.apple.com/de/app/x", 0},
		{agents["ipad"], "en-GB,de;q=0.5", "DE", "", "https://apps.apple.com/app/x", 1},
		{agents["android phone"], "de", "DE", "", "https://play.google.com/x", 2},
		{agents["android tablet"], "en", "FR", "", "https://e.fr/", 3},
		{agents["windows"], "en", "BE", "", "https://e.fr/", 3},
		{agents["windows"], "en", "US", "ref=news&x=1", "https://e.test/newsletter", 4},
		{agents["windows"], "en", "US", "ref=other", "", -1},
		{agents["mac"], "en", "US", "debug", "https://e.test/debug", 5},
		{agents["linux firefox"], "pt-BR,pt;q=0.9", "BR", "", "https://e.test/br", 7},
		{agents["linux firefox"], "pt-PT,pt;q=0.9", "PT", "", "", -1},
		{agents["curl"], "", "", "", "", -1},
	} {
		v := visitor(c.ua, c.lang, c.country, c.query)
		u, ch, ok := Match(p, v)
		if string(u) != c.want || ch.Rule != c.rule || ok != (c.rule >= 0) {
			t.Errorf("%.40s %q %s %q: %q rule %d %v; want %q rule %d", c.ua, c.lang, c.country, c.query, u, ch.Rule, ok, c.want, c.rule)
		}
	}
	// The time window: the "future" rule holds once its time has come.
	v := visitor(agents["curl"], "", "", "")
	v.Now = 1_893_456_000_000 // 2030-01-01T00:00:00Z
	if u, ch, _ := Match(p, v); string(u) != "https://e.test/future" || ch.Rule != 6 {
		t.Errorf("from 2030: %q rule %d", u, ch.Rule)
	}
}

// TestVariantSplit checks that 10,000 visitors split within ±2 points of
// the weights, and that a visitor always gets the same variant.
func TestVariantSplit(t *testing.T) {
	p := mustCompile(t, Options{Variants: []Variant{{"https://a.test/", 50}, {"https://b.test/", 30}, {"https://c.test/", 20}}})
	counts := make([]int, 3)
	for i := 0; i < 10_000; i++ {
		// Visitor hashes as the redirect path makes them: a 64-bit hash
		// of (salt, address, agent, code), here of a counter.
		h := mix(uint64(i))
		_, ch, ok := Match(p, &Visitor{Hash: h})
		if !ok || ch.Variant < 0 {
			t.Fatal("no variant chosen")
		}
		if _, again, _ := Match(p, &Visitor{Hash: h}); again != ch {
			t.Fatal("the same visitor got another variant")
		}
		counts[ch.Variant]++
	}
	for i, w := range []int{50, 30, 20} {
		if got := float64(counts[i]) / 100; math.Abs(got-float64(w)) > 2 {
			t.Errorf("variant %d: %.1f%%, want %d±2", i, got, w)
		}
	}
	// Rules come before variants.
	p = mustCompile(t, Options{Rules: []Rule{{If: Cond{Country: []string{"DE"}}, URL: "https://de.test/"}},
		Variants: []Variant{{"https://a.test/", 50}, {"https://b.test/", 50}}})
	if u, ch, _ := Match(p, &Visitor{Country: [2]byte{'D', 'E'}}); string(u) != "https://de.test/" || ch.Variant != -1 {
		t.Errorf("rule before variants: %q %+v", u, ch)
	}
}

// mix is splitmix64's finaliser.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func TestNormalizeRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		o     Options
		field string
	}{
		"bad device":     {Options{Rules: []Rule{{If: Cond{Device: []string{"watch"}}, URL: "https://e.test"}}}, "rules[0].if.device"},
		"bad os":         {Options{Rules: []Rule{{If: Cond{OS: []string{"beos"}}, URL: "https://e.test"}}}, "rules[0].if.os"},
		"bad language":   {Options{Rules: []Rule{{If: Cond{Language: []string{"german"}}, URL: "https://e.test"}}}, "rules[0].if.language"},
		"bad country":    {Options{Rules: []Rule{{If: Cond{Country: []string{"DEU"}}, URL: "https://e.test"}}}, "rules[0].if.country"},
		"bad query":      {Options{Rules: []Rule{{If: Cond{Query: map[string][]string{"a&b": nil}}, URL: "https://e.test"}}}, "rules[0].if.query"},
		"bad time":       {Options{Rules: []Rule{{If: Cond{From: "tomorrow"}, URL: "https://e.test"}}}, "rules[0].if.from"},
		"backwards time": {Options{Rules: []Rule{{If: Cond{From: "2030-01-02T00:00:00Z", Until: "2030-01-01T00:00:00Z"}, URL: "https://e.test"}}}, "rules[0].if.until"},
		"no condition":   {Options{Rules: []Rule{{URL: "https://e.test"}}}, "rules[0].if"},
		"bad url":        {Options{Rules: []Rule{{If: Cond{OS: []string{"ios"}}, URL: "javascript:x"}}}, "rules[0].url"},
		"weights":        {Options{Variants: []Variant{{"https://a.test", 50}, {"https://b.test", 40}}}, "variants"},
		"one variant":    {Options{Variants: []Variant{{"https://a.test", 100}}}, "variants"},
		"zero weight":    {Options{Variants: []Variant{{"https://a.test", 0}, {"https://b.test", 100}}}, "variants[0].weight"},
		"too many rules": {Options{Rules: make([]Rule, MaxRules+1)}, "rules"},
	} {
		_, errs := Normalize(c.o, checkHTTP)
		if len(errs) == 0 || errs[0].Field != c.field {
			t.Errorf("%s: %v, want an error on %s", name, errs, c.field)
		}
	}
	// At the limits: MaxRules rules and MaxCondValues values are fine.
	o := Options{}
	for i := 0; i < MaxRules; i++ {
		o.Rules = append(o.Rules, Rule{If: Cond{Country: make([]string, 0)}, URL: "https://e.test"})
		for j := 0; j < MaxCondValues; j++ {
			o.Rules[i].If.Country = append(o.Rules[i].If.Country, fmt.Sprintf("%c%c", 'A'+j/26, 'A'+j%26))
		}
	}
	if _, errs := Normalize(o, checkHTTP); len(errs) > 0 {
		t.Fatalf("at the limits: %v", errs)
	}
	o.Rules[0].If.Country = append(o.Rules[0].If.Country, "ZZ")
	if _, errs := Normalize(o, checkHTTP); len(errs) == 0 || errs[0].Field != "rules[0].if.country" {
		t.Fatalf("past the value limit: %v", errs)
	}
}

func TestCompileRoundTrip(t *testing.T) {
	o, errs := Normalize(Options{
		Rules: []Rule{{If: Cond{Device: []string{"Mobile", "tablet"}, OS: []string{"iOS"}, Language: []string{"DE", "pt-br"},
			Country: []string{"de"}, Query: map[string][]string{"b": {"2", "1"}, "a": nil},
			From: "2030-01-01T00:00:00Z", Until: "2031-01-01T00:00:00Z"}, URL: "https://e.test/x"}},
		Variants: []Variant{{"https://a.test", 60}, {"https://b.test", 40}},
	}, checkHTTP)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	back, err := Decompile(Compile(o))
	if err != nil {
		t.Fatal(err)
	}
	// JSON is what the API shows; an empty value list is null either way.
	gotJ, _ := json.Marshal(back)
	wantJ, _ := json.Marshal(o)
	if !bytes.Equal(gotJ, wantJ) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, o)
	}
	if Compile(Options{}) != nil {
		t.Fatal("empty options compile to a program")
	}
}

// TestProgramGolden pins the replicated encoding.
func TestProgramGolden(t *testing.T) {
	p := mustCompile(t, Options{
		Rules:    []Rule{{If: Cond{OS: []string{"ios"}, Language: []string{"de"}, Country: []string{"AT"}, Query: map[string][]string{"r": {"x"}}, From: "2030-01-01T00:00:00Z"}, URL: "https://a.test"}},
		Variants: []Variant{{"https://b.test", 70}, {"https://c.test", 30}},
	})
	const golden = "01012500010102646501415401017201017880d0adac9b6e000e68747470733a2f2f612e7465737402460e68747470733a2f2f622e746573741e0e68747470733a2f2f632e74657374"
	if got := fmt.Sprintf("%x", []byte(p)); got != golden {
		t.Fatalf("encoding changed:\n got %s\nwant %s", got, golden)
	}
}

func TestCorruptPrograms(t *testing.T) {
	p := mustCompile(t, Options{Rules: []Rule{{If: Cond{Language: []string{"de"}}, URL: "https://a.test"}},
		Variants: []Variant{{"https://b.test", 50}, {"https://c.test", 50}}})
	v := visitor(agents["iphone"], "de", "DE", "")
	for i := 0; i <= len(p); i++ {
		q := p[:i]
		Match(q, v) // must not panic
		if _, err := Decompile(q); i < len(p) && i > 0 && err == nil {
			t.Errorf("a program cut at %d decoded", i)
		}
	}
	newer := append(Program{2}, p[1:]...)
	if _, _, ok := Match(newer, v); ok {
		t.Error("a newer program matched")
	}
	if _, err := Decompile(newer); !errors.Is(err, ErrProgram) {
		t.Error("a newer program decompiled")
	}
}

func TestAppendURL(t *testing.T) {
	for _, c := range []struct {
		dest, path, query string
		destWins          bool
		want              string
	}{
		{"https://e.test/a?x=1#top", "", "", true, "https://e.test/a?x=1#top"},
		{"https://e.test/a?x=1#top", "", "utm_source=tw&x=2", true, "https://e.test/a?x=1&utm_source=tw#top"},
		{"https://e.test/a?x=1#top", "", "utm_source=tw&x=2", false, "https://e.test/a?utm_source=tw&x=2#top"},
		{"https://e.test/a", "/b/c", "", true, "https://e.test/a/b/c"},
		{"https://e.test/a/", "/b", "q=%20", true, "https://e.test/a/b?q=%20"},
		{"https://e.test", "/@evil.test", "", true, "https://e.test/@evil.test"},
		{"https://e.test", "@evil.test", "", true, "https://e.test"},
		{"https://e.test/?", "", "a=1", true, "https://e.test/?a=1"},
		{"https://e.test/?a", "", "a=1&b", true, "https://e.test/?a&b"},
	} {
		got := string(AppendURL(nil, []byte(c.dest), []byte(c.path), []byte(c.query), c.destWins))
		if got != c.want {
			t.Errorf("AppendURL(%q, %q, %q, %v) = %q, want %q", c.dest, c.path, c.query, c.destWins, got, c.want)
		}
		if u, err := url.Parse(got); err != nil || u.Host != "e.test" {
			t.Errorf("%q: host %v %v", got, u, err)
		}
	}
}

func TestNoAllocations(t *testing.T) {
	p := tenRules(t)
	v := visitor(agents["linux firefox"], "en", "US", "ref=none")
	buf := make([]byte, 0, 256)
	lang := make([]byte, 0, maxLangTag)
	ua := []byte(agents["android phone"])
	al := []byte("de-AT,de;q=0.9,en;q=0.8")
	if n := testing.AllocsPerRun(100, func() {
		v.Device, v.OS = Classify(ua)
		v.Lang = PreferredLanguage(lang, al)
		u, _, _ := Match(p, v)
		buf = AppendURL(buf[:0], u, []byte("/x"), []byte("a=1&b=2"), true)
	}); n != 0 {
		t.Fatalf("%v allocations per redirect", n)
	}
	if !bytes.HasPrefix(buf, []byte("https://")) {
		t.Fatal(string(buf))
	}
}

// tenRules is a realistic rule list of ten rules that a desktop visitor
// from the US with no query walks to the end of.
func tenRules(t testing.TB) Program {
	var o Options
	for i, c := range []Cond{
		{OS: []string{"ios"}, Language: []string{"de"}}, {OS: []string{"ios"}}, {OS: []string{"android"}},
		{Country: []string{"DE", "AT", "CH"}}, {Country: []string{"FR", "BE"}}, {Language: []string{"ja", "ko", "zh"}},
		{Device: []string{"tablet"}}, {Query: map[string][]string{"ref": {"mail", "news"}}},
		{From: "2030-01-01T00:00:00Z"}, {Device: []string{"mobile"}, Language: []string{"es"}},
	} {
		o.Rules = append(o.Rules, Rule{If: c, URL: fmt.Sprintf("https://e.test/rule/%d", i)})
	}
	o.Variants = []Variant{{"https://a.test/", 50}, {"https://b.test/", 50}}
	return mustCompile(t, o)
}

// BenchmarkMatchTenRules is a rule-bearing redirect's extra work: classify
// the agent and language, walk ten rules to the variants, build the URL.
func BenchmarkMatchTenRules(b *testing.B) {
	p := tenRules(b)
	var a fasthttp.Args
	a.Parse("ref=none&utm_source=x")
	v := &Visitor{Now: 1_800_000_000_000, Hash: 12345, Query: &a}
	copy(v.Country[:], "US")
	ua := []byte(agents["windows"])
	al := []byte("en-US,en;q=0.9")
	buf := make([]byte, 0, 256)
	lang := make([]byte, 0, maxLangTag)
	b.ReportAllocs()
	for b.Loop() {
		v.Device, v.OS = Classify(ua)
		v.Lang = PreferredLanguage(lang, al)
		u, _, _ := Match(p, v)
		buf = AppendURL(buf[:0], u, nil, []byte("utm_source=x"), true)
	}
}

func BenchmarkClassify(b *testing.B) {
	ua := []byte(agents["windows"])
	for b.Loop() {
		Classify(ua)
	}
}

func BenchmarkMatchOnly(b *testing.B) {
	p := tenRules(b)
	v := &Visitor{Now: 1_800_000_000_000, Hash: 12345, Device: DeviceDesktop, OS: OSWindows, Lang: []byte("en-us")}
	for b.Loop() {
		Match(p, v)
	}
}
