package validate

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

var self = []string{"sho.rt", "localhost:8080", "[::1]:8081", "127.0.0.1:9000", "Example.ORG:443"}

// pad returns prefix followed by 'a's up to n bytes.
func pad(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }

var urlCases = []struct {
	name, in, want string
	err            error
}{
	// Accepted, normalised.
	{"plain", "https://example.com", "https://example.com", nil},
	{"trim", " \t\r\n https://example.com/x \v\f\n", "https://example.com/x", nil},
	{"lowercase scheme and host", "HTTP://EXAMPLE.com/Path?Q=1#F", "http://example.com/Path?Q=1#F", nil},
	{"mixed case kept after host", "HtTpS://Example.COM:8443/A%2Fb?X=Y&z=%41#Frag", "https://example.com:8443/A%2Fb?X=Y&z=%41#Frag", nil},
	{"escapes kept", "https://e.test/a%20b?x=%2F&y=é#frag", "https://e.test/a%20b?x=%2F&y=é#frag", nil},
	{"odd but valid path", "http://x.com//a/../b/./c;p?a=b@c&&#x#y", "http://x.com//a/../b/./c;p?a=b@c&&#x#y", nil},
	{"at sign in query", "http://x.com?u=a@b", "http://x.com?u=a@b", nil},
	{"at sign in fragment", "http://x.com#a@b", "http://x.com#a@b", nil},
	{"ipv6 with port", "http://[::1]:8082/", "http://[::1]:8082/", nil},
	{"ipv6 without port", "http://[::1]/", "http://[::1]/", nil},
	{"ipv6 lowercased", "http://[2001:DB8::A]/X", "http://[2001:db8::a]/X", nil},
	{"ipv4", "https://192.0.2.1:8443/x", "https://192.0.2.1:8443/x", nil},
	{"idn", "https://bücher.example/", "https://xn--bcher-kva.example/", nil},
	{"idn lowercased", "https://BÜCHER.Example/Ü", "https://xn--bcher-kva.example/Ü", nil},
	{"idn punycode", "https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/", nil},
	{"idn with marks", "https://हिन्दी.भारत/", "https://xn--j2bd4cyah0f.xn--h2brj9c/", nil},
	{"idn cjk", "https://例え.テスト/", "https://xn--r8jz45g.xn--zckzah/", nil},
	{"idn with port and trailing dot", "https://Bücher.example.:8443/", "https://xn--bcher-kva.example.:8443/", nil},
	{"homograph cyrillic a", "https://pаypal.com/", "https://xn--pypal-4ve.com/", nil},
	{"loopback on another port", "http://127.0.0.1:3000/", "http://127.0.0.1:3000/", nil},
	{"nip.io on another port", "http://127.0.0.1.nip.io:3000/", "http://127.0.0.1.nip.io:3000/", nil},
	{"nip.io elsewhere", "http://192.0.2.7.nip.io:8080/", "http://192.0.2.7.nip.io:8080/", nil},
	{"trailing dot", "https://example.com./", "https://example.com./", nil},
	{"single label", "http://intranet/x", "http://intranet/x", nil},
	{"digits in labels", "http://1a.2b.c3/", "http://1a.2b.c3/", nil},
	{"port 65535", "http://x.com:65535/", "http://x.com:65535/", nil},
	{"port 1", "http://x.com:1/", "http://x.com:1/", nil},
	{"subdomain of self", "https://sho.rt.example.com/", "https://sho.rt.example.com/", nil},
	{"self name on other port", "http://sho.rt:8443/", "http://sho.rt:8443/", nil},
	{"self port differs", "http://localhost:9090/x", "http://localhost:9090/x", nil},
	{"self 443 on other port", "https://example.org:8443/", "https://example.org:8443/", nil},
	{"max length", pad("https://e.com/", MaxURLLen), pad("https://e.com/", MaxURLLen), nil},

	// Empty.
	{"empty", "", "", ErrURLEmpty},
	{"blank", " \t\r\n ", "", ErrURLEmpty},

	// Too long.
	{"8KiB+1", pad("https://e.com/", MaxURLLen+1), "", ErrURLTooLong},
	{"long host", "https://" + strings.Repeat("a", MaxURLLen) + ".com", "", ErrURLTooLong},
	{"long after lowercasing", pad("https://Ⱥ.example/", MaxURLLen), "", ErrURLTooLong}, // Ⱥ is 2 bytes, ⱥ 3

	// Scheme.
	{"javascript", "javascript:alert(1)", "", ErrURLScheme},
	{"javascript mixed case", "JaVaScRiPt:alert(1)", "", ErrURLScheme},
	{"javascript slashes", "javascript://x.com/%0aalert(1)", "", ErrURLScheme},
	{"data", "data:text/html,<script>alert(1)</script>", "", ErrURLScheme},
	{"data bare", "data:", "", ErrURLScheme},
	{"ftp", "ftp://example.com/", "", ErrURLScheme},
	{"file", "file:///etc/passwd", "", ErrURLScheme},
	{"mailto", "mailto:a@example.com", "", ErrURLScheme},
	{"scheme-relative", "//example.com", "", ErrURLScheme},
	{"no scheme", "example.com", "", ErrURLScheme},
	{"relative path", "/a/b", "", ErrURLScheme},
	{"https typo", "htps://example.com", "", ErrURLScheme},

	// No authority.
	{"opaque", "http:example.com", "", ErrURLParse},
	{"one slash", "http:/example.com", "", ErrURLParse},

	// Userinfo.
	{"user and password", "http://user:pass@x.com", "", ErrURLUserinfo},
	{"user", "http://user@x.com/", "", ErrURLUserinfo},
	{"empty user", "http://@x.com/", "", ErrURLUserinfo},
	{"spoofing user", "https://sho.rt@evil.example/", "", ErrURLUserinfo},

	// Whitespace and control characters inside.
	{"space", "http://x.com/a b", "", ErrURLControl},
	{"nul", "http://x.com/\x00", "", ErrURLControl},
	{"nul in host", "http://x\x00.com/", "", ErrURLControl},
	{"del", "http://x.com/\x7f", "", ErrURLControl},
	{"tab inside", "http://x.com/\ta", "", ErrURLControl},
	{"crlf injection", "http://x.com/\r\nSet-Cookie: a=b", "", ErrURLControl},
	{"escape char", "http://x.com/\x1b[31m", "", ErrURLControl},
	{"nbsp", "http://x.com/a\u00a0b", "", ErrURLControl},
	{"c1 control", "http://x.com/a\u0085b", "", ErrURLControl},
	{"line separator", "http://x.com/a\u2028b", "", ErrURLControl},
	{"ideographic space", "http://x.com/a\u3000b", "", ErrURLControl},

	// Malformed.
	{"invalid utf-8", "http://x.com/\xff", "", ErrURLParse},
	{"bad escape", "http://x.com/%zz", "", ErrURLParse},
	{"escape in host", "http://%65x.com/", "", ErrURLParse},
	{"ipv4 in brackets", "http://[1.2.3.4]/", "", ErrURLParse},
	{"unclosed bracket", "http://[::1/", "", ErrURLParse},
	{"port not numeric", "http://x.com:8a/", "", ErrURLParse},

	// Host and port.
	{"no host", "http://", "", ErrURLHost},
	{"no host with path", "https:///path", "", ErrURLHost},
	{"port only", "http://:80/", "", ErrURLHost},
	{"port too big", "http://example.com:99999/", "", ErrURLHost},
	{"port 65536", "http://x.com:65536/", "", ErrURLHost},
	{"port 0", "http://x.com:0/", "", ErrURLHost},
	{"empty port", "http://x.com:/", "", ErrURLHost},
	{"leading hyphen", "http://-x.com/", "", ErrURLHost},
	{"trailing hyphen", "http://x-.com/", "", ErrURLHost},
	{"underscore", "http://x_y.com/", "", ErrURLHost},
	{"empty label", "http://a..b/", "", ErrURLHost},
	{"leading dot", "http://.x.com/", "", ErrURLHost},
	{"two trailing dots", "http://x.com../", "", ErrURLHost},
	{"label too long", "http://" + strings.Repeat("a", 64) + ".com/", "", ErrURLHost},
	{"name too long", "http://" + strings.Repeat("a.", 127) + "com/", "", ErrURLHost},
	{"symbol", "http://x!y.com/", "", ErrURLHost},
	{"escaped idn", "http://b%C3%BCcher.example/", "", ErrURLHost},
	{"ipv6 zone", "http://[fe80::1%25eth0]/", "", ErrURLHost},
	{"short ipv4", "http://127.1/", "", ErrURLHost},
	{"hex ipv4", "http://0x7f.0.0.1/", "", ErrURLHost},
	{"integer ipv4", "http://2130706433/", "", ErrURLHost},
	{"octal ipv4", "http://0177.0.0.1/", "", ErrURLHost},
	{"ipv4 out of range", "http://256.1.1.1/", "", ErrURLHost},
	{"fullwidth", "http://ｓｈｏ.ｒｔ/", "", ErrURLHost},
	{"long s", "http://ſho.rt/", "", ErrURLHost},
	{"kelvin sign", "http://\u212Aelvin.example/", "", ErrURLHost},
	{"dotted capital I", "http://İstanbul.example/", "", ErrURLHost},
	{"math letters", "http://𝐬𝐡𝐨.rt/", "", ErrURLHost},
	{"ligature", "http://ﬁle.example/", "", ErrURLHost},
	{"leading mark", "http://\u0301a.example/", "", ErrURLHost},
	{"emoji", "http://😀.example/", "", ErrURLHost},

	// Loops onto a self host.
	{"loop", "https://sho.rt/abc", "", ErrURLLoop},
	{"loop http", "http://sho.rt/abc", "", ErrURLLoop},
	{"loop mixed case port 80", "http://SHO.RT:80/abc", "", ErrURLLoop},
	{"loop port 443", "https://sho.rt:443/", "", ErrURLLoop},
	{"loop trailing dot", "https://sho.rt./x", "", ErrURLLoop},
	{"loop with port", "http://localhost:8080/x", "", ErrURLLoop},
	{"loop with port upper", "HTTP://LOCALHOST:8080", "", ErrURLLoop},
	{"loop port leading zero", "http://localhost:08080/", "", ErrURLLoop},
	{"loop ipv6", "http://[::1]:8081/", "", ErrURLLoop},
	{"loop ipv4", "http://127.0.0.1:9000/x", "", ErrURLLoop},
	{"loop ipv4-mapped ipv6", "http://[::ffff:127.0.0.1]:9000/", "", ErrURLLoop},
	{"loop self :443 without port", "http://example.org/", "", ErrURLLoop},
	// Other names of a loopback self host ("localhost:8080" above).
	{"loop other loopback name", "http://[::1]:8080/", "", ErrURLLoop},
	{"loop 127.0.0.2", "http://127.0.0.2:8080/", "", ErrURLLoop},
	{"loop unspecified", "http://0.0.0.0:8080/", "", ErrURLLoop},
	{"loop localhost subdomain", "http://app.localhost:8080/", "", ErrURLLoop},
	{"loop localtest.me", "http://x.localtest.me:8080/", "", ErrURLLoop},
	{"loop nip.io dotted", "http://127.0.0.1.nip.io:8080/", "", ErrURLLoop},
	{"loop nip.io dashed", "http://app-127-0-0-1.nip.io:8080/", "", ErrURLLoop},
	{"loop nip.io hex", "http://7f000001.nip.io:8080/", "", ErrURLLoop},
	{"loop sslip.io ipv6", "http://0--1.sslip.io:8080/", "", ErrURLLoop},
	{"sslip.io leading hyphen", "http://--1.sslip.io:8080/", "", ErrURLHost},
	{"bad punycode", "http://xn--a.example/", "", ErrURLHost},
	{"loop self :443 on https", "https://EXAMPLE.org/", "", ErrURLLoop},
}

