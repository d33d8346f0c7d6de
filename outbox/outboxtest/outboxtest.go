// Package outboxtest has the HTTP servers that stand at the other end of
// the outbox in tests, over real sockets: a webhook receiver that verifies
// signatures with the Standard Webhooks reference library, and a CDN API
// server that records requests.
package outboxtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Receiver is a webhook receiver: it verifies every request with the
// Standard Webhooks reference library (not linkd's signer), fails the first
// fail requests with 503, and records what it accepted.
type Receiver struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	fail     int
	got      []Received
	attempts []time.Time
	bad      []string
}

// Received is one accepted delivery.
type Received struct {
	ID   string
	Type string
	Data map[string]any
}

// NewReceiver starts a receiver that fails its first fail requests.
func NewReceiver(t testing.TB, fail int) *Receiver {
	r := &Receiver{fail: fail}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, time.Now())
	if r.fail > 0 {
		r.fail--
		w.WriteHeader(503)
		return
	}
	wh, err := standardwebhooks.NewWebhook(r.secret)
	if err == nil {
		err = wh.Verify(body, req.Header)
	}
	if err != nil {
		r.bad = append(r.bad, err.Error())
		w.WriteHeader(400)
		return
	}
	var ev struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		r.bad = append(r.bad, err.Error())
		w.WriteHeader(400)
		return
	}
	r.got = append(r.got, Received{ID: req.Header.Get("webhook-id"), Type: ev.Type, Data: ev.Data})
	w.WriteHeader(204)
}

// SetSecret sets the secret signatures are checked with.
func (r *Receiver) SetSecret(s string) { r.mu.Lock(); r.secret = s; r.mu.Unlock() }

// SetFail makes the next n requests fail with 503.
func (r *Receiver) SetFail(n int) { r.mu.Lock(); r.fail = n; r.mu.Unlock() }

// Events returns the accepted deliveries, in arrival order.
func (r *Receiver) Events() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.got...)
}

// BadSignatures returns why the verifier refused requests.
func (r *Receiver) BadSignatures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

// AttemptTimes returns when each request arrived.
func (r *Receiver) AttemptTimes() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.attempts...)
}

// Recorder is a stand-in CDN API: it records every request (method, host,
// path, auth headers, body) and answers as the real API does.
type Recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string
	at   []time.Time
	// Fail is how many requests to fail with 500 (set before use).
	Fail int
}

// NewRecorder starts a recorder.
func NewRecorder(t testing.TB) *Recorder {
	r := &Recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		auth := req.Header.Get("Authorization") + req.Header.Get("Fastly-Key") + req.Header.Get("X-Ban-Scope")
		r.at = append(r.at, time.Now())
		r.reqs = append(r.reqs, strings.TrimSpace(fmt.Sprintf("%s %s%s %s %s", req.Method, req.Host, req.URL.Path, auth, body)))
		if r.Fail > 0 {
			r.Fail--
			w.WriteHeader(500)
			return
		}
		if strings.HasSuffix(req.URL.Path, "/purge_cache") {
			io.WriteString(w, `{"success":true,"errors":[],"messages":[],"result":{"id":"x"}}`)
			return
		}
		io.WriteString(w, `{"status":"ok","id":"1"}`)
	}))
	t.Cleanup(r.Close)
	return r
}

// SetFail makes the next n requests fail with 500 (safe while serving).
func (r *Recorder) SetFail(n int) { r.mu.Lock(); r.Fail = n; r.mu.Unlock() }

// Times returns when each request arrived, in the order of Requests.
func (r *Recorder) Times() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.at...)
}

// Requests returns every request as "METHOD host/path auth body" (auth:
// the Authorization, Fastly-Key and X-Ban-Scope headers).
func (r *Recorder) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// Host is the recorder's host:port.
func (r *Recorder) Host() string { return strings.TrimPrefix(r.URL, "http://") }
