package store

import "github.com/cockroachdb/pebble/v2"

// The review queue (issue 14, --review-new-users): links held for review
// until an admin approves or rejects them.
//
//	y\x00<code>   a held link (empty value)
//
// It shares letter y with the feed index, whose keys start with a
// blocklist kind byte (never 0). A held link's record has status
// StatusHeld (link record version 3).

func heldKey(code string) []byte { return append([]byte{tFeedIdx, 0}, code...) }

// Unhold takes code off the review queue (its status is the caller's).
func (t *Txn) Unhold(code string) { t.del(heldKey(code)) }

// heldCodes returns up to limit held codes (limit < 0: all), in order.
func heldCodes(r iterReader, limit int) ([]string, error) {
	var codes []string
	err := scanPrefix(r, []byte{tFeedIdx, 0}, func(k, _ []byte) error {
		if limit >= 0 && len(codes) >= limit {
			return errStopScan
		}
		codes = append(codes, string(k[2:]))
		return nil
	})
	return codes, err
}

// HeldCodes returns the code of every held link, in order.
func (t *Txn) HeldCodes() ([]string, error) { return heldCodes(t.b, -1) }

// HeldLinks returns up to limit held links, in code order.
func (s *Store) HeldLinks(limit int) ([]*Link, error) {
	var out []*Link
	err := s.view(func(db *pebble.DB) error {
		codes, err := heldCodes(db, limit)
		if err != nil {
			return err
		}
		for _, c := range codes {
			l, err := getLink(db, c)
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		return nil
	})
	return out, err
}
