// Package hangdump turns a test binary that is about to hit go test's
// -timeout into a short, readable report.
//
// When a test hangs, go test panics at the deadline and prints every
// goroutine of the process: thousands of lines of raft, Pebble and HTTP
// internals, of which a CI log keeps only the tail. The goroutines that
// explain a hang are the few running this module's code (the stuck test
// and what it waits on), and they are rarely in that tail. Run arms a
// timer shortly before the deadline that prints only those goroutines,
// each with how long it has been blocked, and exits; the CI tail is then
// the report.
package hangdump

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// module is the import path prefix of the code a report keeps.
const module = "github.com/linkd/linkd/"

// raftPkg is kept too: a node's Close waits on raft's own goroutines
// (raft.Shutdown), which run none of linkd's code, and a hung shutdown is
// explained only by where they are.
const raftPkg = "github.com/hashicorp/raft."

// Run runs the tests of m under the watchdog and returns their exit code;
// call it from TestMain in place of m.Run.
func Run(m *testing.M) int {
	flag.Parse()
	if d := deadline(); d > 0 {
		t := time.AfterFunc(d, func() {
			os.Stderr.Write(Report(d))
			os.Exit(2)
		})
		defer t.Stop()
	}
	return m.Run()
}

// deadline returns when, after start, the report is due: 30 s before go
// test's -timeout (a tenth of it for short timeouts); 0 without a timeout.
func deadline() time.Duration {
	f := flag.Lookup("test.timeout")
	if f == nil {
		return 0
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return 0
	}
	timeout, _ := g.Get().(time.Duration)
	if timeout <= 0 {
		return 0
	}
	return timeout - min(30*time.Second, timeout/10)
}

// Report returns the goroutines that run this module's code or raft's (the
// watchdog's own excepted), after a line saying why.
func Report(after time.Duration) []byte {
	buf := make([]byte, 64<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out bytes.Buffer
	fmt.Fprintf(&out, "\nhangdump: tests still running after %s, close to go test's -timeout; the goroutines in %s and %s code:\n\n", after, module, raftPkg)
	n, all := 0, 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		all++
		keep := bytes.Contains(g, []byte(module)) || bytes.Contains(g, []byte(raftPkg))
		if !keep || bytes.Contains(g, []byte(module+"internal/hangdump.Run.func")) {
			continue
		}
		out.Write(g)
		out.WriteString("\n\n")
		n++
	}
	fmt.Fprintf(&out, "hangdump: %d goroutines shown (of %d); exiting instead of go test's full dump\n", n, all)
	return out.Bytes()
}
