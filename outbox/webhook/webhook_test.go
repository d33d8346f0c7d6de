package webhook

import (
	"net/netip"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Every internal address form is refused; public ones are not.
func TestRefused(t *testing.T) {
	for _, a := range []string{"127.0.0.1", "127.1.2.3", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
		"fe80::1", "fc00::1", "fd12::1", "0.0.0.0", "::", "0.1.2.3", "100.64.0.1", "224.0.0.1", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254"} {
		if !Refused(netip.MustParseAddr(a)) {
			t.Errorf("%s is not refused", a)
		}
	}
	for _, a := range []string{"93.184.216.34", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "100.128.0.1"} {
		if Refused(netip.MustParseAddr(a)) {
			t.Errorf("%s is refused", a)
		}
	}
}

// Sign agrees with the Standard Webhooks reference library both ways,
// and refuses malformed secrets.
func TestSignMatchesReference(t *testing.T) {
	secret := NewSecret()
	body := []byte(`{"type":"link.created","timestamp":"2026-01-01T00:00:00Z","data":{}}`)
	ts := time.Unix(1767225600, 0)
	ours, err := Sign(secret, "msg_1_0", ts.Unix(), body)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := wh.Sign("msg_1_0", ts, body)
	if err != nil || theirs != ours {
		t.Fatalf("signature %q, reference %q (%v)", ours, theirs, err)
	}
	for _, bad := range []string{"", "secret", "whsec_", "whsec_!!!", "whsec_c2hvcnQ=", NewSecret() + "AAAA"} {
		if CheckSecret(bad) == nil {
			t.Errorf("secret %q accepted", bad)
		}
	}
}
