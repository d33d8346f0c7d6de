package fsm

import (
	"errors"
	"slices"

	"github.com/linkd/linkd/store"
)

// ErrHandleTaken means another user's profile has that handle.
var ErrHandleTaken = errors.New("handle already taken")

// SetProfile replaces a user's whole profile in one step: fields, theme,
// and the ordered links. Every link is a short link of the user: codes in
// NewCodes are created (minted by the proposer), the others must be the
// user's live links and get the given URL and title, and links the
// previous version had but this one lacks are deleted. PageCode is the
// short link whose clicks count the page's views; it points at PageURL.
//
// Custom and Links use store's types for the callers' convenience, but are
// never encoded through them: CodecEncodeSelf writes setProfileWire, whose
// tags pin every field, so renaming a store field cannot change the log.
type SetProfile struct {
	Header
	Now         int64
	User        uint64
	Handle      string
	DisplayName string
	Bio         string
	Avatar      string
	Theme       string
	Custom      store.ThemeCustom
	PageCode    string
	PageURL     string
	Links       []store.ProfileLink
	NewCodes    []string
	// RetireAt (version 2), when set, is when the short links the profile
	// drops stop redirecting: they get it as their expiry instead of being
	// deleted at once, so a page a CDN still serves from its cache keeps
	// working links. Version 1 entries (zero) delete them, as before.
	RetireAt int64
	// Hold (version 3) creates the profile's new links held for review
	// (--review-new-users, decided by the proposer; Apply lifts it for an
	// approved user): they answer "pending review" and are missing from
	// the public page until an admin approves them. The page link is
	// never held. Only a save that holds is written as version 3.
	Hold bool
}

func (c *SetProfile) version() uint8 {
	if c.Hold {
		return 3
	}
	return 2
}

// PutImage stores a re-encoded image under the SHA-256 of its bytes. Like
// SetProfile it is encoded through a wire struct of its own (putImageWire).
type PutImage struct {
	Header
	Now   int64
	ID    []byte
	Image store.Image
}

func (*SetProfile) Type() Type { return TypeSetProfile }
func (*PutImage) Type() Type   { return TypePutImage }

// applyProfile applies the profile commands; ok is false for other types.
func applyProfile(txn *store.Txn, c Command) (r *Result, ok bool, err error) {
	switch c := c.(type) {
	case *SetProfile:
		r, err = applySetProfile(txn, c)
	case *PutImage:
		r, err = &Result{}, txn.PutImage(c.ID, &c.Image)
	case *UploadImage:
		r, err = applyUploadImage(txn, c)
	default:
		return nil, false, nil
	}
	return r, true, err
}

