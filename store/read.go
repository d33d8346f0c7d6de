package store

import (
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// Resolve answers code for the redirect path: from the hot set when it holds
// the code, otherwise from Pebble, filling the hot set (unknown codes become
// negative entries). Concurrent misses for one code share one Pebble read.
// dst is scratch space that Entry.URL aliases; pass the returned slice back
// in next time to reuse it. A hit touches no disk and allocates nothing.
func (s *Store) Resolve(dst, code []byte) (Entry, []byte, error) {
	if e, b, ok := s.hot.get(dst, code); ok {
		return e, b, nil
	}
	f, own := s.hot.join(code)
	if own {
		e, err := s.readEntry(code)
		s.hot.land(code, f, e, err)
	} else if s.joinHook != nil {
		s.joinHook()
	}
	<-f.done
	if f.err != nil {
		return Entry{}, dst, f.err
	}
	e := f.e
	dst = append(dst[:0], e.URL...)
	e.URL = dst
	return e, dst, nil
}

// readEntry reads code's hot-set entry from Pebble.
func (s *Store) readEntry(code []byte) (Entry, error) {
	s.missReads.Add(1)
	if s.readHook != nil {
		s.readHook()
	}
	l, err := s.Link(string(code))
	if errors.Is(err, ErrNotFound) {
		l, err = nil, nil
	}
	if err != nil {
		return Entry{}, err
	}
	return entryFor(l), nil
}

// Page is one page of a newest-first listing. Next is the cursor for the
// following page, nil on the last one.
type Page struct {
	Links   []*Link
	Next    []byte
	lastKey []byte // index suffix of the last link examined
}

// ListQuery selects links for ListLinks.
type ListQuery struct {
	Owner uint64
	All   bool   // every owner's links (admins); Owner is ignored
	After []byte // a Next from an earlier page; nil for the first
	Limit int
	// Match, when set, keeps only the links it accepts (search, tag
	// filters). A filtered page examines at most MaxListScan links and then
	// ends early with a cursor, so a rare match costs bounded work per page.
	Match func(*Link) bool
}

// MaxListScan bounds the links one filtered page examines.
const MaxListScan = 20000

// ListLinks lists links newest first.
func (s *Store) ListLinks(q ListQuery) (Page, error) {
	prefix := ownerPrefix(q.Owner)
	if q.All {
		prefix = []byte{tCreated}
	}
	var page Page
	err := s.view(func(db *pebble.DB) error {
		start := append(append([]byte(nil), prefix...), q.After...)
		if q.After != nil {
			start = append(start, 0) // strictly after the cursor
		}
		scanned := 0
		return scan(db, start, prefixEnd(prefix), func(k, _ []byte) error {
			suffix := k[len(prefix):]
			if len(page.Links) == q.Limit || scanned == MaxListScan {
				page.Next = append([]byte(nil), page.lastKey...)
				return errStopScan
			}
			if len(suffix) <= 8 {
				return ErrCorrupt
			}
			scanned++
			page.lastKey = append(page.lastKey[:0], suffix...)
			l, err := getLink(db, string(suffix[8:]))
			if err == nil && (q.Match == nil || q.Match(l)) {
				page.Links = append(page.Links, l)
			}
			return err
		})
	})
	return page, err
}

// Members returns every recorded cluster member.
func (s *Store) Members() (map[string]*Member, error) {
	out := map[string]*Member{}
	prefix := []byte{tMember}
	err := s.view(func(db *pebble.DB) error {
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
		if err != nil {
			return err
		}
		defer it.Close()
		for ok := it.First(); ok; ok = it.Next() {
			m, err := unmarshalMember(it.Value())
			if err != nil {
				return err
			}
			out[m.ID] = m
		}
		return it.Error()
	})
	return out, err
}
