package fsm

import (
	"errors"
	"strconv"
	"strings"

	"github.com/linkd/linkd/store"
)

// Threat feed commands (issue 14). Types 100–104 belong to this file.
//
// An admin adds a feed (PutFeed); the leader fetches it on its schedule and
// applies what it fetched as one new version: StageFeed chunks (at most
// MaxFeedChunk entries each, so no raft entry grows with the feed) and a
// CommitFeed that swaps the version in and rescans every link in one Apply.
// A failed or unchanged fetch is recorded by CheckedFeed and leaves the
// committed version (the last good one) alone.
const (
	TypePutFeed     Type = 100
	TypeDeleteFeed  Type = 101
	TypeStageFeed   Type = 102
	TypeCommitFeed  Type = 103
	TypeCheckedFeed Type = 104
)

// MaxFeedChunk bounds the entries of one StageFeed. A chunk of 5,000 URL
// entries of the 2,048-byte maximum is 10 MiB; typical entries (30 bytes)
// make ~150 KiB entries.
const MaxFeedChunk = 5000

// Feed errors.
var (
	ErrFeedNotFound = errors.New("no such feed")
	// ErrFeedStage means a chunk or commit does not continue the staged
	// version (another fetch restarted staging, or a chunk was lost).
	ErrFeedStage = errors.New("feed version is not staged in order")
	// ErrFeedEntry means an entry is not of a known kind or holds a NUL.
	ErrFeedEntry = errors.New("invalid feed entry")
	// ErrDailyQuota means the owner created CreateLink.DailyQuota links
	// this UTC day already.
	ErrDailyQuota = errors.New("daily link quota reached")
)

// PutFeed adds a feed, or changes its settings (its entries stay).
type PutFeed struct {
	Header
	Now    int64  `codec:"now"`
	ID     uint64 `codec:"id"`
	Name   string `codec:"name"`
	URL    string `codec:"url"`
	Format uint8  `codec:"fmt"`
	Every  int64  `codec:"every"`
	Reason string `codec:"why,omitempty"`
	Actor  uint64 `codec:"actor"`
}

// DeleteFeed removes a feed and its entries and lifts its takedowns.
type DeleteFeed struct {
	Header
	Now   int64  `codec:"now"`
	ID    uint64 `codec:"id"`
	Actor uint64 `codec:"actor"`
}

// StageFeed adds entries to version Ver of a feed. Seq 0 starts the
// version (dropping any other staged one); each later chunk must carry the
// next Seq. An entry is its kind byte (store.BlockKind) and its normalised
// value.
type StageFeed struct {
	Header
	Now     int64    `codec:"now"`
	ID      uint64   `codec:"id"`
	Ver     uint64   `codec:"ver"`
	Seq     uint64   `codec:"seq"`
	Entries []string `codec:"ents"`
}

// CommitFeed makes staged version Ver (Count entries, content hash Hash)
// the feed's list: it replaces the previous version, blocks every active
// link that the new list matches and lifts the feed's takedowns of links
// it no longer matches, in this one Apply.
type CommitFeed struct {
	Header
	Now   int64  `codec:"now"`
	ID    uint64 `codec:"id"`
	Ver   uint64 `codec:"ver"`
	Count uint64 `codec:"n"`
	Hash  []byte `codec:"hash"`
}

// CheckedFeed records a fetch that changed nothing: it failed (Error set;
// the last good version stays) or the list was unchanged.
type CheckedFeed struct {
	Header
	Now   int64  `codec:"now"`
	ID    uint64 `codec:"id"`
	Error string `codec:"err,omitempty"`
}

func (*PutFeed) Type() Type     { return TypePutFeed }
func (*DeleteFeed) Type() Type  { return TypeDeleteFeed }
func (*StageFeed) Type() Type   { return TypeStageFeed }
func (*CommitFeed) Type() Type  { return TypeCommitFeed }
func (*CheckedFeed) Type() Type { return TypeCheckedFeed }

func init() {
	for _, t := range []Type{TypePutFeed, TypeDeleteFeed, TypeStageFeed, TypeCommitFeed, TypeCheckedFeed} {
		versions[t] = 1
	}
	domainErrors["feed-not-found"] = ErrFeedNotFound
	domainErrors["feed-stage"] = ErrFeedStage
	domainErrors["feed-entry"] = ErrFeedEntry
	domainErrors["daily-quota"] = ErrDailyQuota
}

func newFeedCommand(t Type) Command {
	switch t {
	case TypePutFeed:
		return &PutFeed{}
	case TypeDeleteFeed:
		return &DeleteFeed{}
	case TypeStageFeed:
		return &StageFeed{}
	case TypeCommitFeed:
		return &CommitFeed{}
	case TypeCheckedFeed:
		return &CheckedFeed{}
	case TypeReviewLink:
		return &ReviewLink{}
	case TypeSetUserTrust:
		return &SetUserTrust{}
	}
	return nil
}

