package httpd_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// Once a node drains (SIGTERM, before it stops), it reports not ready and
// every response closes its connection, so that a proxy keeping
// connections open holds none when the node stops; before, connections
// are kept alive.
func TestDrainingClosesEveryConnection(t *testing.T) {
	n := httpdtest.Start(t, "")
	keepsAlive := func() bool {
		t.Helper()
		c, err := net.Dial("tcp", strings.TrimPrefix(n.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("GET /_/healthz HTTP/1.1\r\nHost: sho.rt\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("healthz: %d", resp.StatusCode)
		}
		return !resp.Close
	}
	if !keepsAlive() {
		t.Fatal("a response before draining closed the connection")
	}
	n.Drain()
	if keepsAlive() {
		t.Fatal("a response while draining kept the connection open")
	}
	if r := n.Do("GET", "/_/readyz", nil); r.Status != 503 {
		t.Fatalf("readyz while draining: %d", r.Status)
	}
}
