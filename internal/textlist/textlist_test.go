package textlist

import (
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	if got := Split(" a, b ,,c ,"); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("%q", got)
	}
	if got := Split(" , "); got != nil {
		t.Fatalf("%q", got)
	}
}
