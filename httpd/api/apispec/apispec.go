// Package apispec checks the API against its OpenAPI description
// (api.OpenAPI) with kin-openapi: the description is a valid OpenAPI 3.1
// document, and a response is one the description allows (status,
// content type, schema, headers). It is for tests (httpdtest validates
// every API response with it); the linkd binary never imports it.
package apispec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/linkd/linkd/httpd/api"
)

// Prefix is where the API is mounted; the description's server URL.
const Prefix = "/api/v1"

// Spec is the loaded, validated description and a router over it.
type Spec struct {
	Doc    *openapi3.T
	router routers.Router
}

var (
	once    sync.Once
	loaded  *Spec
	loadErr error
)

// Load parses and validates api.OpenAPI (once per process).
func Load() (*Spec, error) {
	once.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", jsonLines)
		l := openapi3.NewLoader()
		doc, err := l.LoadFromData(api.OpenAPI)
		if err != nil {
			loadErr = fmt.Errorf("openapi.json: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			loadErr = fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
			return
		}
		// The router matches absolute URLs against the servers; the
		// description has a relative one, so route on a copy with a
		// host-free absolute server.
		rd := *doc
		rd.Servers = openapi3.Servers{{URL: "http://api" + Prefix}}
		r, err := gorillamux.NewRouter(&rd)
		if err != nil {
			loadErr = err
			return
		}
		loaded = &Spec{Doc: doc, router: r}
	})
	return loaded, loadErr
}

// Operations lists the described operations as "METHOD /path" (paths
// relative to Prefix, as in the description).
func (s *Spec) Operations() map[string]bool {
	out := map[string]bool{}
	for path, item := range s.Doc.Paths.Map() {
		for method := range item.Operations() {
			out[method+" "+path] = true
		}
	}
	return out
}

// ErrUndescribed is returned for a request no operation describes (an
// unknown path or method: the 404 and 405 answers, which carry no
// operation to check against).
var ErrUndescribed = fmt.Errorf("no operation describes this request")

// ValidateResponse checks one exchange: method and path (with query) of
// the request as sent, and the response status, header and body.
func (s *Spec) ValidateResponse(method, pathQuery string, reqHeader http.Header, status int, header http.Header, body []byte) error {
	req, err := http.NewRequest(method, "http://api"+pathQuery, nil)
	if err != nil {
		return err
	}
	req.Header = reqHeader.Clone()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return ErrUndescribed
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s -> %d: response does not match the OpenAPI description: %w",
			method, route.Path, status, trim(err))
	}
	return nil
}

// jsonLines decodes a JSON-lines body as the array of its lines' values,
// which the description's schema for application/x-ndjson describes.
func jsonLines(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	out := []any{}
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// trim shortens multi-line schema errors to their first lines.
func trim(err error) error {
	lines := strings.Split(err.Error(), "\n")
	if len(lines) > 12 {
		lines = append(lines[:12], "...")
	}
	return fmt.Errorf("%s", strings.Join(lines, "\n"))
}
