package outbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/internal/wire"
	"github.com/linkd/linkd/outbox/webhook"
)

// receiver is a webhook receiver: it verifies every request with the
// Standard Webhooks reference library (not linkd's signer), fails the first
// fail requests with 503, and records what it accepted.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	fail     int
	got      []received
	attempts []time.Time
	bad      []string
}

type received struct {
	ID   string
	Type string
	Data map[string]any
}

func newReceiver(t *testing.T, fail int) *receiver {
	r := &receiver{fail: fail}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
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
	r.got = append(r.got, received{ID: req.Header.Get("webhook-id"), Type: ev.Type, Data: ev.Data})
	w.WriteHeader(204)
}

func (r *receiver) setSecret(s string) { r.mu.Lock(); r.secret = s; r.mu.Unlock() }

func (r *receiver) setFail(n int) { r.mu.Lock(); r.fail = n; r.mu.Unlock() }

func (r *receiver) events() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) badSignatures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

func (r *receiver) attemptTimes() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.attempts...)
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startNode starts a test node whose outbox allows private addresses (the
// receivers listen on 127.0.0.1) and retries fast.
func startNode(t *testing.T, ob wire.Outbox) *httpdtest.Node {
	if ob.Backoff == 0 {
		ob.Backoff = 20 * time.Millisecond
	}
	return httpdtest.StartWith(t, httpdtest.Options{Outbox: ob})
}

var allowPrivate = webhook.Policy{AllowPrivate: true}

// hook registers an endpoint through the API and returns its id and secret.
func hook(t *testing.T, n *httpdtest.Node, body string) (id, secret string) {
	t.Helper()
	r := n.Do("POST", "/api/v1/webhooks", []byte(body))
	if r.Status != 201 {
		t.Fatalf("POST /api/v1/webhooks %s: %d %s", body, r.Status, r.Body)
	}
	var w struct{ ID, Secret string }
	if err := json.Unmarshal(r.Body, &w); err != nil || w.Secret == "" {
		t.Fatalf("answer %s: %v", r.Body, err)
	}
	return w.ID, w.Secret
}

func mustDo(t *testing.T, n *httpdtest.Node, want int, method, path, body string) []byte {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	r := n.Do(method, path, b)
	if r.Status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	return r.Body
}

func jsonDo(t *testing.T, n *httpdtest.Node, want int, method, path, body string, v any) {
	t.Helper()
	if err := json.Unmarshal(mustDo(t, n, want, method, path, body), v); err != nil {
		t.Fatal(err)
	}
}
