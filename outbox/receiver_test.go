package outbox_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/internal/wire"
	"github.com/linkd/linkd/outbox/webhook"
)

// eventually polls cond until it holds or the timeout passes.
var eventually = httpdtest.Eventually

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
