package clientaddr

import (
	"net/netip"
	"testing"
)

func TestResolve(t *testing.T) {
	ps, err := Parse("10.0.0.0/8, 192.168.1.7/32")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ peer, fwd, want string }{
		{"203.0.113.9", "198.51.100.1", "203.0.113.9"},             // untrusted peer: header ignored
		{"10.1.2.3", "198.51.100.1", "198.51.100.1"},               // trusted peer
		{"10.1.2.3", "198.51.100.1, 10.9.9.9", "198.51.100.1"},     // trusted hops skipped
		{"10.1.2.3", "6.6.6.6, 198.51.100.1", "198.51.100.1"},      // the rightmost untrusted wins
		{"10.1.2.3", "garbage, 10.2.2.2", "10.1.2.3"},              // unparsable hop ends the walk
		{"10.1.2.3", "", "10.1.2.3"},                               // nothing forwarded
		{"::ffff:10.1.2.3", "::ffff:198.51.100.1", "198.51.100.1"}, // mapped addresses
		{"192.168.1.7", "2001:db8::1", "2001:db8::1"},              // single-address prefix, IPv6 client
	} {
		if got := ps.Resolve(netip.MustParseAddr(c.peer), c.fwd); got.String() != c.want {
			t.Errorf("Resolve(%s, %q) = %s, want %s", c.peer, c.fwd, got, c.want)
		}
	}
	if _, err := Parse("10.0.0.0/33"); err == nil {
		t.Error("a bad prefix parsed")
	}
}

// TestOneHeader: only the configured header is ever read, and "none"
// believes no header at all.
func TestOneHeader(t *testing.T) {
	ps := MustParse("10.0.0.0/8")
	if ps.Header() != HeaderXFF {
		t.Errorf("default header %q, want %q", ps.Header(), HeaderXFF)
	}
	for name, want := range map[string]string{"CF-Connecting-IP": HeaderCF, "x-real-ip": HeaderXRealIP, "none": "", "X-Forwarded-For": HeaderXFF} {
		got, err := ps.WithHeader(name)
		if err != nil || got.Header() != want {
			t.Errorf("WithHeader(%q) = %q, %v; want %q", name, got.Header(), err, want)
		}
	}
	if _, err := ps.WithHeader("forwarded"); err == nil {
		t.Error("an unknown header was accepted")
	}
	none, _ := ps.WithHeader("none")
	if got := none.Resolve(netip.MustParseAddr("10.1.2.3"), "198.51.100.1"); got.String() != "10.1.2.3" {
		t.Errorf("with no header, Resolve = %s, want the peer", got)
	}
}
