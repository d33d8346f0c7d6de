package httpd_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd"
	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/httpd/ratelimit"
)

// TestMaxConnsPerIP holds connections open from one address: at the cap
// every one is served; one past it is refused with 429 and closed; after
// one closes, a new one is served again.
func TestMaxConnsPerIP(t *testing.T) {
	const max = 4
	n := httpdtest.StartWith(t, httpdtest.Options{MaxConnsPerIP: max})
	addr := strings.TrimPrefix(n.URL, "http://")
	get := func(c net.Conn) string {
		t.Helper()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("GET /_/healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			return "write: " + err.Error()
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return "read: " + err.Error()
		}
		return strings.TrimSpace(line)
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < max; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if got := get(c); got != "HTTP/1.1 200 OK" {
			t.Fatalf("connection %d of %d: %q", i+1, max, got)
		}
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if got := get(extra); !strings.HasPrefix(got, "HTTP/1.1 429") {
		t.Fatalf("connection %d, past the cap of %d: %q", max+1, max, got)
	}
	extra.Close()
	conns[0].Close()
	conns = conns[1:]
	// The server notices the close asynchronously; a new connection is
	// served once it has.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		got := get(c)
		if got == "HTTP/1.1 200 OK" {
			conns = append(conns, c)
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("after closing one connection: %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConsoleWritesShareOneBudget: every console write spends the write
// budget through the route table, including revoking a key (which once
// did not), and logging out while logged out spends only the address's.
func TestConsoleWritesShareOneBudget(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{Limits: httpd.Limits{
		WritesPerKey: ratelimit.PerMinute(1, 3), WritesPerIP: ratelimit.PerMinute(1, 100)}})
	c, _ := n.User(t, "budget@example.com", pw) // making its key spends 1 of 3
	c.Get("/app/keys")
	codes := []int{}
	for i := 0; i < 3; i++ {
		codes = append(codes, c.Post("/app/keys/nosuchkey/delete", nil).Status)
	}
	if codes[0] == http.StatusTooManyRequests || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("revocations answered %v; want the third refused with 429", codes)
	}
	out := n.NewConsole(t)
	out.Get("/app/login")
	if r := out.Post("/app/logout", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("logout while logged out: %d %s", r.Status, r.Body)
	}
}