func TestURL(t *testing.T) {
	for _, tc := range urlCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := URL(tc.in, self)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("URL(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
			}
			if err != nil {
				return
			}
			if again, err := URL(got, self); again != got || err != nil {
				t.Fatalf("URL(%q) = %q, %v; not idempotent", got, again, err)
			}
		})
	}
}

func TestURLSelfHosts(t *testing.T) {
	for _, tc := range []struct {
		self []string
		in   string
		loop bool
	}{
		{nil, "https://sho.rt/", false},
		{[]string{}, "https://sho.rt/", false},
		{[]string{""}, "https://sho.rt/", false},
		{[]string{"sho.rt"}, "https://sho.rt/", true},
		{[]string{"SHO.RT."}, "https://sho.rt/", true},
		{[]string{"sho.rt:80"}, "https://sho.rt/", true},
		{[]string{"sho.rt:443"}, "http://sho.rt/", true},
		{[]string{"sho.rt"}, "http://sho.rt:443/", true},
		{[]string{"sho.rt"}, "http://sho.rt:8080/", false},
		{[]string{"sho.rt:8080"}, "http://sho.rt/", false},
		{[]string{"sho.rt:8080"}, "http://sho.rt:8080/", true},
		{[]string{"sho.rt:bad"}, "http://sho.rt/", true},
		{[]string{"https://Sho.rt/"}, "http://sho.rt/a", true},
		{[]string{"::1"}, "http://[::1]/", true},
		{[]string{"[::1]"}, "http://[0:0::1]:443/", true},
		{[]string{"[::1]:8080"}, "http://[::1]:8081/", false},
		{[]string{"127.0.0.1"}, "http://[::ffff:7f00:1]/", true},
		{[]string{"bücher.example"}, "https://BÜCHER.example/", true},
		{[]string{"bücher.example"}, "https://xn--bcher-kva.example/", true},
		{[]string{"xn--bcher-kva.example"}, "https://bücher.example/", true},
		{[]string{"192.0.2.7:8080"}, "http://192-0-2-7.sslip.io:8080/", true},
		{[]string{"localhost:8080"}, "http://127.0.0.1.nip.io:8080/", true},
		{[]string{"sho.rt"}, "http://localhost/", false},
		{[]string{"other.example", "sho.rt"}, "https://sho.rt/", true},
	} {
		_, err := URL(tc.in, tc.self)
		if loop := errors.Is(err, ErrURLLoop); loop != tc.loop || !loop && err != nil {
			t.Errorf("URL(%q, %q): %v; want loop %v", tc.in, tc.self, err, tc.loop)
		}
	}
}

