package fsm

import (
	"bytes"
	"errors"

	"github.com/linkd/linkd/internal/patch"
	"github.com/linkd/linkd/store"
)

func applyOutbox(txn *store.Txn, c Command) (r *Result, ok bool, err error) {
	switch c := c.(type) {
	case *CreateWebhook:
		r, err = applyCreateWebhook(txn, c)
	case *UpdateWebhook:
		r, err = applyUpdateWebhook(txn, c)
	case *DeleteWebhook:
		r, err = applyDeleteWebhook(txn, c)
	case *WebhookAttempt:
		r, err = applyWebhookAttempt(txn, c)
	case *OutboxTick:
		r, err = applyOutboxTick(txn, c)
	case *PurgeAck:
		r, err = applyPurgeAck(txn, c)
	case *ResendDelivery:
		r, err = applyResend(txn, c)
	default:
		return nil, false, nil
	}
	return r, true, err
}

func clickBit(events uint32) uint64 { return uint64(events>>store.ChangeClicks) & 1 }

func applyCreateWebhook(txn *store.Txn, c *CreateWebhook) (*Result, error) {
	if _, err := txn.Endpoint(c.ID); err == nil {
		return &Result{Replayed: true}, nil // this very command (ids are random), or a collision the proposer retries
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	h, err := txn.OutboxHead()
	if err != nil {
		return nil, err
	}
	mine, err := txn.EndpointsOf(c.Owner)
	if err != nil {
		return nil, err
	}
	n := len(mine)
	if c.All {
		all, err := txn.EndpointsOf(0)
		if err != nil {
			return nil, err
		}
		n = 0
		for _, ep := range all {
			if ep.Owner == c.Owner {
				n++
			}
		}
	}
	if n >= MaxWebhooksPerUser || h.Endpoints >= MaxWebhooks {
		return &Result{Err: ErrWebhookLimit}, nil
	}
	txn.PutEndpoint(&store.Endpoint{ID: c.ID, Owner: c.Owner, All: c.All, URL: c.URL, Events: c.Events,
		Secret: c.Secret, CreatedAt: c.Now, UpdatedAt: c.Now})
	h.Endpoints++
	h.ClickHooks += clickBit(c.Events)
	txn.PutOutboxHead(h)
	return &Result{}, nil
}

// ownEndpoint returns the endpoint the actor may change, or a domain error.
func ownEndpoint(txn *store.Txn, id, actor uint64, admin bool) (*store.Endpoint, *Result, error) {
	ep, err := txn.Endpoint(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !admin && ep.Owner != actor) {
		return nil, &Result{Err: ErrWebhookNotFound}, nil
	}
	return ep, nil, err
}

func applyUpdateWebhook(txn *store.Txn, c *UpdateWebhook) (*Result, error) {
	ep, res, err := ownEndpoint(txn, c.ID, c.Actor, c.Admin)
	if ep == nil {
		return res, err
	}
	h, err := txn.OutboxHead()
	if err != nil {
		return nil, err
	}
	h.ClickHooks -= clickBit(ep.Events)
	patch.Set(&ep.URL, c.URL)
	patch.Set(&ep.Events, c.Events)
	h.ClickHooks += clickBit(ep.Events)
	if c.Enabled != nil {
		ep.Disabled = !*c.Enabled
		ep.DisabledReason, ep.DisabledAt = "", 0
		if ep.Disabled {
			ep.DisabledReason, ep.DisabledAt = "Disabled by its owner", c.Now
		}
	}
	ep.UpdatedAt = c.Now
	txn.PutEndpoint(ep)
	txn.PutOutboxHead(h)
	return &Result{}, nil
}

func applyDeleteWebhook(txn *store.Txn, c *DeleteWebhook) (*Result, error) {
	ep, res, err := ownEndpoint(txn, c.ID, c.Actor, c.Admin)
	if ep == nil {
		if errors.Is(res.errOrNil(), ErrWebhookNotFound) && err == nil {
			return &Result{}, nil // deleting twice is deleting once
		}
		return res, err
	}
	h, err := txn.OutboxHead()
	if err != nil {
		return nil, err
	}
	if err := dropEndpoint(txn, h, ep); err != nil {
		return nil, err
	}
	txn.PutOutboxHead(h)
	return &Result{}, nil
}

func applyWebhookAttempt(txn *store.Txn, c *WebhookAttempt) (*Result, error) {
	ep, err := txn.Endpoint(c.Endpoint)
	if errors.Is(err, store.ErrNotFound) {
		return &Result{Err: ErrWebhookNotFound}, nil
	} else if err != nil {
		return nil, err
	}
	dl, err := txn.PendingDelivery(c.Endpoint, store.Pos{Index: c.Index, Seq: c.Seq})
	if errors.Is(err, store.ErrNotFound) {
		return &Result{Err: ErrDeliveryMissing}, nil // recorded before (a retried proposal)
	} else if err != nil {
		return nil, err
	}
	dl.Attempts++
	dl.LastAttempt, dl.Status, dl.Error = c.Now, c.Status, c.Error
	switch {
	case c.OK:
		dl.DeliveredAt, dl.Error = c.Now, ""
		err = txn.FinishDelivery(ep, dl, MaxDone)
	case c.Disable:
		ep.Disabled, ep.DisabledReason, ep.DisabledAt = true, c.Reason, c.Now
		err = txn.FinishDelivery(ep, dl, MaxDone)
	default:
		if dl.FirstAttempt == 0 {
			dl.FirstAttempt = c.Now
		}
		txn.QueueDelivery(ep.ID, dl)
	}
	if err != nil {
		return nil, err
	}
	txn.PutEndpoint(ep)
	return &Result{}, nil
}

func applyResend(txn *store.Txn, c *ResendDelivery) (*Result, error) {
	ep, res, err := ownEndpoint(txn, c.Endpoint, c.Actor, c.Admin)
	if ep == nil {
		return res, err
	}
	p := store.Pos{Index: c.Index, Seq: c.Seq}
	dl, err := txn.DoneDelivery(ep.ID, p)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := txn.PendingDelivery(ep.ID, p); err == nil {
			return &Result{}, nil // already queued
		}
		return &Result{Err: ErrDeliveryMissing}, nil
	} else if err != nil {
		return nil, err
	}
	if ep.Pending >= MaxPending {
		return &Result{Err: ErrWebhookLimit}, nil
	}
	dl.FirstAttempt, dl.DeliveredAt, dl.Attempts = 0, 0, 0
	txn.RequeueDelivery(ep, dl)
	txn.PutEndpoint(ep)
	return &Result{}, nil
}

