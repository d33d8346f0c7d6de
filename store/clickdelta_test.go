package store

import (
	"errors"
	"reflect"
	"testing"
)

func sampleDeltas() ([]LinkClicks, []OrphanCount) {
	links := []LinkClicks{
		{Code: "a", Minutes: []ClickBucket{{T: 100, N: 2}, {T: 101, N: 1}},
			Days: []DayClicks{{Day: 1, Humans: 2, Bots: 1, Dims: []DimCount{{Dim: DimCountry, Key: "DE", N: 3}}, Visitors: []byte{1, 2, 3}}}},
		{Code: "ex.test/b", Days: []DayClicks{{Day: 2, Previews: 5}}},
	}
	return links, []OrphanCount{{Day: 1, Host: "sho.rt", N: 4}}
}

// The packed deltas read back as written, empty lists as nil.
func TestClickDeltasRoundTrip(t *testing.T) {
	links, orphans := sampleDeltas()
	gl, gor, err := UnmarshalClickDeltas(MarshalClickDeltas(links, orphans))
	if err != nil || !reflect.DeepEqual(gl, links) || !reflect.DeepEqual(gor, orphans) {
		t.Fatalf("round trip: %v\n%#v %#v", err, gl, gor)
	}
	gl, gor, err = UnmarshalClickDeltas(MarshalClickDeltas(nil, nil))
	if err != nil || gl != nil || gor != nil {
		t.Fatalf("empty: %v %#v %#v", err, gl, gor)
	}
}

// Every truncation, any trailing byte and a newer version are errors, never
// a shorter set of deltas.
func TestClickDeltasRejectDamage(t *testing.T) {
	links, orphans := sampleDeltas()
	b := MarshalClickDeltas(links, orphans)
	for n := range len(b) {
		if _, _, err := UnmarshalClickDeltas(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d of %d bytes: err %v, want ErrCorrupt", n, len(b), err)
		}
	}
	if _, _, err := UnmarshalClickDeltas(append(b[:len(b):len(b)], 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: %v", err)
	}
	newer := append([]byte{recordV1 + 1}, b[1:]...)
	if _, _, err := UnmarshalClickDeltas(newer); !errors.Is(err, ErrNewerRecord) {
		t.Errorf("newer version: %v", err)
	}
}

// A count larger than the bytes left fails before allocating for it: a
// five-byte entry cannot ask for a billion links.
func TestClickDeltasBoundCounts(t *testing.T) {
	b := []byte{recordV1, 0x80, 0x94, 0xeb, 0xdc, 0x03} // uvarint 1e9
	allocs := testing.AllocsPerRun(10, func() {
		if _, _, err := UnmarshalClickDeltas(b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err %v", err)
		}
	})
	if allocs > 2 {
		t.Errorf("%v allocations for a damaged count", allocs)
	}
}

func FuzzClickDeltas(f *testing.F) {
	links, orphans := sampleDeltas()
	f.Add(MarshalClickDeltas(links, orphans))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, o, err := UnmarshalClickDeltas(b)
		if err != nil {
			return
		}
		l2, o2, err := UnmarshalClickDeltas(MarshalClickDeltas(l, o))
		if err != nil || !reflect.DeepEqual(l, l2) || !reflect.DeepEqual(o, o2) {
			t.Fatalf("re-encoding a decoded value changed it: %v", err)
		}
	})
}
