package httpdtest

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/linkd/linkd/httpd/api/apispec"
)

// checkAPI validates every /api/v1 response a test receives through Do
// against the OpenAPI description, so the description cannot drift from
// what the server answers. Requests no operation describes (unknown paths
// and methods, answered 404/405) have nothing to check against;
// apispec's route-table test makes sure every real route is described.
func checkAPI(t testing.TB, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, apispec.Prefix+"/") {
		return
	}
	spec, err := apispec.Load()
	if err != nil {
		t.Fatal(err)
	}
	err = spec.ValidateResponse(req.Method, req.URL.RequestURI(), req.Header, resp.StatusCode, resp.Header, body)
	if err != nil && !errors.Is(err, apispec.ErrUndescribed) {
		t.Error(err)
	}
}
