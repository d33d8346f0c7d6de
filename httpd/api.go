package httpd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/cluster"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/node"
	"github.com/linkd/linkd/store"
)

// API limits.
const (
	defaultPageSize = 20
	maxPageSize     = 100
	// maxIdemKeyLen bounds the Idempotency-Key header.
	maxIdemKeyLen = 255
	// mintAttempts is how often a create retries with a fresh code when a
	// custom alias already holds the minted one.
	mintAttempts = 3
)

// route is one method of an API resource: the scope it needs and its handler.
type route struct {
	need scope
	fn   func()
}

// api serves /api/v1/...
func (s *Server) api(ctx *fasthttp.RequestCtx) {
	defer func() {
		s.m.apiRequests.WithLabelValues(string(ctx.Method()), strconv.Itoa(ctx.Response.StatusCode())).Inc()
	}()
	rest, ok := strings.CutPrefix(string(ctx.Path()), "/api/v1/")
	if !ok {
		writeProblem(ctx, probNotFound, "Unknown API version or path.")
		return
	}
	if handle, ok := strings.CutPrefix(rest, "profiles/"); ok && ctx.IsGet() {
		s.publicProfile(ctx, handle) // public data: no token needed
		return
	}
	p, ok := s.authenticate(ctx)
	if !ok {
		return
	}
	routes := s.apiRoutes(ctx, p, rest)
	if routes == nil {
		writeProblem(ctx, probNotFound, "No such API endpoint.")
		return
	}
	r, ok := routes[string(ctx.Method())]
	if !ok {
		methodNotAllowed(ctx, routes)
		return
	}
	if !p.can(r.need) {
		writeProblem(ctx, probForbidden, "This request needs the scope "+strings.Join(scopeList(r.need), ", ")+
			", which the token does not grant.")
		return
	}
	if !ctx.IsGet() && !ctx.IsHead() && !s.allowWrite(ctx, p) {
		return
	}
	r.fn()
}

// apiRoutes returns the methods of the resource at rest, or nil.
func (s *Server) apiRoutes(ctx *fasthttp.RequestCtx, p principal, rest string) map[string]route {
	first, id, _ := strings.Cut(rest, "/")
	switch {
	case rest == "links":
		return map[string]route{
			"GET":  {scopeLinksRead, func() { s.listLinks(ctx, p) }},
			"POST": {scopeLinksWrite, func() { s.createLink(ctx, p) }},
		}
	case first == "links" && strings.HasSuffix(id, "/analytics") && validCode([]byte(strings.TrimSuffix(id, "/analytics"))):
		code := strings.TrimSuffix(id, "/analytics")
		return map[string]route{"GET": {scopeAnalyticsRead, func() { s.linkAnalytics(ctx, p, code) }}}
	case first == "links" && validCode([]byte(id)):
		return map[string]route{
			"GET":    {scopeLinksRead, func() { s.getLink(ctx, p, id) }},
			"PATCH":  {scopeLinksWrite, func() { s.patchLink(ctx, p, id) }},
			"DELETE": {scopeLinksWrite, func() { s.deleteLink(ctx, p, id) }},
		}
	case rest == "analytics/orphans":
		return map[string]route{"GET": {scopeAdmin, func() { s.orphans(ctx) }}}
	case rest == "cluster":
		return map[string]route{"GET": {scopeAdmin, func() { writeJSON(ctx, fasthttp.StatusOK, s.fullStatus()) }}}
	case first == "cluster" && strings.HasPrefix(id, "members/"):
		member := strings.TrimPrefix(id, "members/")
		return map[string]route{"DELETE": {scopeAdmin, func() { s.removeMember(ctx, member) }}}
	}
	if r := s.profileRoutes(ctx, p, rest); r != nil {
		return r
	}
	return s.accountRoutes(ctx, p, rest)
}

func methodNotAllowed(ctx *fasthttp.RequestCtx, routes map[string]route) {
	allowed := make([]string, 0, len(routes))
	for m := range routes {
		allowed = append(allowed, m)
	}
	sort.Strings(allowed)
	writeProblem(ctx, probMethod, "Allowed: "+strings.Join(allowed, ", ")+".")
	ctx.Response.Header.Set("Allow", strings.Join(allowed, ", "))
}

// removeMember serves DELETE /api/v1/cluster/members/{id} (admins).
func (s *Server) removeMember(ctx *fasthttp.RequestCtx, id string) {
	wctx, cancel := s.writeCtx()
	defer cancel()
	err := s.cfg.Cluster.Remove(wctx, id)
	switch {
	case err == nil:
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	case errors.Is(err, node.ErrUnknownPeer):
		writeProblem(ctx, probNotFound, "No member with id "+id+".")
	default:
		s.proposeErr(ctx, err)
	}
}

