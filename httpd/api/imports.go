package api

import (
	"bytes"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
)

// importBody is the body limit of POST /imports: an export file of some
// 50,000 links (larger files: linkd import sends them in parts).
const importBody = 16 << 20

// importRow is one row of an import report as the API shows it.
type importRow struct {
	ops.ImportRow
	Problem any `json:"problem,omitempty"`
}

// importLinks serves POST /imports?from=&collisions=&map=field:column,...&origin=
// with the file as the body.
func (a *API) importLinks(ctx *fasthttp.RequestCtx, rq request) {
	args := ctx.QueryArgs()
	opt := ops.ImportOptions{Source: string(args.Peek("from")), Collisions: string(args.Peek("collisions")),
		Domain: string(args.Peek("domain")), Origin: string(args.Peek("origin"))}
	if opt.Collisions == "" {
		opt.Collisions = ops.CollisionSkip
	}
	if m := string(args.Peek("map")); m != "" {
		opt.Mapping = map[string]string{}
		for _, pair := range strings.Split(m, ",") {
			k, v, _ := strings.Cut(pair, ":")
			opt.Mapping[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	rows, err := a.ops.Import(rq.p, opt, bytes.NewReader(ctx.PostBody()), nil)
	if err != nil && rows == nil {
		a.fail(ctx, err)
		return
	}
	out := struct {
		Rows   []importRow    `json:"rows"`
		Counts map[string]int `json:"counts"`
		Error  any            `json:"error,omitempty"`
	}{Rows: make([]importRow, len(rows)), Counts: map[string]int{}}
	for i, r := range rows {
		out.Rows[i].ImportRow = r
		out.Counts[r.Status]++
		if r.Err != nil {
			out.Rows[i].Problem = httpx.ProblemValue(a.ops.Classify(r.Err))
		}
	}
	if err != nil { // the file broke off after some rows
		out.Error = httpx.ProblemValue(a.ops.Classify(err))
	}
	httpx.WriteJSON(ctx, fasthttp.StatusOK, out)
}
