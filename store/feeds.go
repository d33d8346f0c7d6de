package store

import (
	"bytes"
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"
)

// Threat feeds (issue 14). A feed is an admin's subscription to a remote
// list; the leader fetches it and the fsm applies each fetched list as one
// version:
//
//	R<id:8>                          a feed (Feed)
//	N<id:8><ver:8><kind:1><value>    the entries of one version (empty value)
//	y<kind:1><value>\0<id:8>         every committed entry, by value (empty value)
//
// N holds the committed version and at most one staged version (a list
// large enough to need several raft entries is staged in chunks and then
// committed at once). y indexes only committed versions, so a create check
// and a rescan answer "is this listed by any feed" with point lookups.
// Entry values never hold a NUL byte (the fsm refuses them).
const (
	tFeed      = 'R'
	tFeedEntry = 'N'
	tFeedIdx   = 'y'
)

// FeedFormat is how a feed's body is parsed. Numbers are stored: only add.
type FeedFormat uint8

// Feed formats.
const (
	FeedHosts   FeedFormat = 1 // a hosts file: "0.0.0.0 host" lines
	FeedList    FeedFormat = 2 // one domain or URL a line
	FeedURLhaus FeedFormat = 3 // URLhaus CSV (url in the third column)
)

func (f FeedFormat) String() string {
	switch f {
	case FeedHosts:
		return "hosts"
	case FeedList:
		return "list"
	case FeedURLhaus:
		return "urlhaus"
	}
	return "unknown"
}

// Feed is one threat feed and the state of its last fetches.
type Feed struct {
	ID        uint64
	Name      string
	URL       string
	Format    FeedFormat
	Every     int64 // fetch interval, ms
	Reason    string
	CreatedBy uint64
	CreatedAt int64
	// The committed version: its id (0: none yet), entry count, content
	// hash (the fetcher skips an unchanged list) and commit time.
	Version   uint64
	Entries   uint64
	Hash      []byte
	UpdatedAt int64
	// The last fetch: when it ended, and its error ("" when it succeeded).
	CheckedAt int64
	Error     string
	// A version being staged: its id, the next chunk's sequence number and
	// the entries staged so far.
	Staging  uint64
	StageSeq uint64
	Staged   uint64
}

func marshalFeed(f *Feed) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.uv(f.ID)
	e.str(f.Name)
	e.str(f.URL)
	e.u8(uint8(f.Format))
	e.iv(f.Every)
	e.str(f.Reason)
	e.uv(f.CreatedBy)
	e.iv(f.CreatedAt)
	e.uv(f.Version)
	e.uv(f.Entries)
	e.bytes(f.Hash)
	e.iv(f.UpdatedAt)
	e.iv(f.CheckedAt)
	e.str(f.Error)
	e.uv(f.Staging)
	e.uv(f.StageSeq)
	e.uv(f.Staged)
	return e.b
}

func unmarshalFeed(v []byte) (*Feed, error) {
	d := decoder{b: v}
	d.version(recordV1)
	f := &Feed{ID: d.uv(), Name: d.str(), URL: d.str(), Format: FeedFormat(d.u8()), Every: d.iv(), Reason: d.str(),
		CreatedBy: d.uv(), CreatedAt: d.iv(), Version: d.uv(), Entries: d.uv(), Hash: d.bytes(), UpdatedAt: d.iv(),
		CheckedAt: d.iv(), Error: d.str(), Staging: d.uv(), StageSeq: d.uv(), Staged: d.uv()}
	return f, d.err
}

func feedKey(id uint64) []byte { return binary.BigEndian.AppendUint64([]byte{tFeed}, id) }

func feedVersionPrefix(id, ver uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64([]byte{tFeedEntry}, id), ver)
}

func feedEntryKey(id, ver uint64, k BlockKind, value string) []byte {
	return append(append(feedVersionPrefix(id, ver), byte(k)), value...)
}

func feedIdxPrefix(k BlockKind, value string) []byte {
	return append(append([]byte{tFeedIdx, byte(k)}, value...), 0)
}

// Feed returns feed id, or ErrNotFound.
func (t *Txn) Feed(id uint64) (*Feed, error) { return decodeFrom(t.b, feedKey(id), unmarshalFeed) }

// PutFeed stores f and wakes the feed fetcher once the Txn commits.
func (t *Txn) PutFeed(f *Feed) {
	t.set(feedKey(f.ID), marshalFeed(f))
	t.feedsChanged = true
}