// consistent honours ?consistency=linearizable (default: local, possibly
// slightly stale reads), answering the problem itself on failure.
func (s *Server) consistent(ctx *fasthttp.RequestCtx) bool {
	switch string(ctx.QueryArgs().Peek("consistency")) {
	case "", "local":
		return true
	case "linearizable":
	default:
		writeProblem(ctx, probValidation, "Unknown consistency level.",
			fieldError{Field: "consistency", Message: `must be "local" or "linearizable"`})
		return false
	}
	rctx, cancel := s.writeCtx()
	defer cancel()
	if err := s.cfg.Cluster.ReadIndex(rctx); err != nil {
		writeProblem(ctx, probUnavailable, "A linearizable read needs the leader: "+err.Error()+".")
		return false
	}
	return true
}

// linkJSON is a link as the API shows it.
type linkJSON struct {
	Code           string   `json:"code"`
	ShortURL       string   `json:"shortUrl"`
	URL            string   `json:"url"`
	Title          string   `json:"title"`
	Tags           []string `json:"tags"`
	CreatedAt      string   `json:"createdAt"`
	UpdatedAt      string   `json:"updatedAt"`
	ExpiresAt      *string  `json:"expiresAt"`
	RedirectStatus int      `json:"redirectStatus"`
	Status         string   `json:"status"`
	Custom         bool     `json:"custom"`
	Clicks         uint64   `json:"clicks"`
}

func msTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

func (s *Server) linkView(l *store.Link, now int64) linkJSON {
	v := linkJSON{
		Code: l.Code, ShortURL: s.public + "/" + l.Code, URL: l.URL, Title: l.Title, Tags: l.Tags,
		CreatedAt: msTime(l.CreatedAt), UpdatedAt: msTime(l.UpdatedAt),
		RedirectStatus: int(l.RedirectStatus), Status: l.Status.String(), Custom: l.Custom,
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if l.ExpiresAt != 0 {
		t := msTime(l.ExpiresAt)
		v.ExpiresAt = &t
	}
	if l.Status == store.StatusActive && l.Expired(now) {
		v.Status = "expired"
	}
	v.Clicks, _ = s.st.Clicks(l.Code)
	return v
}

// readJSONBody checks the content type and size and returns the body.
func readJSONBody(ctx *fasthttp.RequestCtx) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(string(ctx.Request.Header.ContentType()))
	if err != nil || mt != "application/json" {
		writeProblem(ctx, probMediaType, "Expected Content-Type: application/json.")
		return nil, false
	}
	body := ctx.PostBody()
	if len(body) > maxAPIBody {
		writeProblem(ctx, probTooLarge, fmt.Sprintf("The body is %d bytes; the limit is %d.", len(body), maxAPIBody))
		return nil, false
	}
	return body, true
}

