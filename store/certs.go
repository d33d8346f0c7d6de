package store

import (
	"bytes"
	"errors"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// The certificate table holds what the HTTPS side's ACME library stores:
// the ACME account, certificates, their PRIVATE KEYS and pending challenge
// tokens, under the library's own slash-separated key names. It is part of
// every snapshot and backup like any other table (see httpd/tlsd/DESIGN.md).
//
//	C<storage key>   cert record: value bytes, modification time
const tCert = 'C'

// CertEntry is one value of the certificate table.
type CertEntry struct {
	Key      string
	Value    []byte
	Modified int64 // unix ms, decided by the proposer
}

func certKey(key string) []byte { return append([]byte{tCert}, key...) }

func marshalCert(c *CertEntry) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.iv(c.Modified)
	e.bytes(c.Value)
	return e.b
}

func unmarshalCert(b []byte) (*CertEntry, error) {
	d := decoder{b: b}
	d.version(recordV1)
	c := &CertEntry{Modified: d.iv(), Value: d.bytes()}
	return c, d.err
}

// notifier wakes readers of a table (certificates, domains) when an
// applied batch or a restore changed it: followers load new certificates
// and hosts on that signal instead of polling.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}

// CertsChanged returns a channel closed at the next commit or restore that
// changes the certificate table. Take it before reading, wait after.
func (s *Store) CertsChanged() <-chan struct{} { return s.certs.wait() }

// Cert returns the entry under key, or ErrNotFound.
func (s *Store) Cert(key string) (c *CertEntry, err error) {
	err = s.view(func(db *pebble.DB) error {
		c, err = decodeFrom(db, certKey(key), unmarshalCert)
		return err
	})
	if c != nil {
		c.Key = key
	}
	return c, err
}

// CertKeys lists the keys that start with prefix, in order; with
// recursive false, only those directly under it (certmagic's List
// semantics: prefix "a" lists "a/x" and the directory "a/y" for
// "a/y/z", once).
func (s *Store) CertKeys(prefix string, recursive bool) (keys []string, err error) {
	err = s.view(func(db *pebble.DB) error {
		keys, err = certKeys(db, prefix, recursive)
		return err
	})
	return keys, err
}

func certKeys(r iterReader, prefix string, recursive bool) ([]string, error) {
	var out []string
	p := certKey(prefix)
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		p = append(p, '/')
	}
	err := scanPrefix(r, p, func(k, _ []byte) error {
		key := string(k[1:])
		if !recursive {
			if i := bytes.IndexByte(k[len(p):], '/'); i >= 0 {
				key = string(k[1 : len(p)+i])
			}
		}
		if len(out) == 0 || out[len(out)-1] != key {
			out = append(out, key)
		}
		return nil
	})
	return out, err
}

// CertCount counts the entries of the certificate table, stopping at
// limit.
func (t *Txn) CertCount(limit int) (int, error) {
	n := 0
	err := scanPrefix(t.b, []byte{tCert}, func(_, _ []byte) error {
		if n++; n >= limit {
			return errStopScan
		}
		return nil
	})
	return n, err
}

// HasCert reports whether key holds a value.
func (t *Txn) HasCert(key string) (bool, error) {
	_, err := get(t.b, certKey(key))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// PutCert stores c.
func (t *Txn) PutCert(c *CertEntry) {
	t.set(certKey(c.Key), marshalCert(c))
	t.certs = true
}

// DeleteCert deletes key and every key under key + "/" (certmagic's
// Delete removes a "directory" with its contents). It returns how many
// entries it deleted.
func (t *Txn) DeleteCert(key string) (int, error) {
	n := 0
	if ok, err := t.HasCert(key); err != nil {
		return 0, err
	} else if ok {
		t.del(certKey(key))
		n++
	}
	var under [][]byte
	err := scanPrefix(t.b, certKey(key+"/"), func(k, _ []byte) error {
		under = append(under, bytes.Clone(k))
		return nil
	})
	for _, k := range under {
		t.del(k)
	}
	if n += len(under); n > 0 {
		t.certs = true
	}
	return n, err
}