// DeleteFeed removes f's record (its entries are removed by the caller).
func (t *Txn) DeleteFeed(f *Feed) {
	t.del(feedKey(f.ID))
	t.feedsChanged = true
}

// PutFeedEntry adds an entry to version ver of feed id and reports whether
// it was new.
func (t *Txn) PutFeedEntry(id, ver uint64, k BlockKind, value string) (bool, error) {
	key := feedEntryKey(id, ver, k, value)
	if _, err := get(t.b, key); err == nil {
		return false, nil
	} else if err != ErrNotFound {
		return false, err
	}
	t.set(key, nil)
	return true, nil
}

// HasFeedEntry reports whether version ver of feed id lists value.
func (t *Txn) HasFeedEntry(id, ver uint64, k BlockKind, value string) (bool, error) {
	_, err := get(t.b, feedEntryKey(id, ver, k, value))
	if err == ErrNotFound {
		return false, nil
	}
	return err == nil, err
}

// FeedEntries calls fn for every entry of version ver of feed id.
func (t *Txn) FeedEntries(id, ver uint64, fn func(k BlockKind, value string) error) error {
	p := feedVersionPrefix(id, ver)
	return scanPrefix(t.b, p, func(k, _ []byte) error {
		if len(k) <= len(p) {
			return ErrCorrupt
		}
		return fn(BlockKind(k[len(p)]), string(k[len(p)+1:]))
	})
}

// DeleteFeedVersion removes every entry of version ver of feed id.
func (t *Txn) DeleteFeedVersion(id, ver uint64) error {
	var keys [][]byte
	err := scanPrefix(t.b, feedVersionPrefix(id, ver), func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	})
	for _, k := range keys {
		t.del(k)
	}
	return err
}

// IndexFeedEntry marks value as listed by feed id; UnindexFeedEntry undoes it.
func (t *Txn) IndexFeedEntry(id uint64, k BlockKind, value string) {
	t.set(binary.BigEndian.AppendUint64(feedIdxPrefix(k, value), id), nil)
}

// UnindexFeedEntry removes value's listing by feed id.
func (t *Txn) UnindexFeedEntry(id uint64, k BlockKind, value string) {
	t.del(binary.BigEndian.AppendUint64(feedIdxPrefix(k, value), id))
}

// FeedListed returns a feed whose committed version lists value (the
// lowest id), or 0.
func (t *Txn) FeedListed(k BlockKind, value string) (uint64, error) {
	if !t.s.destLists.may(listFeed) {
		return 0, nil // no feed lists anything: no read (derived.go)
	}
	var id uint64
	p := feedIdxPrefix(k, value)
	err := scanPrefix(t.b, p, func(key, _ []byte) error {
		if len(key) != len(p)+8 {
			return ErrCorrupt
		}
		id = binary.BigEndian.Uint64(key[len(p):])
		return errStopScan
	})
	return id, err
}

// Feeds returns every feed, oldest id first.
func (s *Store) Feeds() ([]*Feed, error) {
	var out []*Feed
	err := s.view(func(db *pebble.DB) error {
		return scanPrefix(db, []byte{tFeed}, func(_, v []byte) error {
			f, err := unmarshalFeed(v)
			if err == nil {
				out = append(out, f)
			}
			return err
		})
	})
	return out, err
}

// FeedsChanged returns a channel closed at the next commit that changes a
// feed (added, removed, fetched). Take it before reading Feeds.
func (s *Store) FeedsChanged() <-chan struct{} { return s.feeds.wait() }

// feedEntryEnd is the first key after every entry of feed id (all versions).
func feedEnd(id uint64) []byte {
	return prefixEnd(binary.BigEndian.AppendUint64([]byte{tFeedEntry}, id))
}

// FeedVersions returns the version ids that have entries of feed id (the
// committed and a staged one at most).
func (t *Txn) FeedVersions(id uint64) ([]uint64, error) {
	var vers []uint64
	lo := binary.BigEndian.AppendUint64([]byte{tFeedEntry}, id)
	hi := feedEnd(id)
	for {
		var found []byte
		err := scan(t.b, lo, hi, func(k, _ []byte) error {
			found = append([]byte(nil), k...)
			return errStopScan
		})
		if err != nil || found == nil {
			return vers, err
		}
		if len(found) < 17 {
			return vers, ErrCorrupt
		}
		v := binary.BigEndian.Uint64(found[9:17])
		vers = append(vers, v)
		lo = prefixEnd(found[:17])
		if lo == nil || bytes.Compare(lo, hi) >= 0 {
			return vers, nil
		}
	}
}
