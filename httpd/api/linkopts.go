package api

import (
	"encoding/json"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/destination"
	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
)

// optionField decodes one link option of a PATCH body; known is false for
// a name that is not an option. null means "remove" where that makes
// sense (password, startsAt, fallbackUrl, maxVisits, rules, variants).
func optionField(o *ops.LinkOptions, name string, v json.RawMessage) (known bool, err error) {
	null := string(v) == "null"
	switch name {
	case "password":
		o.Password, err = orZero[string](v, null)
	case "startsAt":
		o.StartsAt, err = orZero[string](v, null)
	case "fallbackUrl":
		o.FallbackURL, err = orZero[string](v, null)
	case "maxVisits":
		o.MaxVisits, err = orZero[uint64](v, null)
	case "forwardQuery":
		o.ForwardQuery, err = decodeField[bool](v)
	case "forwardPath":
		o.ForwardPath, err = decodeField[bool](v)
	case "queryPrecedence":
		o.QueryPrecedence, err = decodeField[string](v)
	case "rules":
		o.Rules, err = orZero[[]destination.Rule](v, null)
	case "variants":
		o.Variants, err = orZero[[]destination.Variant](v, null)
	default:
		return false, nil
	}
	return true, err
}

// orZero decodes v, or gives the zero value for null.
func orZero[T any](v json.RawMessage, null bool) (*T, error) {
	if null {
		return new(T), nil
	}
	return decodeField[T](v)
}

// promoteVariant serves POST /links/{code}/promote: {"variant": i} makes
// variant i (0-based) the link's URL and ends the A/B split.
func (a *API) promoteVariant(ctx *fasthttp.RequestCtx, rq request) {
	var req struct {
		Variant *int `json:"variant"`
	}
	if !readJSON(ctx, &req) {
		return
	}
	if req.Variant == nil {
		httpx.WriteProblem(ctx, ops.KindValidation, "Say which variant to promote.",
			ops.FieldError{Field: "variant", Message: "required: the index of the variant (0 for the first)"})
		return
	}
	l, err := a.ops.PromoteVariant(rq.p, rq.Code, *req.Variant)
	if err != nil {
		a.fail(ctx, err)
		return
	}
	httpx.WriteJSON(ctx, fasthttp.StatusOK, a.ops.LinkView(l, time.Now().UnixMilli()))
}
