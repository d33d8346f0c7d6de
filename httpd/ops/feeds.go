package ops

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/store"
)

// Threat feeds (issue 14): admins add a feed by URL and format; the
// leader fetches it (node/feeds) and the fsm applies each list.

// DefaultFeedMinInterval is the shortest fetch interval a feed may have
// (--feed-min-interval).
const DefaultFeedMinInterval = 5 * time.Minute

// maxFeeds bounds how many feeds a cluster holds: every link create looks
// each listing up, and every feed costs the leader a fetch.
const maxFeeds = 32

// NewFeed is a feed as an admin submits it.
type NewFeed struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Format string `json:"format"`
	// IntervalSeconds is the fetch interval (default one hour).
	IntervalSeconds int64  `json:"intervalSeconds,omitempty"`
	Reason          string `json:"reason,omitempty"`
}

// Feed is a feed as the API shows it: its settings, its last good version
// and its last fetch.
type Feed struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	URL             string `json:"url"`
	Format          string `json:"format"`
	IntervalSeconds int64  `json:"intervalSeconds"`
	Reason          string `json:"reason,omitempty"`
	CreatedBy       uint64 `json:"createdBy"`
	CreatedAt       string `json:"createdAt"`
	Entries         uint64 `json:"entries"`
	UpdatedAt       string `json:"updatedAt,omitempty"`
	CheckedAt       string `json:"checkedAt,omitempty"`
	Error           string `json:"error,omitempty"`
}

// FeedView shows f.
func FeedView(f *store.Feed) Feed {
	v := Feed{ID: strconv.FormatUint(f.ID, 10), Name: f.Name, URL: f.URL, Format: f.Format.String(),
		IntervalSeconds: f.Every / 1000, Reason: f.Reason, CreatedBy: f.CreatedBy, CreatedAt: MsTime(f.CreatedAt),
		Entries: f.Entries, Error: f.Error}
	if f.UpdatedAt != 0 {
		v.UpdatedAt = MsTime(f.UpdatedAt)
	}
	if f.CheckedAt != 0 {
		v.CheckedAt = MsTime(f.CheckedAt)
	}
	return v
}

func feedFormat(s string) (store.FeedFormat, bool) {
	for _, f := range []store.FeedFormat{store.FeedHosts, store.FeedList, store.FeedURLhaus} {
		if f.String() == s {
			return f, true
		}
	}
	return 0, false
}

// AddFeed adds a feed; the leader fetches it at once and then every
// interval.
func (o *Ops) AddFeed(p Principal, req NewFeed) (Feed, error) {
	if !p.IsAdmin() {
		return Feed{}, Fail(KindForbidden, "Only admins manage threat feeds.")
	}
	var errs Fields
	name, err := boundedText(req.Name, 100, false)
	if err == nil && name == "" {
		err = errors.New("is required")
	}
	errs.Add("name", err)
	u, err := url.Parse(strings.TrimSpace(req.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(req.URL) > 2048 || u.User != nil {
		errs.Add("url", errors.New("must be an http(s) URL of at most 2048 characters, without credentials"))
	}
	format, ok := feedFormat(req.Format)
	if !ok {
		errs.Add("format", errors.New(`must be "hosts", "list" or "urlhaus"`))
	}
	every := time.Duration(req.IntervalSeconds) * time.Second
	if req.IntervalSeconds == 0 {
		every = time.Hour
	}
	if every < o.feedMin || every > 7*24*time.Hour {
		errs.Add("intervalSeconds", errors.New("must be from "+strconv.Itoa(int(o.feedMin/time.Second))+" to 604800"))
	}
	reason, err := boundedText(req.Reason, maxReason, false)
	errs.Add("reason", err)
	if err := Invalid("The feed was not added.", errs); err != nil {
		return Feed{}, err
	}
	feeds, err := o.st.Feeds()
	if err != nil {
		return Feed{}, err
	}
	if len(feeds) >= maxFeeds {
		return Feed{}, Fail(KindValidation, "The feed was not added.", FieldError{Field: "url",
			Message: "the cluster holds " + strconv.Itoa(maxFeeds) + " feeds, the most it may: delete one first"})
	}
	c := &fsm.PutFeed{Now: time.Now().UnixMilli(), ID: newBlockID(), Name: name, URL: u.String(), Format: uint8(format),
		Every: every.Milliseconds(), Reason: reason, Actor: p.Owner()}
	if _, err := o.propose(c); err != nil {
		return Feed{}, err
	}
	return FeedView(&store.Feed{ID: c.ID, Name: c.Name, URL: c.URL, Format: format, Every: c.Every, Reason: reason,
		CreatedBy: c.Actor, CreatedAt: c.Now}), nil
}

// Feeds lists the feeds (admins only).
func (o *Ops) Feeds(p Principal) ([]Feed, error) {
	if !p.IsAdmin() {
		return nil, Fail(KindForbidden, "Only admins manage threat feeds.")
	}
	fs, err := o.st.Feeds()
	out := make([]Feed, 0, len(fs))
	for _, f := range fs {
		out = append(out, FeedView(f))
	}
	return out, err
}

// DeleteFeed removes a feed, its entries and its takedowns.
func (o *Ops) DeleteFeed(p Principal, id string) error {
	if !p.IsAdmin() {
		return Fail(KindForbidden, "Only admins manage threat feeds.")
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return Fail(KindNotFound, "No such feed.")
	}
	_, err = o.propose(&fsm.DeleteFeed{Now: time.Now().UnixMilli(), ID: n, Actor: p.Owner()})
	return err
}