// readJSON reads a JSON body into v (readJSONBody, then decodeStrict),
// answering the problem itself on failure.
func readJSON(ctx *fasthttp.RequestCtx, v any) bool {
	body, ok := readJSONBody(ctx)
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
		writeProblem(ctx, probValidation, "A field has the wrong type.",
			fieldError{Field: typeErr.Field, Message: "must be a " + jsonTypeName(typeErr.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		writeProblem(ctx, probValidation, "The body has a field this endpoint does not accept.",
			fieldError{Field: f, Message: "unknown field"})
	default:
		writeProblem(ctx, probBadJSON, err.Error())
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

// proposeErr answers the problem for a failed request.
func (s *Server) proposeErr(ctx *fasthttp.RequestCtx, err error) {
	f := s.failureFor(err)
	writeProblem(ctx, f.kind, f.detail, f.errs...)
}

// failureFor maps an error from validation, the fsm or the cluster to the
// problem that explains it. Unknown errors are logged and become a 500.
func (s *Server) failureFor(err error) *failure {
	var f *failure
	switch {
	case errors.As(err, &f):
		return f
	case errors.Is(err, fsm.ErrExists):
		return fail(probConflict, "Choose another alias.", fieldError{Field: "alias", Message: "already in use"})
	case errors.Is(err, fsm.ErrNotFound):
		return fail(probNotFound, "No such link.")
	case errors.Is(err, fsm.ErrGone):
		return fail(probGone, "The link was deleted.")
	case errors.Is(err, fsm.ErrIdempotencyMismatch):
		return fail(probIdemMismatch, "Use a new Idempotency-Key for a different request.")
	case errors.Is(err, fsm.ErrEmailTaken):
		return fail(probEmailTaken, "Another account uses this email address.", fieldError{Field: "email", Message: "already registered"})
	case errors.Is(err, fsm.ErrUserNotFound):
		return fail(probNotFound, "No such user, or the account is disabled.")
	case errors.Is(err, fsm.ErrKeyNotFound):
		return fail(probNotFound, "No such API key.")
	case errors.Is(err, fsm.ErrInviteNotFound):
		return fail(probNotFound, "No such invite.")
	case errors.Is(err, fsm.ErrInvalidInvite):
		return fail(probInvalidInvite, "The invite does not exist, has expired or was used already.")
	case errors.Is(err, fsm.ErrHandleTaken):
		return fail(probHandleTaken, "Another profile uses this handle.", fieldError{Field: "handle", Message: "already taken"})
	case errors.Is(err, fsm.ErrProtectedUser):
		return fail(probProtected, "The bootstrap admin cannot be disabled, demoted or deleted.")
	case errors.Is(err, node.ErrUnknownOutcome), errors.Is(err, context.DeadlineExceeded):
		return fail(probUnknown, "The write may or may not have been applied: "+err.Error()+". Retry with the same Idempotency-Key.")
	case errors.Is(err, node.ErrNotApplied), errors.Is(err, node.ErrNotInitialized):
		return fail(probNotApplied, "The write was not applied: "+err.Error()+". Retry it.")
	case errors.Is(err, cluster.ErrNoLeader), errors.Is(err, node.ErrNoLeader), errors.Is(err, node.ErrShutdown):
		return fail(probUnavailable, "The cluster cannot answer now: "+err.Error()+".")
	}
	s.log.Error("request failed", "err", err)
	return fail(probInternal, "The request failed.")
}

func (s *Server) writeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), applyTimeout)
}

// getLink serves GET /api/v1/links/{code}.
func (s *Server) getLink(ctx *fasthttp.RequestCtx, p principal, code string) {
	if !s.consistent(ctx) {
		return
	}
	l, ok := s.visibleLink(ctx, p, code)
	if !ok {
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, s.linkView(l, time.Now().UnixMilli()))
}

// visibleLink loads a link the principal may see, answering 404/410 itself.
// Links of other users are 404, never 403: codes must not leak ownership.
func (s *Server) visibleLink(ctx *fasthttp.RequestCtx, p principal, code string) (*store.Link, bool) {
	l, err := s.st.Link(code)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !p.isAdmin() && l.Owner != p.owner()):
		writeProblem(ctx, probNotFound, "No such link.")
	case err != nil:
		s.log.Error("reading link", "err", err)
		writeProblem(ctx, probInternal, "Reading the link failed.")
	case l.Status == store.StatusDeleted:
		writeProblem(ctx, probGone, "The link was deleted.")
	default:
		return l, true
	}
	return nil, false
}

// listLinks serves GET /api/v1/links?limit=&cursor=&q=&tag=. With q or
// tag a page may hold fewer than limit links and still have a next cursor
// (a filtered page examines at most store.MaxListScan links).
func (s *Server) listLinks(ctx *fasthttp.RequestCtx, p principal) {
	args := ctx.QueryArgs()
	limit := defaultPageSize
	var errs []fieldError
	if v := args.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 || n > maxPageSize {
			errs = append(errs, fieldError{"limit", fmt.Sprintf("must be a whole number from 1 to %d", maxPageSize)})
		}
		limit = n
	}
	var cursor []byte
	if v := args.Peek("cursor"); len(v) > 0 {
		c, err := base64.RawURLEncoding.DecodeString(string(v))
		if err != nil || len(c) <= 8 {
			errs = append(errs, fieldError{"cursor", "is not a cursor this API returned"})
		}
		cursor = c
	}
	if errs != nil {
		writeProblem(ctx, probValidation, "Invalid query parameters.", errs...)
		return
	}
	if !s.consistent(ctx) {
		return
	}
	match := linkFilter(strings.TrimSpace(string(args.Peek("q"))), strings.TrimSpace(string(args.Peek("tag"))))
	page, err := s.st.ListLinks(store.ListQuery{Owner: p.owner(), All: p.isAdmin(), After: cursor, Limit: limit, Match: match})
	if err != nil {
		s.log.Error("listing links", "err", err)
		writeProblem(ctx, probInternal, "Listing failed.")
		return
	}
	now := time.Now().UnixMilli()
	out := struct {
		Items      []linkJSON `json:"items"`
		NextCursor *string    `json:"nextCursor"`
	}{Items: make([]linkJSON, 0, len(page.Links))}
	for _, l := range page.Links {
		out.Items = append(out.Items, s.linkView(l, now))
	}
	if page.Next != nil {
		c := base64.RawURLEncoding.EncodeToString(page.Next)
		out.NextCursor = &c
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// bodyHash identifies a request body for idempotency checks.
func bodyHash(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}
