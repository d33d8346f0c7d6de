package fsm

import (
	"errors"

	"github.com/linkd/linkd/store"
)

// The outbox's part of an erasure (DeleteUser version 2). The purge queue
// and webhook deliveries are live replicated state: they keep each change
// with the link's destination and title until a purger acknowledges it or
// an endpoint's log rotates (without a purge target nothing acknowledges,
// so the queue keeps the last MaxPurges changes), and no disk scrub can
// remove live state. Version 1 leaves all of it, and the user's endpoints.

// eraseOutbox deletes user's webhook endpoints (their own and any
// all-users endpoint they made as an admin) with their deliveries, redacts
// user's changes in the purge queue and in the deliveries of every other
// endpoint that received them (the admins' all-users endpoints: only those
// and the owner's are ever queued a user's change), and queues a purge of
// the profile page the erasure removed (handle, "" if none), which version
// 1 left in the CDN's cache. Everything is decided from replicated state,
// so every node does the same.
func eraseOutbox(txn *store.Txn, user uint64, handle string, now int64) error {
	h, err := txn.OutboxHead()
	if err != nil {
		return err
	}
	own, err := txn.EndpointsOf(user)
	if err != nil {
		return err
	}
	all, err := txn.EndpointsOf(0)
	if err != nil {
		return err
	}
	var others []uint64
	for _, ep := range all {
		if ep.Owner == user {
			own = append(own, ep)
		} else {
			others = append(others, ep.ID)
		}
	}
	for _, ep := range own {
		if err := dropEndpoint(txn, h, ep); err != nil {
			return err
		}
	}
	txn.PutOutboxHead(h)
	if _, err := txn.RedactChanges(user, others, redactChange); err != nil {
		return err
	}
	if handle != "" {
		txn.NoteChange(store.Change{Kind: store.ChangeProfile, At: now, Owner: user, Handle: handle})
	}
	return nil
}

// redactChange keeps what a CDN purge needs (the kind, the code: the short
// URL on its host; a profile's handles: its page) and what is no user's
// content (time, owner id, status, a clicks digest's minute and count); the
// destination, title, tags, expiry and takedown reason go.
func redactChange(c *store.Change) {
	*c = store.Change{Kind: c.Kind, At: c.At, Owner: c.Owner, Code: c.Code, Status: c.Status,
		Handle: c.Handle, OldHandle: c.OldHandle, Minute: c.Minute, Clicks: c.Clicks, Host: c.Host}
}

// dropEndpoint deletes an endpoint with its deliveries and takes it off
// h's counters; the caller writes h.
func dropEndpoint(txn *store.Txn, h *store.OutboxHead, ep *store.Endpoint) error {
	h.Endpoints--
	h.ClickHooks -= clickBit(ep.Events)
	return txn.DeleteEndpoint(ep)
}

// profileHandle is user's profile handle, "" if they have none.
func profileHandle(txn *store.Txn, user uint64) (string, error) {
	p, err := txn.Profile(user)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return p.Handle, nil
}
