package outbox

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/outbox/webhook"
	"github.com/linkd/linkd/store"
)

// webhooks runs one worker per enabled endpoint with pending deliveries,
// starting workers as deliveries are queued.
func (r *Runner) webhooks(ctx context.Context) {
	var mu sync.Mutex
	running := map[uint64]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		seen := r.applied()
		eps, err := r.st.Endpoints()
		if err != nil {
			r.log.Warn("reading webhook endpoints", "err", err)
		}
		for _, ep := range eps {
			if ep.Disabled || ep.Pending == 0 {
				continue
			}
			mu.Lock()
			start := !running[ep.ID]
			running[ep.ID] = true
			mu.Unlock()
			if start {
				wg.Add(1)
				go func(id uint64) {
					defer wg.Done()
					r.endpoint(ctx, id)
					mu.Lock()
					delete(running, id)
					mu.Unlock()
				}(ep.ID)
			}
		}
		r.waitApplied(ctx, seen, time.Time{})
	}
}

// endpoint delivers one endpoint's pending deliveries in order, until
// none is left or the endpoint is disabled or gone. Retry state (attempts,
// the first failure) is replicated, so a new leader resumes the backoff
// and the retry window where the old one left them.
func (r *Runner) endpoint(ctx context.Context, id uint64) {
	for ctx.Err() == nil {
		ep, err := r.st.Endpoint(id)
		if err != nil || ep.Disabled {
			return
		}
		dls, err := r.st.Deliveries(id, true, 1)
		if err != nil || len(dls) == 0 {
			return
		}
		dl := dls[0]
		if dl.Attempts > 0 {
			next := time.UnixMilli(dl.LastAttempt).Add(r.backoff(dl.Attempts))
			if !sleep(ctx, time.Until(next)) {
				return
			}
		}
		r.attempt(ctx, ep, dl)
	}
}

// attempt sends one delivery and records the outcome.
func (r *Runner) attempt(ctx context.Context, ep *store.Endpoint, dl *store.Delivery) {
	body, err := webhook.Payload(&dl.Change, r.cfg.Hosts.Public)
	status := 0
	if err == nil {
		status, err = r.client.Send(ctx, webhook.Message{URL: ep.URL, Secret: ep.Secret, ID: webhook.MessageID(dl.Pos), Body: body}, time.Now())
	}
	if ctx.Err() != nil {
		return // lost leadership mid-flight: the next leader sends it again
	}
	now := time.Now()
	c := &fsm.WebhookAttempt{Now: now.UnixMilli(), Endpoint: ep.ID, Index: dl.Pos.Index, Seq: dl.Pos.Seq,
		OK: err == nil, Status: uint16(status)}
	r.Metrics.delivered(err)
	if err != nil {
		c.Error = webhook.ErrorText(err)
		first := dl.FirstAttempt
		if first == 0 {
			first = c.Now
		}
		if since := time.UnixMilli(first); now.Sub(since) >= r.cfg.Window {
			c.Disable = true
			c.Reason = fmt.Sprintf("deliveries failed for %s since %s (last: %s)", r.cfg.Window,
				since.UTC().Format(time.RFC3339), c.Error)
			r.log.Warn("webhook endpoint disabled", "endpoint", ep.ID, "reason", c.Reason)
		}
	}
	r.propose(ctx, c)
}
