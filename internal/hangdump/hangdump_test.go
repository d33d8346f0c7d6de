package hangdump

import (
	"bytes"
	"testing"
	"time"
)

// A goroutine blocked in this module's code is in the report; the report
// leaves out goroutines that run none of it (nor raft's).
func TestReportKeepsOnlyModuleGoroutines(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	go parkedHere(block)
	time.Sleep(50 * time.Millisecond)
	r := Report(time.Minute)
	if !bytes.Contains(r, []byte("hangdump.parkedHere")) {
		t.Fatalf("the parked goroutine is missing from the report:\n%s", r)
	}
	for _, g := range bytes.Split(r, []byte("\n\n")) {
		if bytes.HasPrefix(g, []byte("goroutine ")) && !bytes.Contains(g, []byte(module)) && !bytes.Contains(g, []byte(raftPkg)) {
			t.Errorf("goroutine outside the module in the report:\n%s", g)
		}
	}
}

func parkedHere(c chan struct{}) { <-c }
