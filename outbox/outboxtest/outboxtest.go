// Package outboxtest has the test doubles of the outbox's counterparts
// that tests run for real over HTTP: a webhook receiver that verifies
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

func (r *Receiver) SetSecret(s string) { r.mu.Lock(); r.secret = s; r.mu.Unlock() }

func (r *Receiver) SetFail(n int) { r.mu.Lock(); r.fail = n; r.mu.Unlock() }

func (r *Receiver) Events() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.got...)
}

func (r *Receiver) BadSignatures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

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
	// Fail is how many requests to fail with 500 (set before use).
	Fail int
}

func NewRecorder(t testing.TB) *Recorder {
	r := &Recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		auth := req.Header.Get("Authorization") + req.Header.Get("Fastly-Key")
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

func (r *Recorder) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

func (r *Recorder) Host() string { return strings.TrimPrefix(r.URL, "http://") }
