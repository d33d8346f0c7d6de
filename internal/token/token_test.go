package token

import (
	"strings"
	"testing"
)

func TestFormats(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		for _, s := range []string{API(), Invite(), Session(), ID()} {
			if seen[s] {
				t.Fatalf("%q made twice", s)
			}
			seen[s] = true
		}
	}
	if a := API(); !strings.HasPrefix(a, APIPrefix) || len(a) != len(APIPrefix)+48 {
		t.Errorf("API token %q", a)
	}
	if s := Session(); len(s) != 43 {
		t.Errorf("session token %q", s)
	}
	if id := ID(); len(id) != 16 {
		t.Errorf("id %q", id)
	}
}
