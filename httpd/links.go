package httpd

import (
	"encoding/json"
	"errors"
	"time"
	"unicode"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/validate"
	"github.com/linkd/linkd/store"
)

// defaultRedirectStatus is what a link redirects with unless told otherwise:
// 302 keeps browsers from caching the redirect forever, so edits and
// takedowns reach every visitor.
const defaultRedirectStatus = 302

func validRedirectStatus(n int) bool { return n == 301 || n == 302 || n == 307 || n == 308 }

// createRequest is the body of POST /api/v1/links.
type createRequest struct {
	URL            string   `json:"url"`
	Alias          string   `json:"alias"`
	ExpiresAt      *string  `json:"expiresAt"`
	RedirectStatus *int     `json:"redirectStatus"`
	Title          string   `json:"title"`
	Tags           []string `json:"tags"`
}

// fields collects validation errors for one request.
type fields []fieldError

func (f *fields) add(field string, err error) {
	if err != nil {
		*f = append(*f, fieldError{Field: field, Message: err.Error()})
	}
}

// parseExpiry validates an RFC 3339 expiry in the future; "" clears it.
func parseExpiry(v string, now time.Time) (int64, error) {
	if v == "" {
		return 0, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return 0, errors.New("must be an RFC 3339 timestamp like 2030-01-02T15:04:05Z")
	}
	if !t.After(now) {
		return 0, errors.New("must be in the future")
	}
	return t.UnixMilli(), nil
}

func checkRedirectStatus(n int) error {
	if !validRedirectStatus(n) {
		return errors.New("must be one of 301, 302, 307, 308")
	}
	return nil
}

// createLink serves POST /api/v1/links.
func (s *Server) createLink(ctx *fasthttp.RequestCtx, p principal) {
	body, ok := readJSONBody(ctx)
	if !ok {
		return
	}
	idemKey := string(ctx.Request.Header.Peek("Idempotency-Key"))
	if len(idemKey) > maxIdemKeyLen || !printable(idemKey) {
		writeProblem(ctx, probValidation, "Invalid Idempotency-Key header.",
			fieldError{Field: "Idempotency-Key", Message: "must be at most 255 printable ASCII characters"})
		return
	}
	var req createRequest
	if !decodeStrict(ctx, body, &req) {
		return
	}
	now := time.Now()
	cmd, err := s.newCreate(req, p.owner(), now)
	if err == nil {
		cmd.IdemKey = idemKey
		if idemKey != "" {
			cmd.BodyHash = bodyHash(body)
		}
	}
	var res *fsm.Result
	if err == nil {
		res, err = s.commitCreate(cmd, now)
	}
	if err != nil {
		s.proposeErr(ctx, err)
		return
	}
	if res.Replayed {
		ctx.Response.Header.Set("Idempotent-Replayed", "true")
	}
	ctx.Response.Header.Set("Location", "/api/v1/links/"+res.Link.Code)
	writeJSON(ctx, fasthttp.StatusCreated, s.linkView(res.Link, now.UnixMilli()))
}

// newCreate validates a create request (from the API or the console).
func (s *Server) newCreate(req createRequest, owner uint64, now time.Time) (*fsm.CreateLink, error) {
	cmd := &fsm.CreateLink{Owner: owner, RedirectStatus: defaultRedirectStatus}
	var errs fields
	var err error
	cmd.URL, err = validate.URL(req.URL, s.selfHosts)
	errs.add("url", err)
	if req.Alias != "" {
		errs.add("alias", validate.Alias(req.Alias))
		cmd.Code, cmd.Custom = req.Alias, true
	}
	if req.ExpiresAt != nil {
		cmd.ExpiresAt, err = parseExpiry(*req.ExpiresAt, now)
		errs.add("expiresAt", err)
	}
	if req.RedirectStatus != nil {
		errs.add("redirectStatus", checkRedirectStatus(*req.RedirectStatus))
		cmd.RedirectStatus = uint16(*req.RedirectStatus)
	}
	cmd.Title, err = validate.Title(req.Title)
	errs.add("title", err)
	cmd.Tags, err = validate.Tags(req.Tags)
	errs.add("tags", err)
	if errs != nil {
		return nil, fail(probValidation, "The link was not created.", errs...)
	}
	return cmd, nil
}

// commitCreate mints a code unless an alias was given and proposes the
// create. A minted code that a custom alias already holds is replaced.
func (s *Server) commitCreate(cmd *fsm.CreateLink, now time.Time) (*fsm.Result, error) {
	wctx, cancel := s.writeCtx()
	defer cancel()
	var res *fsm.Result
	var err error
	for attempt := 0; attempt < mintAttempts; attempt++ {
		if !cmd.Custom {
			if cmd.Code, err = s.cfg.Minter.Code(wctx); err != nil {
				break
			}
		}
		cmd.Now = now.UnixMilli()
		res, err = s.cfg.Cluster.Propose(wctx, cmd)
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if cmd.Custom || !errors.Is(err, fsm.ErrExists) {
			break
		}
	}
	return res, err
}

