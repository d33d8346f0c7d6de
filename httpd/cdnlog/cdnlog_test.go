package cdnlog

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Logpush writes EdgeStartTimestamp as Unix seconds, milliseconds or
// nanoseconds, or RFC 3339, by its timestamp_format option: all read as
// the same instant; anything else rejects the line.
func TestCloudflareTimestamps(t *testing.T) {
	want := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
	for _, ts := range []string{"1796050800", "1796050800000", "1796050800000000000", `"2026-11-30T15:00:00Z"`} {
		line := `{"ClientRequestHost":"sho.rt","ClientRequestURI":"/a","EdgeResponseStatus":302,"EdgeStartTimestamp":` + ts + `,"CacheCacheStatus":"HIT"}`
		var got Line
		var ok bool
		if err := Read(Cloudflare, []byte(line), func(l Line, k bool) { got, ok = l, k }); err != nil || !ok || !got.Time.Equal(want) || !got.Hit {
			t.Fatalf("%s: %v %v %+v", ts, err, ok, got)
		}
	}
	for _, ts := range []string{"0", "-5", `"yesterday"`, "null", `{}`} {
		line := `{"ClientRequestHost":"sho.rt","ClientRequestURI":"/a","EdgeResponseStatus":302,"EdgeStartTimestamp":` + ts + `}`
		n := 0
		Read(Cloudflare, []byte(line), func(_ Line, ok bool) {
			if ok {
				t.Fatalf("%s: accepted", ts)
			}
			n++
		})
		if n != 1 {
			t.Fatalf("%s: %d lines", ts, n)
		}
	}
	if err := Read("splunk", nil, func(Line, bool) {}); !errors.Is(err, ErrFormat) {
		t.Fatal(err)
	}
	if err := Read(Fastly, []byte(strings.Repeat("x", MaxLineBytes+1)), func(Line, bool) {}); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("a line over the limit: %v", err)
	}
	n := 0
	if err := Read(Fastly, []byte(strings.Repeat("x", MaxLineBytes-1)), func(_ Line, ok bool) { n++ }); err != nil || n != 1 {
		t.Fatalf("a line at the limit: %v, %d lines", err, n)
	}
}