func applyPurgeAck(txn *store.Txn, c *PurgeAck) (*Result, error) {
	h, err := txn.OutboxHead()
	if err != nil {
		return nil, err
	}
	if err := txn.AckPurges(h, store.Pos{Index: c.Index, Seq: c.Seq}); err != nil {
		return nil, err
	}
	txn.PutOutboxHead(h)
	return &Result{}, nil
}

// applyOutboxTick fires the timers due at c.Now: each becomes a change
// (queued by emit like any other).
func applyOutboxTick(txn *store.Txn, c *OutboxTick) (*Result, error) {
	due, err := txn.DueTimers(c.Now, MaxTimersPerTick)
	if err != nil {
		return nil, err
	}
	for _, tm := range due {
		txn.DeleteTimer(tm)
		l, err := txn.Link(tm.Code)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		ch := store.Change{Kind: store.ChangeLinkTimer, At: tm.Due, Owner: l.Owner, Code: l.Code, URL: l.URL,
			Title: l.Title, Tags: l.Tags, Status: l.Status, ExpiresAt: l.ExpiresAt}
		if tm.Kind == store.TimerDigest {
			ch = store.Change{Kind: store.ChangeClicks, At: tm.Due, Owner: l.Owner, Code: l.Code,
				Minute: tm.Due - DigestDelay - store.MinuteMs, Clicks: tm.Clicks}
		}
		txn.NoteChange(ch)
	}
	return &Result{}, nil
}

// addDigests adds a click segment's per-minute counts to the pending
// clicks digests, unless no endpoint wants them.
func addDigests(txn *store.Txn, links []store.LinkClicks) error {
	h, err := txn.OutboxHead()
	if err != nil || h.ClickHooks == 0 {
		return err
	}
	for i := range links {
		for _, b := range links[i].Minutes {
			if b.N == 0 {
				continue
			}
			due := (b.T+1)*store.MinuteMs + DigestDelay
			if err := txn.AddDigest(due, links[i].Code, b.N); err != nil {
				return err
			}
		}
	}
	return nil
}

