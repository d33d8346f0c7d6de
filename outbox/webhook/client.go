package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// Delivery bounds.
const (
	// MaxURLLen bounds an endpoint URL.
	MaxURLLen = 2048
	// DefaultTimeout bounds one delivery attempt (dial, request, response).
	DefaultTimeout = 10 * time.Second
	// maxResponseRead is how much of a receiver's response is read (and
	// discarded) before the connection is closed.
	maxResponseRead = 64 << 10
	// maxErrorLen bounds the error text kept in the delivery log.
	maxErrorLen = 200
)

// ErrPrivateAddress means an endpoint resolves to, or was about to be
// dialled at, an address linkd refuses without --webhooks-allow-private.
var ErrPrivateAddress = errors.New("address is loopback, private, link-local, multicast or unspecified")

// cgnat is the shared address space (RFC 6598), as internal as RFC 1918.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Refused reports whether ip is an address webhooks may not reach unless
// private addresses are allowed.
func Refused(ip netip.Addr) bool {
	ip = ip.Unmap()
	return !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || cgnat.Contains(ip) ||
		ip.Is4() && ip.As4()[0] == 0
}

// Policy is where webhooks may go.
type Policy struct {
	// AllowPrivate lets endpoints reach loopback and private addresses
	// (--webhooks-allow-private: tests and private networks).
	AllowPrivate bool
	// Resolver resolves host names at registration; nil is the default.
	Resolver *net.Resolver
}

// CheckURL validates an endpoint URL: http or https, a host, no user
// info, at most MaxURLLen, and (unless AllowPrivate) every address its host
// resolves to is public. The client checks the address again when it
// dials, so a name that resolves elsewhere later is refused then.
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	if len(raw) > MaxURLLen {
		return fmt.Errorf("url is longer than %d bytes", MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return errors.New("url must be an absolute http or https URL")
	}
	if u.User != nil {
		return errors.New("url must not carry user info")
	}
	if u.Fragment != "" {
		return errors.New("url must not carry a fragment")
	}
	if p.AllowPrivate {
		return nil
	}
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := r.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil {
		return fmt.Errorf("url host does not resolve: %w", err)
	}
	for _, ip := range ips {
		if Refused(ip) {
			return fmt.Errorf("url host resolves to %s: %w", ip.Unmap(), ErrPrivateAddress)
		}
	}
	return nil
}

// Client delivers webhooks. Its dialer refuses private addresses at
// connect time (a net.Dialer Control hook sees the address actually
// dialled, whatever DNS answered), it uses no proxy from the environment,
// follows no redirect, and bounds time and the response it reads.
type Client struct {
	hc *http.Client
}

// NewClient returns a client for p; timeout 0 is DefaultTimeout.
func NewClient(p Policy, timeout time.Duration) *Client {
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	d := &net.Dialer{Timeout: timeout}
	if !p.AllowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || Refused(ap.Addr()) {
				return fmt.Errorf("dial %s: %w", address, ErrPrivateAddress)
			}
			return nil
		}
	}
	tr := &http.Transport{Proxy: nil, DialContext: d.DialContext, TLSHandshakeTimeout: timeout,
		ResponseHeaderTimeout: timeout, MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second,
		MaxResponseHeaderBytes: 16 << 10}
	return &Client{hc: &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Message is one signed delivery.
type Message struct {
	URL, Secret, ID string
	Body            []byte
}

// Send posts m, signed at now. It returns the response status (0 if
// none) and an error unless the receiver answered 2xx.
func (c *Client) Send(ctx context.Context, m Message, now time.Time) (int, error) {
	ts := now.Unix()
	sig, err := Sign(m.Secret, m.ID, ts, m.Body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "linkd-webhooks")
	req.Header.Set("webhook-id", m.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxResponseRead)
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// ErrorText shortens an error for the delivery log.
func ErrorText(err error) string {
	s := err.Error()
	if len(s) > maxErrorLen {
		s = s[:maxErrorLen]
	}
	return s
}
