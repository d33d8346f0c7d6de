package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
)

// jsonBody checks the content type and returns the body (already read and
// bounded by the route's limit), answering 415 itself.
func jsonBody(ctx *fasthttp.RequestCtx) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(string(ctx.Request.Header.ContentType()))
	if err != nil || mt != "application/json" {
		httpx.WriteProblem(ctx, ops.KindMediaType, "Expected Content-Type: application/json.")
		return nil, false
	}
	return ctx.PostBody(), true
}

// readJSON reads a JSON body into v (jsonBody, then decodeStrict),
// answering the problem itself on failure.
func readJSON(ctx *fasthttp.RequestCtx, v any) bool {
	body, ok := jsonBody(ctx)
	return ok && decodeStrict(ctx, body, v)
}

// decodeStrict decodes body into v, rejecting unknown fields and trailing
// data, and answers the problem itself on failure.
func decodeStrict(ctx *fasthttp.RequestCtx, body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON value")
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &typeErr):
		httpx.WriteProblem(ctx, ops.KindValidation, "A field has the wrong type.",
			ops.FieldError{Field: strings.TrimPrefix(typeErr.Field, "LinkOptions."), Message: "must be a " + jsonTypeName(typeErr.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		httpx.WriteProblem(ctx, ops.KindValidation, "The body has a field this endpoint does not accept.",
			ops.FieldError{Field: f, Message: "unknown field"})
	default:
		httpx.WriteProblem(ctx, ops.KindBadJSON, err.Error())
	}
	return false
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "slice":
		return "list"
	case "bool":
		return "boolean"
	case "struct", "map", "ptr":
		return "object"
	}
	return "number"
}