func applyFeedCommand(txn *store.Txn, c Command) (r *Result, ok bool, err error) {
	switch c := c.(type) {
	case *PutFeed:
		r, err = applyPutFeed(txn, c)
	case *DeleteFeed:
		r, err = applyDeleteFeed(txn, c)
	case *StageFeed:
		r, err = applyStageFeed(txn, c)
	case *CommitFeed:
		r, err = applyCommitFeed(txn, c)
	case *CheckedFeed:
		r, err = applyCheckedFeed(txn, c)
	case *ReviewLink:
		r, err = applyReviewLink(txn, c)
	case *SetUserTrust:
		r, err = applySetUserTrust(txn, c)
	default:
		return nil, false, nil
	}
	return r, true, err
}

// feedOf returns feed id, or a not-found Result.
func feedOf(txn *store.Txn, id uint64) (*store.Feed, *Result, error) {
	f, err := txn.Feed(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Result{Err: ErrFeedNotFound}, nil
	}
	return f, nil, err
}

func applyPutFeed(txn *store.Txn, c *PutFeed) (*Result, error) {
	f, err := txn.Feed(c.ID)
	action := "feed.change"
	if errors.Is(err, store.ErrNotFound) {
		f, action = &store.Feed{ID: c.ID, CreatedBy: c.Actor, CreatedAt: c.Now}, "feed.add"
	} else if err != nil {
		return nil, err
	}
	f.Name, f.URL, f.Format, f.Every, f.Reason = c.Name, c.URL, store.FeedFormat(c.Format), c.Every, c.Reason
	txn.PutFeed(f)
	return &Result{}, txn.Audit(&store.AuditEntry{At: c.Now, Actor: c.Actor, Action: action, Target: "feed:" + c.Name,
		Detail: f.Format.String() + " " + c.URL})
}

