package validate

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLinkURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"mailto:ada@example.com", "mailto:ada@example.com"},
		{"  MAILTO:Ada.Lovelace+bio@Example.COM ", "mailto:Ada.Lovelace+bio@example.com"},
		{"mailto:o'brien@example.com", "mailto:o'brien@example.com"},
		{"mailto:ada@bücher.example", "mailto:ada@xn--bcher-kva.example"},
		{"tel:+49 (30) 123.456", "tel:+4930123456"},
		{"TEL:0301234", "tel:0301234"},
		{"https://example.com/x", "https://example.com/x"},
		{"https://bücher.example/", "https://xn--bcher-kva.example/"},
	} {
		got, err := LinkURL(c.in, self)
		if err != nil || got != c.want {
			t.Errorf("LinkURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if again, err := LinkURL(got, self); again != got || err != nil {
			t.Errorf("LinkURL(%q) = %q, %v; not idempotent", got, again, err)
		}
	}
	for in, want := range map[string]error{
		// The findings of the security review: quotes and Unicode line,
		// paragraph and bidi characters went into Location verbatim.
		`mailto:"a b"@example.com`:          ErrMailto,
		"mailto:a\u0085b@example.com":       ErrMailto,
		"mailto:a\u2028b@example.com":       ErrMailto,
		"mailto:\u202emoc.elpmaxe@ada":      ErrMailto,
		"mailto:ada@exa\u202emple.com":      ErrMailto,
		"mailto:Ada <ada@example.com>":      ErrMailto,
		"mailto:ada@example.com,b@e.com":    ErrMailto,
		"mailto:ada@example.com?subject=hi": ErrMailto,
		"mailto:ada%40x@example.com":        ErrMailto,
		"mailto:.ada@example.com":           ErrMailto,
		"mailto:a..da@example.com":          ErrMailto,
		"mailto:ada@127.0.0.1":              ErrMailto,
		"mailto:ada@":                       ErrMailto,
		"mailto:":                           ErrMailto,
		"mailto:ada@-x.com":                 ErrMailto,
		"mailto:" + pad("", 65) + "@e.com":  ErrMailto,
		"tel:12":                            ErrTel,
		"tel:+1 555 CALL NOW":               ErrTel,
		"tel:+1\u2028555":                   ErrTel,
		"javascript:alert(1)":               ErrURLScheme,
		"http://sho.rt/":                    ErrURLLoop,
	} {
		if got, err := LinkURL(in, self); !errors.Is(err, want) {
			t.Errorf("LinkURL(%q) = %q, %v; want %v", in, got, err, want)
		}
	}
}

func FuzzLinkURL(f *testing.F) {
	for _, s := range []string{"mailto:ada@example.com", "tel:+1 (555) 010", "mailto:\"x\"@e.com", "mailto:a@bücher.example", "https://e.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := LinkURL(s, self)
		if err != nil {
			return
		}
		if again, err := LinkURL(got, self); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
		if strings.HasPrefix(got, "mailto:") || strings.HasPrefix(got, "tel:") {
			for i := 0; i < len(got); i++ {
				if c := got[i]; c <= ' ' || c >= utf8.RuneSelf || c == '"' || c == '<' || c == '>' || c == '\\' {
					t.Fatalf("%q -> %q carries %q", s, got, c)
				}
			}
		}
	})
}
