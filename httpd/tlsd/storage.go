package tlsd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/store"
)

// Storage caps. Everything certmagic stores goes through the raft log, so
// both the size of one value and the number of keys are bounded. A
// certificate chain, its key and its metadata are a few KiB each; an
// ACME account a few hundred bytes; a pending challenge well under 1 KiB.
// Each host takes 3 keys, plus a challenge token while an order is open.
const (
	MaxValue = 64 << 10
	MaxKeys  = 1024
)

// ErrTooLarge is returned by Store for a value or key over the caps, before
// anything is proposed.
var ErrTooLarge = fmt.Errorf("tlsd: %w (value cap %d bytes, key cap %d bytes)", fsm.ErrCertTooLarge, MaxValue, fsm.MaxCertKey)

// Proposer commits a command through raft on the leader and returns what
// applying it produced (node.Node.Propose: leader only, never forwarded,
// so a node that lost leadership cannot write).
type Proposer func(ctx context.Context, c fsm.Command) (*fsm.Result, error)

// Storage is certmagic.Storage over the replicated certificate table:
// writes are raft proposals (fsm.PutCert, fsm.DeleteCert), reads are local
// Pebble reads. Every node reads the same values once it has applied the
// write, so every node serves the certificates the leader obtained and
// answers the challenges it started.
//
// Lock is local to the process. That is enough because only the leader
// runs certificate management and only the leader can commit (Proposer
// refuses on followers): a lock guards the work of one process's
// certmagic against itself (one order per name at a time). Around a
// leadership change the old and the new leader may both be ordering for a
// moment; the old one's writes fail once it no longer leads, and a
// duplicate order costs the CA one more certificate, never a wrong state.
type Storage struct {
	st      *store.Store
	propose Proposer
	now     func() time.Time

	mu    sync.Mutex
	locks map[string]chan struct{}
}

var _ certmagic.Storage = (*Storage)(nil)

// NewStorage returns the storage over st, writing with propose.
func NewStorage(st *store.Store, propose Proposer) *Storage {
	return &Storage{st: st, propose: propose, now: time.Now, locks: map[string]chan struct{}{}}
}

// Store puts value at key through raft.
func (s *Storage) Store(ctx context.Context, key string, value []byte) error {
	if len(value) > MaxValue || len(key) > fsm.MaxCertKey || key == "" {
		return ErrTooLarge
	}
	_, err := s.propose(ctx, &fsm.PutCert{Now: s.now().UnixMilli(), Key: key, Value: value, MaxValue: MaxValue, MaxKeys: MaxKeys})
	if err != nil {
		return fmt.Errorf("tlsd: store %s: %w", key, err)
	}
	return nil
}

// Load returns the value at key, or an error wrapping fs.ErrNotExist.
func (s *Storage) Load(_ context.Context, key string) ([]byte, error) {
	c, err := s.st.Cert(key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("tlsd: %s: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	return c.Value, nil
}

// Delete deletes key and everything under it through raft.
func (s *Storage) Delete(ctx context.Context, key string) error {
	if !s.Exists(ctx, key) {
		return nil
	}
	if _, err := s.propose(ctx, &fsm.DeleteCert{Now: s.now().UnixMilli(), Key: key}); err != nil {
		return fmt.Errorf("tlsd: delete %s: %w", key, err)
	}
	return nil
}

// Exists reports whether key is a value or a directory of values.
func (s *Storage) Exists(_ context.Context, key string) bool {
	if _, err := s.st.Cert(key); err == nil {
		return true
	}
	keys, err := s.st.CertKeys(key, false)
	return err == nil && len(keys) > 0
}

// List lists the keys under path (directly under it unless recursive).
func (s *Storage) List(_ context.Context, path string, recursive bool) ([]string, error) {
	keys, err := s.st.CertKeys(path, recursive)
	if err == nil && len(keys) == 0 {
		err = fmt.Errorf("tlsd: %s: %w", path, fs.ErrNotExist)
	}
	return keys, err
}

// Stat describes key.
func (s *Storage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	c, err := s.st.Cert(key)
	switch {
	case err == nil:
		return certmagic.KeyInfo{Key: key, Modified: time.UnixMilli(c.Modified), Size: int64(len(c.Value)), IsTerminal: true}, nil
	case !errors.Is(err, store.ErrNotFound):
		return certmagic.KeyInfo{}, err
	case s.Exists(ctx, key):
		return certmagic.KeyInfo{Key: key, IsTerminal: false}, nil
	}
	return certmagic.KeyInfo{}, fmt.Errorf("tlsd: %s: %w", key, fs.ErrNotExist)
}

// Lock takes the process-local lock name (see Storage).
func (s *Storage) Lock(ctx context.Context, name string) error {
	for {
		s.mu.Lock()
		held, ok := s.locks[name]
		if !ok {
			s.locks[name] = make(chan struct{})
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Unlock releases the lock name.
func (s *Storage) Unlock(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	held, ok := s.locks[name]
	if !ok {
		return fmt.Errorf("tlsd: unlock %s: not locked", name)
	}
	delete(s.locks, name)
	close(held)
	return nil
}
