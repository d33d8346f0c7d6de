package httpx

import "github.com/linkd/linkd/httpd/ops"

// ProblemValue is the problem+json object for e, to embed in a larger
// answer (the per-item results of bulk requests), with the same type,
// title and status a single request's problem would have.
func ProblemValue(e *ops.Error) any {
	p := problems[e.Kind]
	return problemBody{Type: "/_/problems/" + p.Slug, Title: p.Title, Status: p.Status, Detail: e.Detail, Errors: e.Fields}
}
