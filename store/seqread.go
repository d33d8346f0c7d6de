package store

import (
	"bytes"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// seqReader reads one table of a Txn through one long-lived iterator when
// the keys come in increasing order, as a click apply's do (its links come
// in code order, and every key it reads starts with the code). A point Get
// builds a fresh iterator stack over the memtables and every level for each
// key, and that was most of the apply's CPU; a seek that moves forward
// reuses the positioned iterators and the blocks they hold.
//
// The iterator sees the batch as it was when the reader was made, so it may
// only answer for a key this command has not written yet. Keys sought in
// strictly increasing order are each read once, before they are written;
// a key at or below the last one sought (the running total of a link whose
// segment spans two days, or codes out of order) is read with a point Get,
// which sees everything.
type seqReader struct {
	b    *pebble.Batch
	it   *pebble.Iterator
	last []byte
}

func newSeqReader(b *pebble.Batch, table byte) (*seqReader, error) {
	it, err := b.NewIter(&pebble.IterOptions{LowerBound: []byte{table}, UpperBound: []byte{table + 1}})
	if err != nil {
		return nil, err
	}
	return &seqReader{b: b, it: it}, nil
}

// Get implements reader.
func (r *seqReader) Get(key []byte) ([]byte, io.Closer, error) {
	if r.last != nil && bytes.Compare(key, r.last) <= 0 {
		return r.b.Get(key)
	}
	r.last = append(r.last[:0], key...)
	if !r.it.SeekGE(key) || !bytes.Equal(r.it.Key(), key) {
		if err := r.it.Error(); err != nil {
			return nil, nil, err
		}
		return nil, nil, pebble.ErrNotFound
	}
	v, err := r.it.ValueAndErr()
	if err != nil {
		return nil, nil, err
	}
	return v, nopCloser{}, nil
}

func (r *seqReader) Close() error { return r.it.Close() }

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
