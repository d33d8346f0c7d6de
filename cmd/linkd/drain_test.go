package main

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// readyStatus is /_/readyz's status code, or 0 when the node does not answer.
func readyStatus(p *proc) int {
	resp, err := http.Get(p.URL + "/_/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// SIGTERM turns the node not ready at once while it keeps serving
// redirects for --drain; then it stops cleanly. A second signal cuts the
// drain short.
func TestSIGTERMDrainsBeforeStopping(t *testing.T) {
	const drain = 3 * time.Second
	p := mustStart(t, t.TempDir(), "--drain", drain.String())
	code := create(context.Background(), p.URL, "https://drain.test")
	if code == "" {
		t.Fatal("create failed")
	}
	start := time.Now()
	p.signal(syscall.SIGTERM)
	eventually(t, drain/2, "readyz 503 after SIGTERM", func() bool { return readyStatus(p) == 503 })
	// Still serving for the rest of the drain (checked up to 1 s before its
	// end, so a loaded machine does not race the stop).
	n := 0
	for time.Since(start) < drain-time.Second {
		if st, loc := location(t, p.URL, code); st != 302 || loc != "https://drain.test" {
			t.Fatalf("while draining, %s answered %d %q", code, st, loc)
		}
		n++
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-p.done:
	case <-time.After(drain + 15*time.Second):
		t.Fatalf("did not stop after the drain:\n%s", p.logs)
	}
	if took := time.Since(start); took < drain {
		t.Fatalf("stopped after %s, before the %s drain", took, drain)
	}
	if c := p.cmd.ProcessState.ExitCode(); c != 0 {
		t.Fatalf("exit %d:\n%s", c, p.logs)
	}
	t.Logf("%d redirects served while draining", n)

	// A second signal skips what is left of a long drain.
	p = mustStart(t, p.dir, "--drain", "1m")
	p.signal(syscall.SIGTERM)
	eventually(t, 10*time.Second, "readyz 503 after SIGTERM", func() bool { return readyStatus(p) == 503 })
	p.stop(t) // the second SIGTERM; stop fails the test after 15 s
}