func TestErrorsDistinct(t *testing.T) {
	all := []error{
		ErrURLEmpty, ErrURLTooLong, ErrURLParse, ErrURLScheme, ErrURLUserinfo, ErrURLControl, ErrURLHost, ErrURLLoop,
		ErrAliasLength, ErrAliasChars, ErrAliasReserved, ErrHandleLength, ErrHandleChars, ErrHandleReserved,
		ErrTitleTooLong, ErrTitleControl, ErrTooManyTags, ErrTagInvalid,
	}
	seen := map[string]bool{}
	for _, e := range all {
		msg := e.Error()
		if msg == "" || seen[msg] {
			t.Errorf("error message %q empty or duplicated", msg)
		}
		seen[msg] = true
	}
}

func TestAlias(t *testing.T) {
	for _, tc := range []struct {
		in  string
		err error
	}{
		{"my-Link_1", nil},
		{"abc", nil},
		{"ABC", nil},
		{"---", nil},
		{"_x_", nil},
		{"apis", nil},
		{strings.Repeat("a", MaxAliasLen), nil},
		{"", ErrAliasLength},
		{"ab", ErrAliasLength},
		{"é", ErrAliasLength},
		{strings.Repeat("a", MaxAliasLen+1), ErrAliasLength},
		{"a/b", ErrAliasChars},
		{"a.b", ErrAliasChars},
		{"a b", ErrAliasChars},
		{"ab+", ErrAliasChars},
		{"@abc", ErrAliasChars},
		{"abc?", ErrAliasChars},
		{"ab%2F", ErrAliasChars},
		{"héllo", ErrAliasChars},
		{"abc\x00", ErrAliasChars},
		{"\xff\xfe\xfd", ErrAliasChars},
		{"ａｂｃ", ErrAliasChars},
		{"API", ErrAliasReserved},
		{"api", ErrAliasReserved},
		{"admin", ErrAliasReserved},
		{"Login", ErrAliasReserved},
		{"STATIC", ErrAliasReserved},
		{"well-known", ErrAliasReserved},
		{"LinkD", ErrAliasReserved},
	} {
		if err := Alias(tc.in); !errors.Is(err, tc.err) {
			t.Errorf("Alias(%q) = %v, want %v", tc.in, err, tc.err)
		}
	}
}

