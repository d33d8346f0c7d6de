package fsm

import (
	"errors"

	"github.com/linkd/linkd/store"
)

// HTTPS certificate storage (types 85–87). The leader's ACME client
// (httpd/tlsd) writes its account, certificates, private keys and
// challenge tokens through these commands, so every node serves the same
// certificates. The caps travel in the command, chosen by the proposer, so
// every node decides the same; the proposer checks them before proposing
// too, so an oversized value never reaches the log.
const (
	TypePutCert    Type = 85
	TypeDeleteCert Type = 86
	// 87 is reserved for the HTTPS side (a replicated lease, if ever needed).
)

// MaxCertKey is the longest storage key a PutCert may carry.
const MaxCertKey = 512

// Domain errors of the certificate commands.
var (
	ErrCertTooLarge = errors.New("certificate storage value or key too large")
	ErrCertFull     = errors.New("certificate storage holds its maximum number of keys")
)

// PutCert stores Value under Key in the certificate table, unless Value is
// longer than MaxValue or Key is new and the table already holds MaxKeys
// entries.
type PutCert struct {
	Header
	Now      int64  `codec:"now"`
	Key      string `codec:"key"`
	Value    []byte `codec:"val"`
	MaxValue int    `codec:"maxv"`
	MaxKeys  int    `codec:"maxk"`
}

// DeleteCert deletes Key and every key under Key + "/".
type DeleteCert struct {
	Header
	Now int64  `codec:"now"`
	Key string `codec:"key"`
}

func (*PutCert) Type() Type    { return TypePutCert }
func (*DeleteCert) Type() Type { return TypeDeleteCert }

func init() {
	versions[TypePutCert], versions[TypeDeleteCert] = 1, 1
}

// newCertCommand returns an empty certificate command, or nil.
func newCertCommand(t Type) Command {
	switch t {
	case TypePutCert:
		return &PutCert{}
	case TypeDeleteCert:
		return &DeleteCert{}
	}
	return nil
}

// applyCert applies the certificate commands; ok is false for others.
func applyCert(txn *store.Txn, c Command) (r *Result, ok bool, err error) {
	switch c := c.(type) {
	case *PutCert:
		r, err = applyPutCert(txn, c)
	case *DeleteCert:
		_, err = txn.DeleteCert(c.Key)
		r = &Result{}
	default:
		return nil, false, nil
	}
	return r, true, err
}

func applyPutCert(txn *store.Txn, c *PutCert) (*Result, error) {
	if len(c.Value) > c.MaxValue || len(c.Key) > MaxCertKey || c.Key == "" {
		return &Result{Err: ErrCertTooLarge}, nil
	}
	had, err := txn.HasCert(c.Key)
	if err != nil {
		return nil, err
	}
	if !had {
		n, err := txn.CertCount(c.MaxKeys)
		if err != nil {
			return nil, err
		}
		if n >= c.MaxKeys {
			return &Result{Err: ErrCertFull}, nil
		}
	}
	txn.PutCert(&store.CertEntry{Key: c.Key, Value: c.Value, Modified: c.Now})
	return &Result{}, nil
}
