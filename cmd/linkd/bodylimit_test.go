package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vmRSS reads a process's resident set size in bytes from /proc.
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

// TestDeclaredBodiesCostNothing is the attack of issue 12: 40 sockets send
// only the headers of a request to a redirect path declaring a 5.3 MB
// body, and never the body. Each must get 413 at once (from the headers,
// not after the read timeout), and the process must not grow by the
// declared sizes (40 × 5.3 MB = 212 MB): its RSS may rise by < 60 MB.
func TestDeclaredBodiesCostNothing(t *testing.T) {
	const sockets, declared = 40, 5300000
	p := mustStart(t, t.TempDir(), "--max-conns-per-ip", "100")
	addr := strings.TrimPrefix(p.URL, "http://")
	before := vmRSS(t, p.cmd.Process.Pid)
	conns := make([]net.Conn, 0, sockets)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	start := time.Now()
	for i := 0; i < sockets; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /abcdefg HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", declared)
	}
	peak := before
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatalf("socket %d: no answer: %v", i, err)
		}
		if !strings.HasPrefix(line, "HTTP/1.1 413") {
			t.Fatalf("socket %d: %q", i, strings.TrimSpace(line))
		}
		peak = max(peak, vmRSS(t, p.cmd.Process.Pid))
	}
	took := time.Since(start)
	// The sockets stay open: an implementation that reads the bodies
	// would still be holding their buffers now.
	time.Sleep(200 * time.Millisecond)
	peak = max(peak, vmRSS(t, p.cmd.Process.Pid))
	t.Logf("%d sockets declaring %d bytes: all 413 in %s; RSS %d MB before, peak %d MB",
		sockets, declared, took.Round(time.Millisecond), before>>20, peak>>20)
	if growth := peak - before; growth >= 60<<20 {
		t.Fatalf("RSS grew by %d MB", growth>>20)
	}
	if took > 5*time.Second {
		t.Fatalf("the 413s took %s; the server waited for bodies", took)
	}
}
