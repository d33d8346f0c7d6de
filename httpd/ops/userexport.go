package ops

import (
	"errors"
	"time"

	"github.com/linkd/linkd/store"
)

// exportDays is how much analytics history an export carries per link
// (the daily rollups' retention is at most this long by default).
const exportDays = 90

// Export is everything linkd holds about one user, as one JSON document
// (self-service privacy: the right of access and to portability).
type Export struct {
	ExportedAt string       `json:"exportedAt"`
	User       User         `json:"user"`
	Keys       []Key        `json:"apiKeys"`
	Profile    *Profile     `json:"profile"`
	Links      []ExportLink `json:"links"`
}

// ExportLink is one link with its analytics.
type ExportLink struct {
	Link
	Analytics *Report `json:"analytics,omitempty"`
}

// Export gathers the principal's data: account, API keys' metadata (never
// tokens), profile, every link (takedowns included) and each link's last
// exportDays days of daily analytics.
func (o *Ops) Export(p Principal) (Export, error) {
	now := time.Now()
	out := Export{ExportedAt: now.UTC().Format(time.RFC3339), User: UserView(p.User), Links: []ExportLink{}}
	keys, err := o.Keys(p)
	if err != nil {
		return Export{}, err
	}
	out.Keys = keys
	if prof, err := o.st.Profile(p.Owner()); err == nil {
		v := o.ProfileView(prof, true)
		out.Profile = &v
	} else if !errors.Is(err, store.ErrNotFound) {
		return Export{}, err
	}
	q := AnalyticsQuery{From: now.Add(-exportDays * 24 * time.Hour), To: now, Interval: "day", Loc: time.UTC}
	var after []byte
	for {
		page, err := o.st.ListLinks(store.ListQuery{Owner: p.Owner(), After: after, Limit: 500})
		if err != nil {
			return Export{}, err
		}
		for _, l := range page.Links {
			el := ExportLink{Link: o.LinkView(l, now.UnixMilli())}
			if r, err := o.Report(l.Code, q); err == nil {
				el.Analytics = &r
			}
			out.Links = append(out.Links, el)
		}
		if page.Next == nil {
			return out, nil
		}
		after = page.Next
	}
}
