package fsm

import (
	"errors"
	"slices"

	"github.com/linkd/linkd/store"
)

// ErrProfileLink means a link command named a short link that belongs to
// its owner's profile (one of its links, or its page link). Such links
// change only through SetProfile, which writes the link and the profile's
// copy of its URL in one batch, so the page, the editor and the redirect
// never disagree, and only a principal that may edit the profile
// (profile:write) can move a profile button.
var ErrProfileLink = errors.New("the short link belongs to a profile")

// profileLinkRefusal returns a Result carrying ErrProfileLink when code is
// a profile link of its owner, unless the change is an admin's block or
// unblock (a takedown must reach every link). A missing link is left to
// the command's own apply to report.
func profileLinkRefusal(txn *store.Txn, code string, adminBlock bool) (*Result, error) {
	if adminBlock {
		return nil, nil
	}
	l, err := txn.Link(code)
	if errors.Is(err, store.ErrNotFound) || err == nil && l.Status == store.StatusBlocked {
		// Missing: the command's own apply reports it. Taken down: the
		// takedown is the reason it cannot change (ErrLinkBlocked), and
		// the owner is told that, not where to edit it.
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	p, err := txn.Profile(l.Owner)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if p.PageCode == code || slices.ContainsFunc(p.Links, func(pl store.ProfileLink) bool { return pl.Code == code }) {
		return &Result{Err: ErrProfileLink}, nil
	}
	return nil, nil
}

// onlyBlocks reports whether an update only blocks or unblocks its link.
func (c *UpdateLink) onlyBlocks() bool {
	return c.Blocked != nil && c.URL == nil && c.Title == nil && c.Tags == nil && c.ExpiresAt == nil && c.RedirectStatus == nil
}
