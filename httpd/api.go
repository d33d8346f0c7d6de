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

// principal is who an API request acts for.
type principal struct {
	key   *store.APIKey
	admin bool
}

func (p principal) owner() uint64 { return p.key.Owner }

// api serves /api/v1/...
func (s *Server) api(ctx *fasthttp.RequestCtx) {
	defer func() {
		s.m.apiRequests.WithLabelValues(string(ctx.Method()), strconv.Itoa(ctx.Response.StatusCode())).Inc()
	}()
	path := string(ctx.Path())
	rest, ok := strings.CutPrefix(path, "/api/v1/")
	if !ok {
		writeProblem(ctx, probNotFound, "Unknown API version or path.")
		return
	}
	p, ok := s.authenticate(ctx)
	if !ok {
		return
	}
	switch {
	case rest == "links":
		s.routeMethods(ctx, map[string]func(){
			"GET":  func() { s.listLinks(ctx, p) },
			"POST": func() { s.createLink(ctx, p) },
		})
	case strings.HasPrefix(rest, "links/") && strings.HasSuffix(rest, "/analytics") &&
		validCode([]byte(strings.TrimSuffix(rest[len("links/"):], "/analytics"))):
		code := strings.TrimSuffix(rest[len("links/"):], "/analytics")
		s.routeMethods(ctx, map[string]func(){"GET": func() { s.linkAnalytics(ctx, p, code) }})
	case rest == "analytics/orphans" && p.admin:
		s.routeMethods(ctx, map[string]func(){"GET": func() { s.orphans(ctx) }})
	case strings.HasPrefix(rest, "links/") && validCode([]byte(rest[len("links/"):])):
		code := rest[len("links/"):]
		s.routeMethods(ctx, map[string]func(){
			"GET":    func() { s.getLink(ctx, p, code) },
			"PATCH":  func() { s.patchLink(ctx, p, code) },
			"DELETE": func() { s.deleteLink(ctx, p, code) },
		})
	case rest == "cluster" && p.admin:
		s.routeMethods(ctx, map[string]func(){
			"GET": func() { writeJSON(ctx, fasthttp.StatusOK, s.fullStatus()) },
		})
	case strings.HasPrefix(rest, "cluster/members/") && p.admin:
		id := rest[len("cluster/members/"):]
		s.routeMethods(ctx, map[string]func(){"DELETE": func() { s.removeMember(ctx, id) }})
	default:
		writeProblem(ctx, probNotFound, "No such API endpoint.")
	}
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

func (s *Server) routeMethods(ctx *fasthttp.RequestCtx, handlers map[string]func()) {
	if h, ok := handlers[string(ctx.Method())]; ok {
		h()
		return
	}
	allowed := make([]string, 0, len(handlers))
	for m := range handlers {
		allowed = append(allowed, m)
	}
	writeProblem(ctx, probMethod, "Allowed: "+strings.Join(allowed, ", ")+".")
	ctx.Response.Header.Set("Allow", strings.Join(allowed, ", "))
}

// authenticate resolves the bearer token, answering 401 itself on failure.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx) (principal, bool) {
	h := string(ctx.Request.Header.Peek("Authorization"))
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="linkd"`)
		writeProblem(ctx, probUnauthorized, "No bearer token was sent.")
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="linkd"`)
		return principal{}, false
	}
	k, err := s.st.APIKey(store.TokenHash(strings.TrimSpace(token)))
	if err == nil && k.ExpiresAt != 0 && time.Now().UnixMilli() >= k.ExpiresAt {
		err = store.ErrNotFound
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("looking up API key", "err", err)
		}
		writeProblem(ctx, probUnauthorized, "The bearer token is not valid.")
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="linkd", error="invalid_token"`)
		return principal{}, false
	}
	p := principal{key: k}
	for _, sc := range k.Scopes {
		if sc == "admin" {
			p.admin = true
		}
	}
	return p, true
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

// proposeErr answers the problem for a failed proposal.
func (s *Server) proposeErr(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, fsm.ErrExists):
		writeProblem(ctx, probConflict, "Choose another alias.", fieldError{Field: "alias", Message: "already in use"})
	case errors.Is(err, fsm.ErrNotFound):
		writeProblem(ctx, probNotFound, "No such link.")
	case errors.Is(err, fsm.ErrGone):
		writeProblem(ctx, probGone, "The link was deleted.")
	case errors.Is(err, fsm.ErrIdempotencyMismatch):
		writeProblem(ctx, probIdemMismatch, "Use a new Idempotency-Key for a different request.")
	case errors.Is(err, node.ErrNotLeader), errors.Is(err, node.ErrNoLeader), errors.Is(err, node.ErrShutdown),
		errors.Is(err, node.ErrNotInitialized), errors.Is(err, node.ErrUnknownOutcome),
		errors.Is(err, cluster.ErrNoLeader), errors.Is(err, context.DeadlineExceeded):
		writeProblem(ctx, probUnavailable, "The write was not committed: "+err.Error()+".")
	default:
		s.log.Error("proposal failed", "err", err)
		writeProblem(ctx, probInternal, "The write failed.")
	}
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
	case errors.Is(err, store.ErrNotFound) || (err == nil && !p.admin && l.Owner != p.owner()):
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

// listLinks serves GET /api/v1/links?limit=&cursor=.
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
	page, err := s.st.ListLinks(p.owner(), p.admin, cursor, limit)
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
