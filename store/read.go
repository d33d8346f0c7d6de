package store

import (
	"bytes"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// Resolve answers code for the redirect path: from the hot set when it holds
// the code, otherwise from Pebble, filling the hot set (unknown codes become
// negative entries). dst is scratch space that Entry.URL aliases; pass the
// returned slice back in next time to reuse it. A hit touches no disk and
// allocates nothing.
func (s *Store) Resolve(dst, code []byte) (Entry, []byte, error) {
	if e, b, ok := s.hot.get(dst, code); ok {
		return e, b, nil
	}
	gen := s.hot.generation(code)
	l, err := s.Link(string(code))
	if errors.Is(err, ErrNotFound) {
		l, err = nil, nil
	}
	if err != nil {
		return Entry{}, dst, err
	}
	e := entryFor(l)
	s.hot.fill(code, gen, e)
	dst = append(dst[:0], e.URL...)
	e.URL = dst
	return e, dst, nil
}

// Page is one page of a newest-first listing. Next is the cursor for the
// following page, nil on the last one.
type Page struct {
	Links []*Link
	Next  []byte
}

// ListLinks lists links newest first: all of them when all is set, otherwise
// only owner's. cursor is a Next from an earlier page (nil for the first).
func (s *Store) ListLinks(owner uint64, all bool, cursor []byte, limit int) (Page, error) {
	prefix := ownerPrefix(owner)
	if all {
		prefix = []byte{tCreated}
	}
	var page Page
	err := s.view(func(db *pebble.DB) error {
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
		if err != nil {
			return err
		}
		defer it.Close()
		start := append(append([]byte(nil), prefix...), cursor...)
		for ok := it.SeekGE(start); ok; ok = it.Next() {
			suffix := it.Key()[len(prefix):]
			if cursor != nil && bytes.Equal(suffix, cursor) {
				continue
			}
			if len(page.Links) == limit {
				page.Next = append([]byte(nil), page.lastSuffix(prefix)...)
				break
			}
			if len(suffix) <= 8 {
				return ErrCorrupt
			}
			l, err := getLink(db, string(suffix[8:]))
			if err != nil {
				return err
			}
			page.Links = append(page.Links, l)
		}
		return it.Error()
	})
	return page, err
}

// lastSuffix rebuilds the index suffix (^createdAt + code) of the last link.
func (p *Page) lastSuffix(prefix []byte) []byte {
	l := p.Links[len(p.Links)-1]
	if prefix[0] == tCreated {
		return createdKey(l.CreatedAt, l.Code)[1:]
	}
	return ownerKey(l.Owner, l.CreatedAt, l.Code)[len(prefix):]
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