func applyDeleteFeed(txn *store.Txn, c *DeleteFeed) (*Result, error) {
	f, res, err := feedOf(txn, c.ID)
	if f == nil {
		return res, err
	}
	err = txn.FeedEntries(f.ID, f.Version, func(k store.BlockKind, v string) error {
		txn.UnindexFeedEntry(f.ID, k, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	vers, err := txn.FeedVersions(f.ID)
	if err != nil {
		return nil, err
	}
	for _, v := range vers {
		if err := txn.DeleteFeedVersion(f.ID, v); err != nil {
			return nil, err
		}
	}
	txn.DeleteFeed(f)
	_, lifted, err := relistFeedTakedowns(txn, f.ID, c.Now)
	if err != nil {
		return nil, err
	}
	return &Result{}, txn.Audit(&store.AuditEntry{At: c.Now, Actor: c.Actor, Action: "feed.delete",
		Target: "feed:" + f.Name, Detail: "unblocked " + strconv.Itoa(lifted) + " links"})
}

// parseFeedEntry splits an encoded entry.
func parseFeedEntry(e string) (store.BlockKind, string, bool) {
	if len(e) < 2 || strings.IndexByte(e, 0) >= 0 {
		return 0, "", false
	}
	k := store.BlockKind(e[0])
	if k != store.BlockURL && k != store.BlockHost && k != store.BlockDomain {
		return 0, "", false
	}
	return k, e[1:], true
}

func applyStageFeed(txn *store.Txn, c *StageFeed) (*Result, error) {
	f, res, err := feedOf(txn, c.ID)
	if f == nil {
		return res, err
	}
	if c.Ver == 0 || c.Ver == f.Version || len(c.Entries) > MaxFeedChunk ||
		(c.Seq > 0 && (f.Staging != c.Ver || f.StageSeq != c.Seq)) {
		return &Result{Err: ErrFeedStage}, nil
	}
	for _, e := range c.Entries { // check everything before writing
		if _, _, ok := parseFeedEntry(e); !ok {
			return &Result{Err: ErrFeedEntry}, nil
		}
	}
	if c.Seq == 0 {
		if f.Staging != 0 && f.Staging != f.Version {
			if err := txn.DeleteFeedVersion(f.ID, f.Staging); err != nil {
				return nil, err
			}
		}
		f.Staging, f.Staged = c.Ver, 0
	}
	for _, e := range c.Entries {
		k, v, _ := parseFeedEntry(e)
		added, err := txn.PutFeedEntry(f.ID, c.Ver, k, v)
		if err != nil {
			return nil, err
		}
		if added {
			f.Staged++
		}
	}
	f.StageSeq = c.Seq + 1
	txn.PutFeed(f)
	return &Result{}, nil
}

func applyCommitFeed(txn *store.Txn, c *CommitFeed) (*Result, error) {
	f, res, err := feedOf(txn, c.ID)
	if f == nil {
		return res, err
	}
	if f.Staging != c.Ver || c.Ver == 0 || f.Staged != c.Count {
		return &Result{Err: ErrFeedStage}, nil
	}
	old := f.Version
	// Swap the index: drop what the new version no longer lists, add what
	// it lists anew, then drop the old version's entries.
	err = txn.FeedEntries(f.ID, old, func(k store.BlockKind, v string) error {
		keep, err := txn.HasFeedEntry(f.ID, c.Ver, k, v)
		if err == nil && !keep {
			txn.UnindexFeedEntry(f.ID, k, v)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	err = txn.FeedEntries(f.ID, c.Ver, func(k store.BlockKind, v string) error {
		txn.IndexFeedEntry(f.ID, k, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if old != 0 {
		if err := txn.DeleteFeedVersion(f.ID, old); err != nil {
			return nil, err
		}
	}
	f.Version, f.Entries, f.Hash, f.UpdatedAt, f.CheckedAt, f.Error = c.Ver, c.Count, c.Hash, c.Now, c.Now, ""
	f.Staging, f.StageSeq, f.Staged = 0, 0, 0
	txn.PutFeed(f)
	_, lifted, err := relistFeedTakedowns(txn, f.ID, c.Now)
	if err != nil {
		return nil, err
	}
	blocked, err := rescanFeed(txn, f, c.Now)
	if err != nil {
		return nil, err
	}
	return &Result{}, txn.Audit(&store.AuditEntry{At: c.Now, Action: "feed.update", Target: "feed:" + f.Name,
		Detail: strconv.FormatUint(c.Count, 10) + " entries; blocked " + strconv.Itoa(blocked) +
			" links, unblocked " + strconv.Itoa(lifted)})
}

func applyCheckedFeed(txn *store.Txn, c *CheckedFeed) (*Result, error) {
	f, res, err := feedOf(txn, c.ID)
	if f == nil {
		return res, err
	}
	f.CheckedAt, f.Error = c.Now, c.Error
	txn.PutFeed(f)
	return &Result{}, nil
}

// feedListing returns a feed whose committed version lists raw's host, a
// parent domain of it or its host and path, or 0.
func feedListing(txn *store.Txn, raw string) (uint64, error) {
	var id uint64
	_, err := listed(raw, func(k store.BlockKind, v string) (bool, error) {
		var err error
		id, err = txn.FeedListed(k, v)
		return id != 0, err
	})
	return id, err
}

// feedReason is what the owner and the 451 page read for a feed takedown.
func feedReason(f *store.Feed) string {
	s := "Its destination is on the threat feed " + strconv.Quote(f.Name)
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	return s
}

// rescanFeed blocks every active link that feed f's committed version
// lists (one walk over the links) and returns how many.
func rescanFeed(txn *store.Txn, f *store.Feed, now int64) (int, error) {
	if f.Entries == 0 {
		return 0, nil
	}
	var hits []*store.Link
	err := txn.EachLink(func(l *store.Link) error {
		if !reviewable(l) {
			return nil
		}
		listed, err := listedBy(txn, f, l.URL)
		if listed {
			hits = append(hits, l)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, l := range hits {
		block(txn, l, &store.Takedown{Reason: feedReason(f), At: now, Feed: f.ID})
	}
	return len(hits), nil
}

// listedBy reports whether feed f's committed version lists raw.
func listedBy(txn *store.Txn, f *store.Feed, raw string) (bool, error) {
	return listed(raw, func(k store.BlockKind, v string) (bool, error) { return txn.HasFeedEntry(f.ID, f.Version, k, v) })
}

// relistFeedTakedowns revisits every takedown feed id made (after its list
// changed or it was removed) with relist, checking the blocklist too. It
// returns how many stayed blocked and how many were lifted. Takedowns by
// hand are never touched.
func relistFeedTakedowns(txn *store.Txn, id uint64, now int64) (kept, lifted int, err error) {
	var tds []*store.Takedown
	err = txn.Takedowns(func(td *store.Takedown) error {
		if td.Feed == id {
			tds = append(tds, td)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	for _, td := range tds {
		stays, err := relist(txn, td, now, true)
		if err != nil {
			return 0, 0, err
		}
		if stays {
			kept++
		} else {
			lifted++
		}
	}
	return kept, lifted, nil
}

// relist decides a takedown whose cause (a feed's entry, a blocklist
// entry) went away: a link still listed by a feed stays blocked,
// attributed to that feed; with blocklist set, one still matching a
// blocklist entry stays blocked under it; any other is unblocked.
func relist(txn *store.Txn, td *store.Takedown, now int64, blocklist bool) (bool, error) {
	l, err := txn.Link(td.Code)
	if err != nil {
		return false, err
	}
	id, err := feedListing(txn, l.URL)
	if err != nil {
		return false, err
	}
	if id != 0 {
		if id != td.Feed {
			f, err := txn.Feed(id)
			if err != nil {
				return false, err
			}
			txn.DeleteTakedown(td)
			block(txn, l, &store.Takedown{Reason: feedReason(f), At: now, Feed: id})
		}
		return true, nil
	}
	if blocklist {
		b, err := blockListing(txn, l.URL)
		if err != nil {
			return false, err
		}
		if b != nil {
			txn.DeleteTakedown(td)
			block(txn, l, &store.Takedown{Reason: blockReason(b), By: b.CreatedBy, At: now, BlockID: b.ID})
			return true, nil
		}
	}
	return false, unblock(txn, l, now)
}