// patchLink serves PATCH /api/v1/links/{code}. Only the fields present in
// the body change; "expiresAt": null removes the expiry.
func (s *Server) patchLink(ctx *fasthttp.RequestCtx, p principal, code string) {
	body, ok := readJSONBody(ctx)
	if !ok {
		return
	}
	var raw map[string]json.RawMessage
	if !decodeStrict(ctx, body, &raw) {
		return
	}
	if !s.writableLink(ctx, p, code) {
		return
	}
	cmd := &fsm.UpdateLink{Code: code, Actor: p.owner(), Admin: p.isAdmin()}
	if errs := s.patchFields(raw, cmd, p); errs != nil {
		writeProblem(ctx, probValidation, "The link was not changed.", errs...)
		return
	}
	cmd.Now = time.Now().UnixMilli()
	res, err := s.propose(cmd)
	if err != nil {
		s.proposeErr(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, s.linkView(res.Link, cmd.Now))
}

// patchFields fills cmd from the present fields and returns what is invalid.
func (s *Server) patchFields(raw map[string]json.RawMessage, cmd *fsm.UpdateLink, p principal) fields {
	var errs fields
	for name, v := range raw {
		var err error
		switch name {
		case "url":
			var u string
			if err = json.Unmarshal(v, &u); err == nil {
				u, err = validate.URL(u, s.selfHosts)
			}
			cmd.URL = &u
		case "title":
			var t string
			if err = json.Unmarshal(v, &t); err == nil {
				t, err = validate.Title(t)
			}
			cmd.Title = &t
		case "tags":
			var t []string
			if err = json.Unmarshal(v, &t); err == nil {
				t, err = validate.Tags(t)
			}
			cmd.Tags = &t
		case "expiresAt":
			var e *string
			var ms int64
			if err = json.Unmarshal(v, &e); err == nil && e != nil {
				ms, err = parseExpiry(*e, time.Now())
			}
			cmd.ExpiresAt = &ms
		case "redirectStatus":
			var n int
			if err = json.Unmarshal(v, &n); err == nil {
				err = checkRedirectStatus(n)
			}
			rs := uint16(n)
			cmd.RedirectStatus = &rs
		case "status":
			cmd.Blocked, err = parseStatusChange(v, p)
		default:
			err = errors.New("unknown field, or not one that can be changed")
		}
		if err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) || errors.As(err, new(*json.SyntaxError)) {
				err = errors.New("has the wrong type")
			}
			errs.add(name, err)
		}
	}
	return errs
}

// parseStatusChange accepts "active" or "blocked" from admins only.
func parseStatusChange(v json.RawMessage, p principal) (*bool, error) {
	var st string
	if err := json.Unmarshal(v, &st); err != nil {
		return nil, err
	}
	if !p.isAdmin() {
		return nil, errors.New("only admins can block or unblock links")
	}
	switch st {
	case "active", "blocked":
		b := st == "blocked"
		return &b, nil
	}
	return nil, errors.New(`must be "active" or "blocked"`)
}

// deleteLink serves DELETE /api/v1/links/{code}.
func (s *Server) deleteLink(ctx *fasthttp.RequestCtx, p principal, code string) {
	// Deleting twice is deleting once (the fsm answers a delete of a deleted
	// link with success, so that a retried delete succeeds): a link this
	// replica knows to be deleted is certainly deleted everywhere.
	if l, err := s.st.Link(code); err == nil && l.Status == store.StatusDeleted && (p.isAdmin() || l.Owner == p.owner()) {
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	if !s.writableLink(ctx, p, code) {
		return
	}
	_, err := s.propose(&fsm.DeleteLink{Now: time.Now().UnixMilli(), Code: code, Actor: p.owner(), Admin: p.isAdmin()})
	if err != nil {
		s.proposeErr(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// writableLink answers, before a write is proposed, only what the local
// store knows for certain: a deleted link stays deleted (410) and a link
// never changes owner (404 for another user's). A link missing here may
// exist already on the leader (this replica may be behind a create another
// node acknowledged), so that case is proposed and the fsm decides.
func (s *Server) writableLink(ctx *fasthttp.RequestCtx, p principal, code string) bool {
	if _, err := s.st.Link(code); errors.Is(err, store.ErrNotFound) {
		return true
	}
	_, ok := s.visibleLink(ctx, p, code)
	return ok
}

func printable(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
