package ops

import (
	"errors"
	"strings"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/validate"
	"github.com/linkd/linkd/store"
)

// Link limits, kept together.
const (
	// DefaultRedirectStatus is what a link redirects with unless told
	// otherwise: 302 keeps browsers from caching the redirect forever, so
	// edits and takedowns reach every visitor.
	DefaultRedirectStatus = 302
	// MaxIdemKeyLen bounds the Idempotency-Key.
	MaxIdemKeyLen = 255
	// mintAttempts is how often a create retries with a fresh code when a
	// custom alias already holds the minted one.
	mintAttempts = 3
	// maxCodeLen is the longest code or alias that can exist.
	maxCodeLen = 64
)

// ValidCode reports whether b could be a code or alias: [A-Za-z0-9_-]{1,64}.
// It allocates nothing: the redirect path calls it on every request.
func ValidCode(b []byte) bool {
	if len(b) == 0 || len(b) > maxCodeLen {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidRedirectStatus reports whether n is a status a link may redirect with.
func ValidRedirectStatus(n int) bool { return n == 301 || n == 302 || n == 307 || n == 308 }

// Link is a link as the API shows it (and the console's pages).
type Link struct {
	Code           string   `json:"code"`
	Domain         string   `json:"domain"`
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
	// DomainQuery is "?domain=<host>" for a link off the default domain,
	// "" otherwise: what the console appends to a link's page addresses.
	DomainQuery string `json:"-"`
	// ImportedClicks is the link's click total at the shortener it was
	// imported from: history, never part of Clicks or the analytics.
	ImportedClicks *ImportedClicks `json:"importedClicks,omitempty"`
	LinkOptionsView
}

// ImportedClicks is a link's click total brought by an import, labelled
// for display ("imported clicks (from Bitly)").
type ImportedClicks struct {
	Clicks     uint64 `json:"clicks"`
	Source     string `json:"source"`
	Label      string `json:"label"`
	ImportedAt string `json:"importedAt"`
}

// sourceNames are the import sources as people write them.
var sourceNames = map[string]string{"bitly": "Bitly", "yourls": "YOURLS", "shlink": "Shlink", "kutt": "Kutt",
	"csv": "a CSV file", "linkd": "linkd"}

// importedView labels a stored imported total.
func importedView(c *store.ImportedClicks) *ImportedClicks {
	name := sourceNames[c.Source]
	if name == "" {
		name = c.Source
	}
	return &ImportedClicks{Clicks: c.Clicks, Source: c.Source, Label: "imported clicks (from " + name + ")", ImportedAt: MsTime(c.At)}
}

// LinkView shows l as of now (Unix ms).
func (o *Ops) LinkView(l *store.Link, now int64) Link { return o.linkView(l, now, true) }

// CreatedLinkView is LinkView for a link this request has just created (not
// an idempotent replay): it has no clicks, visits or imported total yet
// (imports record theirs in a later entry; a deleted code is never
// created again), so their reads are skipped. They were an eighth of a
// bulk load's CPU: two point reads per link of the answer.
func (o *Ops) CreatedLinkView(l *store.Link, now int64) Link { return o.linkView(l, now, false) }

func (o *Ops) linkView(l *store.Link, now int64, counts bool) Link {
	host, code := store.SplitDomainCode(l.Code)
	if host == "" {
		host = o.defaultHost
	}
	v := Link{
		Code: code, Domain: host, ShortURL: o.ShortURL(l.Code), URL: l.URL, Title: l.Title, Tags: l.Tags,
		CreatedAt: MsTime(l.CreatedAt), UpdatedAt: MsTime(l.UpdatedAt),
		RedirectStatus: int(l.RedirectStatus), Status: l.Status.String(), Custom: l.Custom,
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	v.DomainQuery = o.DomainQuery(l.Code)
	v.ExpiresAt = optTime(l.ExpiresAt)
	v.LinkOptionsView = OptionsView(&l.LinkOptions)
	if l.Status == store.StatusActive && l.Expired(now) {
		v.Status = "expired"
	}
	if counts {
		if l.MaxVisits > 0 {
			v.Visits, _ = o.st.Visits(l.Code)
		}
		v.Clicks, _ = o.st.Clicks(l.Code)
		v.ImportedClicks = o.ImportedClicks(l.Code)
	}
	return v
}

// ImportedClicks is the labelled click total an import brought for code,
// or nil.
func (o *Ops) ImportedClicks(code string) *ImportedClicks {
	c, err := o.st.ImportedClicks(code)
	if err != nil {
		return nil
	}
	return importedView(c)
}

// VisibleLink loads a link the principal may see. Links of other users
// are KindNotFound, never KindForbidden: codes must not leak ownership.
// Deleted links are KindGone.
func (o *Ops) VisibleLink(p Principal, code string) (*store.Link, error) {
	l, err := o.st.Link(code)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !p.IsAdmin() && l.Owner != p.Owner()):
		return nil, Fail(KindNotFound, "No such link.")
	case err != nil:
		return nil, err
	case l.Status == store.StatusDeleted:
		return nil, Fail(KindGone, "The link was deleted.")
	}
	return l, nil
}

// LinkQuery selects a page of the principal's links.
type LinkQuery struct {
	After  []byte // cursor
	Limit  int
	Q, Tag string // search text and tag; empty for all
	Domain string // only links on this domain (its host); empty for all
	All    bool   // admins: every user's links
}

// LinkPage is one page of links and the cursor of the next, if any.
type LinkPage struct {
	Links []Link
	Next  []byte
}

// Links lists the principal's links (every user's with All, for admins).
// With Q or Tag a page may hold fewer than Limit links and still have a
// next cursor (a filtered page examines at most store.MaxListScan links).
func (o *Ops) Links(p Principal, q LinkQuery) (LinkPage, error) {
	page, err := o.st.ListLinks(store.ListQuery{Owner: p.Owner(), All: q.All && p.IsAdmin(), After: q.After,
		Limit: q.Limit, Match: o.domainFilter(q.Domain, linkFilter(q.Q, q.Tag))})
	if err != nil {
		return LinkPage{}, err
	}
	now := time.Now().UnixMilli()
	out := LinkPage{Links: make([]Link, 0, len(page.Links)), Next: page.Next}
	for _, l := range page.Links {
		out.Links = append(out.Links, o.LinkView(l, now))
	}
	return out, nil
}

// linkFilter builds the search and tag filter of a link list.
func linkFilter(q, tag string) func(*store.Link) bool {
	if q == "" && tag == "" {
		return nil
	}
	q = strings.ToLower(q)
	return func(l *store.Link) bool {
		if q != "" && !strings.Contains(strings.ToLower(l.Code+" "+l.URL+" "+l.Title), q) {
			return false
		}
		if tag == "" {
			return true
		}
		for _, t := range l.Tags {
			if strings.EqualFold(t, tag) {
				return true
			}
		}
		return false
	}
}

// NewLink is a link to create. Invalid holds errors a front end found
// while reading it (a field of the wrong type, a date that does not
// parse); they are reported with the others.
type NewLink struct {
	URL            string   `json:"url"`
	Alias          string   `json:"alias"`
	ExpiresAt      *string  `json:"expiresAt"`
	RedirectStatus *int     `json:"redirectStatus"`
	Title          string   `json:"title"`
	Tags           []string `json:"tags"`
	// Domain is the host the link is on; "" for the default domain.
	Domain string `json:"domain"`
	LinkOptions
	Invalid Fields `json:"-"`
}

// Idempotency ties a create to an Idempotency-Key and the request body
// that carried it, so a retry returns the same link.
type Idempotency struct {
	Key  string
	Body []byte
}

// CreateLink validates req, mints a code unless an alias was given, and
// creates the link for p. Replayed says an earlier request with the same
// Idempotency-Key made it.
func (o *Ops) CreateLink(p Principal, req NewLink, idem Idempotency) (l *store.Link, replayed bool, err error) {
	if len(idem.Key) > MaxIdemKeyLen || !printableASCII(idem.Key) {
		return nil, false, Fail(KindValidation, "Invalid Idempotency-Key header.",
			FieldError{Field: "Idempotency-Key", Message: "must be at most 255 printable ASCII characters"})
	}
	now := time.Now()
	cmd, err := o.newCreate(req, p, now)
	if err != nil {
		return nil, false, err
	}
	if cmd.IdemKey = idem.Key; idem.Key != "" {
		cmd.BodyHash = o.bodyHash(idem.Body)
	}
	res, err := o.commitCreate(cmd, now)
	if err != nil {
		return nil, false, err
	}
	return res.Link, res.Replayed, nil
}

// newCreate validates a create request of p's, with p's daily quota.
func (o *Ops) newCreate(req NewLink, p Principal, now time.Time) (*fsm.CreateLink, error) {
	cmd := &fsm.CreateLink{Owner: p.Owner(), RedirectStatus: DefaultRedirectStatus, DailyQuota: o.dailyQuota(p),
		Hold: o.held(p, now)}
	errs := req.Invalid
	if cmd.Domain = o.linkDomain(p, req.Domain, &errs); cmd.Domain != "" {
		cmd.Admin = p.IsAdmin()
	}
	var err error
	cmd.URL, err = o.destURL(req.URL)
	errs.Add("url", err)
	if req.Alias != "" {
		errs.Add("alias", validate.Alias(req.Alias))
		cmd.Code, cmd.Custom = req.Alias, true
	}
	if req.ExpiresAt != nil {
		cmd.ExpiresAt, err = ParseExpiry(*req.ExpiresAt, now)
		errs.Add("expiresAt", err)
	}
	if req.RedirectStatus != nil {
		errs.Add("redirectStatus", checkRedirectStatus(*req.RedirectStatus))
		cmd.RedirectStatus = uint16(*req.RedirectStatus)
	}
	cmd.Title, err = validate.Title(req.Title)
	errs.Add("title", err)
	cmd.Tags, err = validate.Tags(req.Tags)
	errs.Add("tags", err)
	o.linkOptions(req.LinkOptions, nil, now, &errs).applyCreate(cmd)
	if err := Invalid("The link was not created.", errs); err != nil {
		return nil, err
	}
	return cmd, nil
}

// commitCreate mints a code unless an alias was given and proposes the
// create. A minted code that a custom alias already holds is replaced.
func (o *Ops) commitCreate(cmd *fsm.CreateLink, now time.Time) (*fsm.Result, error) {
	wctx, cancel := WriteCtx()
	defer cancel()
	var res *fsm.Result
	var err error
	for attempt := 0; attempt < mintAttempts; attempt++ {
		if !cmd.Custom {
			if cmd.Code, err = o.minter.Code(wctx); err != nil {
				break
			}
		}
		cmd.Now = now.UnixMilli()
		res, err = o.cl.Propose(wctx, cmd)
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if cmd.Custom || !errors.Is(err, fsm.ErrExists) {
			break
		}
	}
	return res, err
}

// LinkPatch is a change to a link: nil fields stay. ExpiresAt "" removes
// the expiry. Status ("active" or "blocked") is for admins. Invalid holds
// errors a front end found while reading the patch.
type LinkPatch struct {
	URL            *string
	Title          *string
	Tags           *[]string
	ExpiresAt      *string
	RedirectStatus *int
	Status         *string
	Options        LinkOptions
	Invalid        Fields
}

// writableLink refuses, before a write is proposed, only what the local
// store knows for certain: a deleted link stays deleted (KindGone) and a
// link never changes owner (KindNotFound for another user's). A link
// missing here may exist already on the leader (this replica may be behind
// a create another node acknowledged), so that case is proposed and the
// fsm decides.
func (o *Ops) writableLink(p Principal, code string) error {
	if _, err := o.st.Link(code); errors.Is(err, store.ErrNotFound) {
		return nil
	}
	_, err := o.VisibleLink(p, code)
	return err
}

// UpdateLink applies a patch to one of the principal's links.
func (o *Ops) UpdateLink(p Principal, code string, patch LinkPatch) (*store.Link, error) {
	if err := o.writableLink(p, code); err != nil {
		return nil, err
	}
	cmd, err := o.newUpdate(p, code, patch, time.Now())
	if err != nil {
		return nil, err
	}
	res, err := o.propose(cmd)
	if err != nil {
		return nil, err
	}
	return res.Link, nil
}

// newUpdate validates a patch of one link (single and bulk updates).
func (o *Ops) newUpdate(p Principal, code string, patch LinkPatch, now time.Time) (*fsm.UpdateLink, error) {
	cmd := &fsm.UpdateLink{Now: now.UnixMilli(), Code: code, Actor: p.Owner(), Admin: p.IsAdmin()}
	errs := patch.Invalid
	if patch.URL != nil {
		u, err := o.destURL(*patch.URL)
		errs.Add("url", err)
		cmd.URL = &u
	}
	if patch.Title != nil {
		t, err := validate.Title(*patch.Title)
		errs.Add("title", err)
		cmd.Title = &t
	}
	if patch.Tags != nil {
		t, err := validate.Tags(*patch.Tags)
		errs.Add("tags", err)
		cmd.Tags = &t
	}
	if patch.ExpiresAt != nil {
		ms, err := ParseExpiry(*patch.ExpiresAt, now)
		errs.Add("expiresAt", err)
		cmd.ExpiresAt = &ms
	}
	if patch.RedirectStatus != nil {
		errs.Add("redirectStatus", checkRedirectStatus(*patch.RedirectStatus))
		rs := uint16(*patch.RedirectStatus)
		cmd.RedirectStatus = &rs
	}
	if patch.Status != nil {
		var err error
		cmd.Blocked, err = statusChange(*patch.Status, p)
		errs.Add("status", err)
	}
	if cur, err := o.st.Link(code); err == nil {
		o.linkOptions(patch.Options, &cur.LinkOptions, now, &errs).applyUpdate(cmd)
	} else {
		o.linkOptions(patch.Options, &store.LinkOptions{}, now, &errs).applyUpdate(cmd)
	}
	if err := Invalid("The link was not changed.", errs); err != nil {
		return nil, err
	}
	return cmd, nil
}

// statusChange accepts "active" or "blocked" from admins only.
func statusChange(st string, p Principal) (*bool, error) {
	if !p.IsAdmin() {
		return nil, errors.New("only admins can block or unblock links")
	}
	switch st {
	case "active", "blocked":
		b := st == "blocked"
		return &b, nil
	}
	return nil, errors.New(`must be "active" or "blocked"`)
}

// DeleteLink deletes one of the principal's links. Deleting twice is
// deleting once (the fsm answers a delete of a deleted link with success,
// so that a retried delete succeeds): a link this replica knows to be
// deleted is certainly deleted everywhere.
func (o *Ops) DeleteLink(p Principal, code string) error {
	if l, err := o.st.Link(code); err == nil && l.Status == store.StatusDeleted && (p.IsAdmin() || l.Owner == p.Owner()) {
		return nil
	}
	if err := o.writableLink(p, code); err != nil {
		return err
	}
	_, err := o.propose(&fsm.DeleteLink{Now: time.Now().UnixMilli(), Code: code, Actor: p.Owner(), Admin: p.IsAdmin()})
	return err
}

// ParseExpiry validates an RFC 3339 expiry in the future; "" clears it.
func ParseExpiry(v string, now time.Time) (int64, error) {
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
	if !ValidRedirectStatus(n) {
		return errors.New("must be one of 301, 302, 307, 308")
	}
	return nil
}

func printableASCII(s string) bool {
	for _, r := range s {
		if r < 0x20 || r >= 0x7f {
			return false
		}
	}
	return true
}
