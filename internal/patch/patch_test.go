package patch

import "testing"

func TestSet(t *testing.T) {
	s, v := "old", "new"
	Set(&s, nil)
	if s != "old" {
		t.Fatalf("nil changed the value: %q", s)
	}
	Set(&s, &v)
	if s != "new" {
		t.Fatalf("a given value was not set: %q", s)
	}
}
