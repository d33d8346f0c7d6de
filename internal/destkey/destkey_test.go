package destkey

import "testing"

func TestOf(t *testing.T) {
	for raw, want := range map[string]Parts{
		"https://Evil.Example/a/b/?x=1#f": {Host: "evil.example", Key: "evil.example/a/b"},
		"http://evil.example:8080/a":      {Host: "evil.example", Key: "evil.example/a"},
		"https://evil.example.":           {Host: "evil.example", Key: "evil.example"},
		"https://evil.example/":           {Host: "evil.example", Key: "evil.example"},
		"https://[2001:db8::1]:443/p?q":   {Host: "2001:db8::1", Key: "2001:db8::1/p"},
		"https://user@evil.example/a%2Fb": {Host: "evil.example", Key: "evil.example/a%2Fb"},
	} {
		got, ok := Of(raw)
		if !ok || got != want {
			t.Errorf("Of(%q) = %+v, %v; want %+v", raw, got, ok, want)
		}
	}
	for _, bad := range []string{"", "not a url", "mailto:a@b", "/relative"} {
		if _, ok := Of(bad); ok {
			t.Errorf("Of(%q) ok", bad)
		}
	}
}

func TestSuffixesAndRegistrable(t *testing.T) {
	var got []string
	Suffixes("a.b.evil.co.uk", func(s string) bool { got = append(got, s); return true })
	if len(got) != 5 || got[0] != "a.b.evil.co.uk" || got[2] != "evil.co.uk" || got[4] != "uk" {
		t.Errorf("Suffixes = %v", got)
	}
	for in, want := range map[string]string{"www.Evil.co.uk": "evil.co.uk", "x.y.example.com": "example.com",
		"10.0.0.1": "10.0.0.1", "co.uk": "co.uk"} {
		if got := Registrable(in); got != want {
			t.Errorf("Registrable(%q) = %q, want %q", in, got, want)
		}
	}
}
