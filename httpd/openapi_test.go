package httpd_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/linkd/linkd/httpd/api"
	"github.com/linkd/linkd/httpd/httpdtest"
)

// TestOpenAPIServed: the description is served without a token, verbatim.
func TestOpenAPIServed(t *testing.T) {
	n := httpdtest.Start(t, "")
	r := n.Do("GET", "/api/v1/openapi.json", nil, "Authorization", "")
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" || !bytes.Equal(r.Body, api.OpenAPI) {
		t.Fatalf("GET /api/v1/openapi.json: %d %q, %d bytes", r.Status, r.Header.Get("Content-Type"), len(r.Body))
	}
	var doc struct{ OpenAPI string }
	if err := json.Unmarshal(r.Body, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("not an OpenAPI 3.1 document: %v %q", err, doc.OpenAPI)
	}
	if r := n.Do("POST", "/api/v1/openapi.json", []byte(`{}`), "Authorization", ""); r.Status != 401 {
		t.Fatalf("POST without a token: %d", r.Status)
	}
}
