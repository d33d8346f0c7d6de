// Package freeport hands tests loopback addresses that a node will listen
// on later (a raft address must be known before the node starts).
//
// Asking the kernel for port 0 and closing the listener is not enough:
// such a port comes from the ephemeral range, which the kernel also hands
// out as the source port of every outgoing connection, so another test
// process's connection could take it before the node binds it ("bind:
// address already in use", seen in CI). Addr picks ports below that range
// instead, at random, and checks each one by binding it.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// lowest is the lowest port Addr picks (well above the usual services).
const lowest = 10000

// Addr returns "127.0.0.1:port" with a port that was free a moment ago
// and that the kernel does not use for outgoing connections.
func Addr(t testing.TB) string {
	t.Helper()
	hi := ephemeralLow()
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", lowest+rand.IntN(hi-lowest))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		return addr
	}
	t.Fatalf("freeport: no free port in [%d, %d) after 200 tries", lowest, hi)
	return ""
}

// ephemeralLow is the first port of the kernel's ephemeral range (32768
// when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > lowest+1000 {
				return n
			}
		}
	}
	return 32768
}
