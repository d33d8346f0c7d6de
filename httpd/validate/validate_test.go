package validate

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

var self = []string{"sho.rt", "localhost:8080"}

func TestURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"https://example.com", "https://example.com", nil},
		{"  https://example.com/x  ", "https://example.com/x", nil},
		{"HTTP://EXAMPLE.com/Path?Q=1#F", "http://example.com/Path?Q=1#F", nil},
		{"https://e.test/a%20b?x=%2F&y=é#frag", "https://e.test/a%20b?x=%2F&y=é#frag", nil},
		{"http://[::1]:8080/", "http://[::1]:8080/", nil},
		{"https://bücher.example/", "https://bücher.example/", nil},
		{"https://192.0.2.1:8443/x", "https://192.0.2.1:8443/x", nil},
		{"https://sho.rt.example.com/", "https://sho.rt.example.com/", nil},
		{"", "", ErrURLEmpty},
		{"   ", "", ErrURLEmpty},
		{"javascript:alert(1)", "", ErrURLScheme},
		{"data:text/html,hi", "", ErrURLScheme},
		{"ftp://e.test/", "", ErrURLScheme},
		{"//example.com", "", ErrURLScheme},
		{"example.com", "", ErrURLScheme},
		{"http://", "", ErrURLHost},
		{"http:example.com", "", ErrURLParse},
		{"http://user:pass@x.com", "", ErrURLUserinfo},
		{"http://x.com/a b", "", ErrURLControl},
		{"http://x.com/\x00", "", ErrURLControl},
		{"http://x.com/\x7f", "", ErrURLControl},
		{"http://x.com:99999/", "", ErrURLHost},
		{"http://x.com:0/", "", ErrURLHost},
		{"http://-x.com/", "", ErrURLHost},
		{"http://x_y.com/", "", ErrURLHost},
		{"http://%65x.com/", "", ErrURLParse},
		{"http://[1.2.3.4]/", "", ErrURLParse},
		{"https://" + strings.Repeat("a", MaxURLLen) + ".com", "", ErrURLTooLong},
		{"https://sho.rt/abc", "", ErrURLLoop},
		{"http://SHO.RT:80/abc", "", ErrURLLoop},
		{"http://localhost:8080/x", "", ErrURLLoop},
		{"http://localhost:9090/x", "http://localhost:9090/x", nil},
	} {
		got, err := URL(tc.in, self)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("URL(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestAlias(t *testing.T) {
	for in, want := range map[string]error{
		"my-Link_1": nil, "abc": nil, strings.Repeat("a", 64): nil,
		"ab": ErrAliasLength, strings.Repeat("a", 65): ErrAliasLength,
		"a/b": ErrAliasChars, "a.b": ErrAliasChars, "a b": ErrAliasChars, "héllo": ErrAliasChars,
		"API": ErrAliasReserved, "admin": ErrAliasReserved, "Login": ErrAliasReserved, "static": ErrAliasReserved,
	} {
		if err := Alias(in); !errors.Is(err, want) {
			t.Errorf("Alias(%q) = %v, want %v", in, err, want)
		}
	}
}

func TestHandle(t *testing.T) {
	for in, want := range map[string]struct {
		out string
		err error
	}{
		"Jane.Doe": {"jane.doe", nil}, "j_d_9": {"j_d_9", nil},
		"ab": {"", ErrHandleLength}, strings.Repeat("a", 31): {"", ErrHandleLength},
		".jane": {"", ErrHandleChars}, "jane.": {"", ErrHandleChars}, "ja..ne": {"", ErrHandleChars},
		"ja-ne": {"", ErrHandleChars}, "admin": {"", ErrHandleReserved},
	} {
		got, err := Handle(in)
		if got != want.out || !errors.Is(err, want.err) {
			t.Errorf("Handle(%q) = %q, %v", in, got, err)
		}
	}
}

func TestTitleAndTags(t *testing.T) {
	if got, err := Title("  Hello, wörld  "); err != nil || got != "Hello, wörld" {
		t.Errorf("Title: %q %v", got, err)
	}
	for _, bad := range []string{strings.Repeat("x", 257), "a\nb", "a\tb", "\xff"} {
		if _, err := Title(bad); err == nil {
			t.Errorf("Title(%q) accepted", bad)
		}
	}
	got, err := Tags([]string{" News ", "news", "été", "a.b-c_d"})
	if err != nil || strings.Join(got, ",") != "news,été,a.b-c_d" {
		t.Errorf("Tags: %v %v", got, err)
	}
	if got, err := Tags(nil); err != nil || len(got) != 0 {
		t.Errorf("Tags(nil): %v %v", got, err)
	}
	for _, bad := range [][]string{{""}, {"a b"}, {strings.Repeat("x", 41)}, make([]string, 21)} {
		if _, err := Tags(bad); err == nil {
			t.Errorf("Tags(%q) accepted", bad)
		}
	}
}

func FuzzURL(f *testing.F) {
	for _, s := range []string{"https://example.com/a?b#c", "HTTP://X.COM", "http://[::1]:80/", "javascript:x", "http://a@b", "https://bücher.example/ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := URL(s, self)
		if err != nil {
			return
		}
		again, err := URL(got, self)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
		if !strings.HasPrefix(got, "http://") && !strings.HasPrefix(got, "https://") || len(got) > MaxURLLen {
			t.Fatalf("accepted %q", got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] <= ' ' || got[i] == 0x7f {
				t.Fatalf("control character in %q", got)
			}
		}
	})
}

func FuzzAlias(f *testing.F) {
	for _, s := range []string{"abc", "my-Link_1", "a/b", "API"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Alias(s) != nil {
			return
		}
		if len(s) < MinAliasLen || len(s) > MaxAliasLen || strings.IndexFunc(s, func(r rune) bool { return !isAliasChar(r) }) >= 0 {
			t.Fatalf("accepted alias %q", s)
		}
	})
}

func FuzzHandle(f *testing.F) {
	for _, s := range []string{"jane.doe", "J_D", "..", "admin"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Handle(s)
		if err != nil {
			return
		}
		if again, err := Handle(h); err != nil || again != h || !utf8.ValidString(h) || len(h) > MaxHandle {
			t.Fatalf("Handle(%q) = %q, not stable", s, h)
		}
	})
}