// emit turns the link and profile writes of the command just applied at
// index (and the changes it noted) into outbox entries, in the same Txn:
// a purge entry for every change to what a public URL answers, and a
// pending delivery for every endpoint that wants the change. Every node
// applies the same entries, so every node writes the same outbox.
func emit(txn *store.Txn, index uint64) error {
	ch := txn.TakeChanges()
	var out []store.Change
	for _, d := range ch.Links {
		if c, ok := linkChange(d); ok {
			out = append(out, c)
		}
	}
	for _, d := range ch.Profiles {
		c := store.Change{Kind: store.ChangeProfile, At: d.New.UpdatedAt, Owner: d.New.User, Handle: d.New.Handle}
		if d.Old != nil && d.Old.Handle != d.New.Handle {
			c.OldHandle = d.Old.Handle
		}
		out = append(out, c)
	}
	out = append(out, ch.Other...)
	if len(out) == 0 {
		return nil
	}
	h, err := txn.OutboxHead()
	if err != nil {
		return err
	}
	if len(out) > maxChangesPerEntry {
		h.PurgesDropped += uint64(len(out) - maxChangesPerEntry)
		out = out[:maxChangesPerEntry]
	}
	purges := 0
	for i := range out {
		if out[i].Kind != store.ChangeClicks {
			purges++
		}
	}
	if err := txn.MakeRoomForPurges(h, purges, MaxPurges); err != nil {
		return err
	}
	q := queuer{txn: txn, eps: map[uint64]*store.Endpoint{}, byOwner: map[uint64][]uint64{}}
	for i := range out {
		c := &out[i]
		p := store.Pos{Index: index, Seq: uint16(i)}
		if c.Kind != store.ChangeClicks {
			if err := txn.EnqueuePurge(h, p, c, MaxPurges); err != nil {
				return err
			}
		}
		if h.Endpoints == 0 || c.Kind == store.ChangeDomain {
			continue // no endpoint anywhere (every create counts one), or no webhook event: nothing to look up
		}
		if err := q.queue(p, c); err != nil {
			return err
		}
	}
	txn.PutOutboxHead(h)
	for _, ep := range q.touched {
		txn.PutEndpoint(ep)
	}
	return nil
}

// queuer queues changes for the endpoints that want them, reading each
// endpoint once per entry.
type queuer struct {
	txn     *store.Txn
	eps     map[uint64]*store.Endpoint
	byOwner map[uint64][]uint64
	touched []*store.Endpoint
}

func (q *queuer) queue(p store.Pos, c *store.Change) error {
	ids, ok := q.byOwner[c.Owner]
	if !ok {
		eps, err := q.txn.EndpointsFor(c.Owner)
		if err != nil {
			return err
		}
		for _, ep := range eps {
			if _, seen := q.eps[ep.ID]; !seen {
				q.eps[ep.ID] = ep
			}
			ids = append(ids, ep.ID)
		}
		q.byOwner[c.Owner] = ids
	}
	for _, id := range ids {
		ep := q.eps[id]
		if ep.Disabled || ep.Events&(1<<c.Kind) == 0 {
			continue
		}
		if ep.Pending >= MaxPending {
			ep.Dropped++
		} else {
			q.txn.QueueDelivery(ep.ID, &store.Delivery{Pos: p, Change: *c})
			ep.Pending++
		}
		q.touch(ep)
	}
	return nil
}

func (q *queuer) touch(ep *store.Endpoint) {
	for _, t := range q.touched {
		if t == ep {
			return
		}
	}
	q.touched = append(q.touched, ep)
}

// linkChange classifies a link write; a write that changed nothing is none.
func linkChange(d store.LinkDiff) (store.Change, bool) {
	l := d.New
	c := store.Change{At: l.UpdatedAt, Owner: l.Owner, Code: l.Code, URL: l.URL, Title: l.Title, Tags: l.Tags,
		Status: l.Status, ExpiresAt: l.ExpiresAt}
	switch {
	case d.Old == nil:
		c.Kind = store.ChangeLinkCreated
	case l.Status == store.StatusDeleted && d.Old.Status != store.StatusDeleted:
		c.Kind = store.ChangeLinkDeleted
	case l.Status == store.StatusBlocked && d.Old.Status != store.StatusBlocked:
		c.Kind = store.ChangeLinkBlocked
	case bytes.Equal(store.MarshalLink(d.Old), store.MarshalLink(l)):
		return c, false
	default:
		c.Kind = store.ChangeLinkUpdated
	}
	return c, true
}