func applySetProfile(txn *store.Txn, c *SetProfile) (*Result, error) {
	if _, res, err := enabledUser(txn, c.User); res != nil || err != nil {
		return res, err
	}
	prev, err := txn.Profile(c.User)
	if errors.Is(err, store.ErrNotFound) {
		prev = nil
	} else if err != nil {
		return nil, err
	}
	if prev != nil && prev.UpdatedAt == c.Now {
		return &Result{Profile: prev, Replayed: true}, nil // this very command, applied before
	}
	if owner, err := txn.HandleOwner(c.Handle); err == nil && owner != c.User {
		return &Result{Err: ErrHandleTaken}, nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	// Check everything before writing anything: a failed command must
	// leave no trace in the batch it shares with others.
	wanted := append(slices.Clone(c.Links), store.ProfileLink{Code: c.PageCode, URL: c.PageURL, Title: "Profile page"})
	hold := false
	if c.Hold {
		if _, _, hold, err = createTrust(txn, c.User, 0, true); err != nil {
			return nil, err
		}
	}
	existing := map[string]*store.Link{}
	for _, pl := range wanted {
		l, res, err := checkProfileLink(txn, c, pl.Code)
		if res != nil || err != nil {
			return res, err
		}
		if res, err := checkProfileDest(txn, pl, l); res != nil || err != nil {
			return res, err
		}
		existing[pl.Code] = l
	}
	for _, pl := range wanted {
		putProfileLink(txn, c, pl, existing[pl.Code], hold && pl.Code != c.PageCode)
	}
	if prev != nil {
		if err := dropLinks(txn, prev, wanted, c.Now, c.RetireAt); err != nil {
			return nil, err
		}
	}
	p := &store.Profile{User: c.User, Handle: c.Handle, DisplayName: c.DisplayName, Bio: c.Bio, Avatar: c.Avatar,
		Theme: c.Theme, Custom: c.Custom, PageCode: c.PageCode, Links: c.Links, UpdatedAt: c.Now}
	txn.PutProfile(prev, p)
	return &Result{Profile: p}, nil
}

// checkProfileLink returns the existing link for code, or nil for a new
// one, or the domain error that stops the command.
func checkProfileLink(txn *store.Txn, c *SetProfile, code string) (*store.Link, *Result, error) {
	l, err := txn.Link(code)
	isNew := slices.Contains(c.NewCodes, code)
	switch {
	case errors.Is(err, store.ErrNotFound) && isNew:
		return nil, nil, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, nil, err
	case isNew:
		return nil, &Result{Err: ErrExists}, nil
	case err != nil || l.Owner != c.User:
		return nil, &Result{Err: ErrNotFound}, nil
	case l.Status == store.StatusDeleted:
		return nil, &Result{Err: ErrGone}, nil
	}
	return l, nil, nil
}

// checkProfileDest refuses a blocked link's change (it is frozen) and a
// new or changed destination that is blocked.
func checkProfileDest(txn *store.Txn, pl store.ProfileLink, l *store.Link) (*Result, error) {
	if l != nil && l.URL == pl.URL {
		if frozen(l, false) && l.Title != pl.Title {
			return &Result{Err: ErrLinkBlocked}, nil
		}
		return nil, nil
	}
	if l != nil && frozen(l, false) {
		return &Result{Err: ErrLinkBlocked}, nil
	}
	if blocked, err := destBlocked(txn, pl.URL); blocked || err != nil {
		return &Result{Err: ErrBlockedDestination}, err
	}
	return nil, nil
}

// putProfileLink creates a new profile link (held for review if hold),
// or updates an existing one's destination and title.
func putProfileLink(txn *store.Txn, c *SetProfile, pl store.ProfileLink, l *store.Link, hold bool) {
	if l == nil {
		status := store.StatusActive
		if hold {
			status = store.StatusHeld
		}
		txn.CreateLink(&store.Link{Code: pl.Code, URL: pl.URL, Owner: c.User, CreatedAt: c.Now, UpdatedAt: c.Now,
			RedirectStatus: 302, Status: status, Title: pl.Title, Tags: []string{"profile"}})
		return
	}
	if l.URL != pl.URL || l.Title != pl.Title {
		l.URL, l.Title, l.UpdatedAt = pl.URL, pl.Title, c.Now
		txn.UpdateLink(l)
	}
}

// dropLinks retires (retireAt > 0: expire then, unless they expire
// sooner) or deletes the short links of prev that the new version lost.
func dropLinks(txn *store.Txn, prev *store.Profile, kept []store.ProfileLink, now, retireAt int64) error {
	keep := map[string]bool{}
	for _, pl := range kept {
		keep[pl.Code] = true
	}
	codes := []string{prev.PageCode}
	for _, pl := range prev.Links {
		codes = append(codes, pl.Code)
	}
	for _, code := range codes {
		if keep[code] {
			continue
		}
		l, err := txn.Link(code)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		switch {
		case l.Owner != prev.User || l.Status == store.StatusDeleted:
		case l.Status == store.StatusBlocked:
			// A taken-down link stays (answering 451) when its owner drops it.
		case retireAt > now && !l.Expired(now):
			if l.ExpiresAt == 0 || l.ExpiresAt > retireAt {
				l.ExpiresAt, l.UpdatedAt = retireAt, now
				txn.UpdateLink(l)
			}
		default:
			txn.DeleteLink(l, now)
		}
	}
	return nil
}
