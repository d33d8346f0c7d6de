package store

import "github.com/cockroachdb/pebble/v2"

// Imported click totals (issue 17): the click count a link had at the
// shortener it was imported from, kept per link as a historical figure,
// apart from linkd's own analytics (T, D, M, H, X never include it):
//
//	t<code>   ImportedClicks
const tImported = 't'

// ImportedClicks is a link's click total at its source shortener when it
// was imported.
type ImportedClicks struct {
	Source string // the import source: bitly, yourls, shlink, kutt, csv, linkd
	Clicks uint64
	At     int64 // Unix ms of the import that recorded it
}

func importedKey(code string) []byte { return append([]byte{tImported}, code...) }

func marshalImported(c *ImportedClicks) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.str(c.Source)
	e.uv(c.Clicks)
	e.iv(c.At)
	return e.b
}

func unmarshalImported(v []byte) (*ImportedClicks, error) {
	d := decoder{b: v}
	d.version(recordV1)
	c := &ImportedClicks{Source: d.str(), Clicks: d.uv(), At: d.iv()}
	return c, d.err
}

// PutImportedClicks records (or replaces) a link's imported click total.
func (t *Txn) PutImportedClicks(code string, c *ImportedClicks) {
	t.set(importedKey(code), marshalImported(c))
}

// ImportedClicks returns a link's imported click total, or ErrNotFound.
func (s *Store) ImportedClicks(code string) (c *ImportedClicks, err error) {
	err = s.view(func(db *pebble.DB) error {
		c, err = decodeFrom(db, importedKey(code), unmarshalImported)
		return err
	})
	return c, err
}
