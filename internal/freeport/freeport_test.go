package freeport

import (
	"net"
	"strconv"
	"testing"
)

// Addresses are loopback, below the ephemeral range, and bindable.
func TestAddrOutsideEphemeralRange(t *testing.T) {
	hi := ephemeralLow()
	for range 20 {
		addr := Addr(t)
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("address %q", addr)
		}
		if p, _ := strconv.Atoi(port); p < lowest || p >= hi {
			t.Fatalf("port %d outside [%d, %d)", p, lowest, hi)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("binding %s: %v", addr, err)
		}
		ln.Close()
	}
}