func TestReserved(t *testing.T) {
	if !slices.IsSorted(reservedWords) {
		t.Error("reservedWords is not sorted")
	}
	if len(slices.Compact(slices.Clone(reservedWords))) != len(reservedWords) {
		t.Error("reservedWords has duplicates")
	}
	for _, w := range reservedWords {
		if w != strings.ToLower(w) {
			t.Errorf("reserved word %q is not lowercase", w)
		}
	}
	required := strings.Fields(`api app admin login logout signup register _ static assets health healthz
		readyz metrics status favicon.ico robots.txt sitemap.xml well-known .well-known www mail help about
		docs terms privacy settings account dashboard console profile profiles u p s l qr new edit delete
		link links user users root support abuse security linkd`)
	for _, w := range required {
		for _, v := range []string{w, strings.ToUpper(w), strings.ToUpper(w[:1]) + w[1:]} {
			if !Reserved(v) {
				t.Errorf("Reserved(%q) = false", v)
			}
		}
	}
	for _, w := range []string{"", "apis", "my-link", "linkd2", "api/", " api", "ＡＰＩ"} {
		if Reserved(w) {
			t.Errorf("Reserved(%q) = true", w)
		}
	}
}

func TestHandle(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"Jane.Doe", "jane.doe", nil},
		{"j_d_9", "j_d_9", nil},
		{"abc", "abc", nil},
		{"9lives", "9lives", nil},
		{"jane_", "jane_", nil},
		{"a.b.c", "a.b.c", nil},
		{"a._b", "a._b", nil},
		{strings.Repeat("z", MaxHandleLen), strings.Repeat("z", MaxHandleLen), nil},
		{"", "", ErrHandleLength},
		{"ab", "", ErrHandleLength},
		{"éé", "", ErrHandleLength},
		{strings.Repeat("a", MaxHandleLen+1), "", ErrHandleLength},
		{".jane", "", ErrHandleChars},
		{"_jane", "", ErrHandleChars},
		{"jane.", "", ErrHandleChars},
		{"ja..ne", "", ErrHandleChars},
		{"ja-ne", "", ErrHandleChars},
		{"ja ne", "", ErrHandleChars},
		{"@jane", "", ErrHandleChars},
		{"jané", "", ErrHandleChars},
		{"\u212Aate", "", ErrHandleChars}, // Kelvin sign lowercases to ASCII k
		{"İnci", "", ErrHandleChars},
		{"ｊａｎｅ", "", ErrHandleChars},
		{"jane\x00", "", ErrHandleChars},
		{"admin", "", ErrHandleReserved},
		{"ADMIN", "", ErrHandleReserved},
		{"Favicon.ICO", "", ErrHandleReserved},
		{"linkd", "", ErrHandleReserved},
	} {
		got, err := Handle(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Handle(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestTitle(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"", "", nil},
		{"   ", "", nil},
		{"Hello", "Hello", nil},
		{"  Hello, wörld  ", "Hello, wörld", nil},
		{"\tHi there\r\n", "Hi there", nil},
		{"👩‍💻 dev", "👩‍💻 dev", nil}, // zero-width joiner
		{"العربية", "العربية", nil},
		{strings.Repeat("x", MaxTitleLen), strings.Repeat("x", MaxTitleLen), nil},
		{" " + strings.Repeat("x", MaxTitleLen) + " ", strings.Repeat("x", MaxTitleLen), nil},
		{strings.Repeat("x", MaxTitleLen+1), "", ErrTitleTooLong},
		{strings.Repeat("é", MaxTitleLen/2+1), "", ErrTitleTooLong},
		{"a\nb", "", ErrTitleControl},
		{"a\rb", "", ErrTitleControl},
		{"a\tb", "", ErrTitleControl},
		{"a\x00b", "", ErrTitleControl},
		{"a\x1bb", "", ErrTitleControl},
		{"a\x7fb", "", ErrTitleControl},
		{"a\u0085b", "", ErrTitleControl},
		{"a\u2028b", "", ErrTitleControl},
		{"a\u202Eb", "", ErrTitleControl},
		{"a\u2066b", "", ErrTitleControl},
		{"\xff", "", ErrTitleControl},
		{"ok \xc3", "", ErrTitleControl},
	} {
		got, err := Title(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Title(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestTags(t *testing.T) {
	many := func(n int) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = "t" + strings.Repeat("x", i)
		}
		return s
	}
	for _, tc := range []struct {
		in   []string
		want []string
		err  error
	}{
		{nil, []string{}, nil},
		{[]string{}, []string{}, nil},
		{[]string{" News ", "news", "NEWS", "été", "a.b-c_d"}, []string{"news", "été", "a.b-c_d"}, nil},
		{[]string{"b", "a", "b", "c", "a"}, []string{"b", "a", "c"}, nil},
		{[]string{"Go", "v1.2", "2024", "हिन्दी", "日本語"}, []string{"go", "v1.2", "2024", "हिन्दी", "日本語"}, nil},
		{[]string{strings.Repeat("é", MaxTagLen)}, []string{strings.Repeat("é", MaxTagLen)}, nil},
		{many(MaxTags), many(MaxTags), nil},
		{many(MaxTags + 1), nil, ErrTooManyTags},
		{make([]string, MaxTags+1), nil, ErrTooManyTags},
		{[]string{""}, nil, ErrTagInvalid},
		{[]string{"  "}, nil, ErrTagInvalid},
		{[]string{"ok", "a b"}, nil, ErrTagInvalid},
		{[]string{"a/b"}, nil, ErrTagInvalid},
		{[]string{"#tag"}, nil, ErrTagInvalid},
		{[]string{"c++"}, nil, ErrTagInvalid},
		{[]string{"a\nb"}, nil, ErrTagInvalid},
		{[]string{"\u0301a"}, nil, ErrTagInvalid},
		{[]string{"😀"}, nil, ErrTagInvalid},
		{[]string{"\xff"}, nil, ErrTagInvalid},
		{[]string{strings.Repeat("x", MaxTagLen+1)}, nil, ErrTagInvalid},
	} {
		got, err := Tags(tc.in)
		if !errors.Is(err, tc.err) || !slices.Equal(got, tc.want) || (err == nil) != (got != nil) {
			t.Errorf("Tags(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func FuzzURL(f *testing.F) {
	for _, tc := range urlCases {
		f.Add(tc.in)
	}
	for _, s := range []string{
		"https://example.com/a?b#c", "HTTP://X.COM", "http://[::1]:80/", "http://a@b", "https://bücher.example/ü",
		"http://Ⱥ.example/", "http://ǅ.example/", "http://ß.example/", "http://[::FFFF:1.2.3.4]:0443/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := URL(s, self)
		if err != nil {
			return
		}
		if again, err := URL(got, self); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
		if again, err := URL(got, nil); err != nil || again != got {
			t.Fatalf("depends on self hosts: %q -> %q, %v", got, again, err)
		}
		if !strings.HasPrefix(got, "http://") && !strings.HasPrefix(got, "https://") || len(got) > MaxURLLen {
			t.Fatalf("accepted %q", got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 in %q", got)
		}
		for _, r := range got {
			if r <= ' ' || r == 0x7f || unicode.IsControl(r) || unicode.IsSpace(r) {
				t.Fatalf("control character or space in %q", got)
			}
		}
		u, err := url.Parse(got)
		if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
			t.Fatalf("result %q does not parse as an absolute URL: %v", got, err)
		}
		// Everything after the authority is kept byte for byte; the
		// authority itself is ASCII (punycode for international names).
		after := got[strings.Index(got, "://")+3:]
		if auth, _, _ := strings.Cut(after, "/"); strings.IndexFunc(auth, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
			t.Fatalf("%q -> %q has a non-ASCII host", s, got)
		}
		if i := strings.IndexAny(after, "/?#"); i >= 0 && !strings.HasSuffix(strings.Trim(s, asciiSpace), after[i:]) {
			t.Fatalf("%q -> %q changed the path, query or fragment", s, got)
		}
	})
}

func FuzzAlias(f *testing.F) {
	for _, s := range []string{"abc", "my-Link_1", "a/b", "API", "ab", "héllo", strings.Repeat("a", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Alias(s) != nil {
			return
		}
		if len(s) < MinAliasLen || len(s) > MaxAliasLen || strings.IndexFunc(s, func(r rune) bool { return !isAliasChar(r) }) >= 0 {
			t.Fatalf("accepted alias %q", s)
		}
		if Reserved(s) {
			t.Fatalf("accepted reserved alias %q", s)
		}
	})
}

func FuzzHandle(f *testing.F) {
	for _, s := range []string{"jane.doe", "J_D", "..", "admin", "a..b", "abc.", "_abc", "\u212Aate", "İnci"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Handle(s)
		if err != nil {
			return
		}
		if again, err := Handle(h); err != nil || again != h {
			t.Fatalf("Handle(%q) = %q, not stable", s, h)
		}
		if h != strings.ToLower(s) || len(h) < MinHandleLen || len(h) > MaxHandleLen || Reserved(h) {
			t.Fatalf("Handle(%q) = %q", s, h)
		}
		for i := 0; i < len(h); i++ {
			c := h[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
				t.Fatalf("Handle(%q) = %q", s, h)
			}
		}
		if h[0] == '_' || h[0] == '.' || h[len(h)-1] == '.' || strings.Contains(h, "..") {
			t.Fatalf("Handle(%q) = %q", s, h)
		}
	})
}

func FuzzTitle(f *testing.F) {
	for _, s := range []string{"Hello", " x ", "a\nb", "\xff", "a\u202Eb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Title(s)
		if err != nil {
			return
		}
		if again, err := Title(got); err != nil || again != got {
			t.Fatalf("Title(%q) = %q, not stable", s, got)
		}
		if len(got) > MaxTitleLen || !utf8.ValidString(got) || strings.IndexFunc(got, unicode.IsControl) >= 0 {
			t.Fatalf("Title(%q) = %q", s, got)
		}
	})
}

func FuzzTags(f *testing.F) {
	f.Add("News", " news ", "été")
	f.Add("a b", "", "x")
	f.Add("İ", "ǅ", "\u0301")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		got, err := Tags([]string{a, b, c})
		if err != nil {
			return
		}
		if again, err := Tags(got); err != nil || !slices.Equal(again, got) {
			t.Fatalf("Tags(%q) = %q, not stable: %q, %v", []string{a, b, c}, got, again, err)
		}
		for i, tag := range got {
			if tag == "" || utf8.RuneCountInString(tag) > MaxTagLen || slices.Contains(got[:i], tag) {
				t.Fatalf("Tags(%q) = %q", []string{a, b, c}, got)
			}
		}
	})
}

func TestDomainHost(t *testing.T) {
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 32) + ".rt" // 99
	for in, want := range map[string]string{
		"Sho.RT": "sho.rt", "sho.rt.": "sho.rt", " links.example ": "links.example",
		"bücher.example": "xn--bcher-kva.example", long: long, long + "x": long + "x",
	} {
		if got, err := DomainHost(in); err != nil || got != want {
			t.Errorf("DomainHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "sho.rt:8080", "127.0.0.1", "[::1]", "::1", "http://sho.rt", "sho.rt/x",
		"a..b", "-a.rt", "under_score.rt", "1.2.3.4", "0x7f.1", long + "xy", "\u212aelvin.rt"} {
		if got, err := DomainHost(in); err == nil {
			t.Errorf("DomainHost(%q) = %q, want an error", in, got)
		}
	}
}
