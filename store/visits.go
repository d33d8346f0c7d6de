package store

import "github.com/cockroachdb/pebble/v2"

// tVisits counts the human clicks of a link with a visit limit, from when
// the limit was set: Q<code> -> big-endian uint64. Only links with a
// MaxVisits have one; setting a new limit starts it again at 0. (Table
// letter 'Q' is the link options' own.)
const tVisits = 'Q'

func visitsKey(code string) []byte { return append([]byte{tVisits}, code...) }

// AddVisits adds n human clicks to code's visit count and returns the new
// count.
func (t *Txn) AddVisits(code string, n uint64) (uint64, error) {
	v, err := getUint64(t.b, visitsKey(code))
	if err != nil {
		return 0, err
	}
	t.setUint64(visitsKey(code), v+n)
	return v + n, nil
}

// ResetVisits forgets code's visit count.
func (t *Txn) ResetVisits(code string) { t.del(visitsKey(code)) }

// Visits returns the human clicks counted toward code's visit limit.
func (s *Store) Visits(code string) (n uint64, err error) {
	err = s.view(func(db *pebble.DB) error { n, err = getUint64(db, visitsKey(code)); return err })
	return n, err
}
