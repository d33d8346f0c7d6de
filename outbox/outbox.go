// Package outbox delivers what the fsm queued in the replicated outbox:
// CDN purges, webhook calls, and the timers (link expiry and start,
// clicks digests) that make new outbox entries. Only the leader delivers;
// it starts on winning leadership and stops on losing it, and a new leader
// resumes from the replicated queues (at least once). See DESIGN.md.
package outbox

import (
	"context"
	"errors"
	"github.com/linkd/linkd/internal/leading"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/outbox/webhook"
	"github.com/linkd/linkd/store"
)

// Node is what the outbox needs of the raft node.
type Node interface {
	IsLeader() bool
	LeaderChanged() <-chan struct{}
	WaitApplied(ctx context.Context, index uint64) error
	Store() *store.Store
}

// Defaults of Config.
const (
	DefaultWindow     = 24 * time.Hour
	DefaultBackoff    = 5 * time.Second
	DefaultMaxBackoff = time.Hour
	// DefaultPurgeRepeat is --purge-repeat's default: followers apply a
	// committed entry within a few heartbeats (100 ms each).
	DefaultPurgeRepeat = 500 * time.Millisecond
	// purgeBatch is how many purge entries one pass reads.
	purgeBatch = 500
)

// Config configures a Runner.
type Config struct {
	Node    Node
	Propose func(context.Context, fsm.Command) (*fsm.Result, error)
	Hosts   Hosts
	Purgers []Purger
	// Policy is where webhooks may go (checked again at dial time).
	Policy webhook.Policy
	// Window is how long a failing delivery is retried before its
	// endpoint is disabled (default 24 h).
	Window time.Duration
	// Backoff is the first retry delay, doubled per attempt up to
	// MaxBackoff (defaults 5 s and 1 h).
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one webhook attempt (default webhook.DefaultTimeout).
	Timeout time.Duration
	// PurgeRepeat, when positive, purges every batch a second time that
	// long after the first: a follower that had not applied the change
	// yet may have answered the cache in between with the old answer.
	PurgeRepeat time.Duration
	Logger      *slog.Logger
}

// Runner delivers the outbox while this node leads.
type Runner struct {
	cfg     Config
	st      *store.Store
	client  *webhook.Client
	log     *slog.Logger
	Metrics *Metrics
	stop    chan struct{}
	wg      sync.WaitGroup
	again   chan repeat // purges to send a second time
}

// repeat is a batch to purge again at a time.
type repeat struct {
	at    time.Time
	batch Batch
}

// maxRepeats bounds the purges waiting for their repeat; past it a repeat
// is skipped (and logged).
const maxRepeats = 256

// Start starts watching leadership.
func Start(cfg Config) *Runner {
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Runner{cfg: cfg, st: cfg.Node.Store(), client: webhook.NewClient(cfg.Policy, cfg.Timeout),
		log: cfg.Logger.With("component", "outbox"), Metrics: newMetrics(cfg.Node.Store()), stop: make(chan struct{}),
		again: make(chan repeat, maxRepeats)}
	r.wg.Add(1)
	go r.watch()
	return r
}

// Close stops delivering and waits for the workers.
func (r *Runner) Close() {
	close(r.stop)
	r.wg.Wait()
}

// watch runs the workers while this node leads.
func (r *Runner) watch() {
	defer r.wg.Done()
	leading.Run(r.stop, r.cfg.Node, func() func() {
		var workers sync.WaitGroup
		cancel := r.startWorkers(&workers)
		r.log.Info("delivering the outbox (leader)")
		return func() {
			cancel()
			workers.Wait()
			r.log.Info("stopped delivering the outbox")
		}
	})
}

// consumers reports whether anything consumes the outbox: purge targets
// or at least one webhook endpoint.
func (r *Runner) consumers() bool {
	if len(r.cfg.Purgers) > 0 {
		return true
	}
	eps, err := r.st.Endpoints()
	return err != nil || len(eps) > 0
}

// startWorkers starts the purge, timer and webhook workers; the returned
// function stops them.
func (r *Runner) startWorkers(wg *sync.WaitGroup) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	for _, w := range []func(context.Context){r.purges, r.timers, r.webhooks, r.repeats} {
		wg.Add(1)
		go func() { defer wg.Done(); w(ctx) }()
	}
	return cancel
}

// applied returns the store's applied index (0 on error: the next wait
// returns at once and the caller looks again).
func (r *Runner) applied() uint64 {
	n, _ := r.st.AppliedIndex()
	return n
}

// waitApplied waits until an entry after seen is applied, or until
// deadline (zero: none), or ctx is done.
func (r *Runner) waitApplied(ctx context.Context, seen uint64, deadline time.Time) {
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	_ = r.cfg.Node.WaitApplied(ctx, seen+1)
}

// sleep waits d or until ctx is done; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// backoff is the delay before retry number attempt (1-based): Backoff
// doubled per attempt, at most MaxBackoff, with up to 10% jitter.
func (r *Runner) backoff(attempt uint32) time.Duration {
	d := r.cfg.Backoff
	for i := uint32(1); i < attempt && d < r.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.cfg.MaxBackoff)
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// propose proposes c, retrying with backoff while this node leads; it
// reports false when ctx ended first.
func (r *Runner) propose(ctx context.Context, c fsm.Command) bool {
	for attempt := uint32(1); ; attempt++ {
		_, err := r.cfg.Propose(ctx, c)
		if err == nil || errors.Is(err, fsm.ErrDeliveryMissing) || errors.Is(err, fsm.ErrWebhookNotFound) {
			return true
		}
		r.log.Debug("outbox proposal", "cmd", c.Type(), "err", err)
		if !sleep(ctx, r.backoff(attempt)) {
			return false
		}
	}
}

// purges sends the purge queue to every purger, oldest first, and acks
// what was sent.
func (r *Runner) purges(ctx context.Context) {
	for ctx.Err() == nil {
		seen := r.applied()
		if len(r.cfg.Purgers) == 0 {
			// Nothing to purge, so nothing to propose: the fsm keeps the
			// queue at its cap (the oldest change dropped, counted), and a
			// leader proposes no outbox command that a node of an earlier
			// release, in a rolling upgrade, could not apply.
			return
		}
		ps, cs, err := r.st.Purges(purgeBatch)
		if err != nil || len(ps) == 0 {
			r.waitApplied(ctx, seen, time.Time{})
			continue
		}
		b := r.cfg.Hosts.Batch(cs)
		if err := r.enumerate(&b); err != nil {
			r.log.Warn("listing a purged domain's links", "err", err)
		}
		for attempt := uint32(1); !r.purgeAll(ctx, b); attempt++ {
			if !sleep(ctx, r.backoff(attempt)) {
				return
			}
		}
		if r.cfg.PurgeRepeat > 0 && len(r.cfg.Purgers) > 0 {
			select {
			case r.again <- repeat{at: time.Now().Add(r.cfg.PurgeRepeat), batch: b}:
			default:
				r.log.Warn("too many purges waiting for their repeat; skipping one", "urls", len(b.URLs), "hosts", len(b.Hosts))
			}
		}
		last := ps[len(ps)-1]
		r.propose(ctx, &fsm.PurgeAck{Now: time.Now().UnixMilli(), Index: last.Index, Seq: last.Seq})
	}
}

// repeats purges each batch a second time, PurgeRepeat after the first.
// It is best effort: a failure is logged, and a new leader does not repeat
// what its predecessor purged.
func (r *Runner) repeats(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case rp := <-r.again:
			if !sleep(ctx, time.Until(rp.at)) {
				return
			}
			r.purgeAll(ctx, rp.batch)
		}
	}
}

// purgeAll purges b at every target; it reports whether all succeeded.
func (r *Runner) purgeAll(ctx context.Context, b Batch) bool {
	ok := true
	for _, p := range r.cfg.Purgers {
		var err error
		if len(b.URLs) > 0 {
			err = p.Purge(ctx, b.URLs)
		}
		if err == nil && len(b.Hosts) > 0 {
			err = p.PurgeHosts(ctx, b.Hosts, b.HostURLs)
		}
		r.Metrics.purged(p.Name(), b, err)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("CDN purge failed; retrying", "target", p.Name(), "urls", len(b.URLs), "hosts", len(b.Hosts), "err", err)
			}
			ok = false
		}
	}
	return ok
}

// timers proposes an OutboxTick when the earliest timer is due.
func (r *Runner) timers(ctx context.Context) {
	for ctx.Err() == nil {
		seen := r.applied()
		if !r.consumers() {
			// Timers only feed purges and webhooks: without either, firing
			// them would only propose commands (which a node of an earlier
			// release could not apply) to no one.
			r.waitApplied(ctx, seen, time.Time{})
			continue
		}
		t, ok, err := r.st.NextTimer()
		if err != nil {
			r.waitApplied(ctx, seen, time.Time{})
			continue
		}
		if !ok {
			r.waitApplied(ctx, seen, time.Time{})
			continue
		}
		due := time.UnixMilli(t.Due)
		if now := time.Now(); now.Before(due) {
			r.waitApplied(ctx, seen, due) // a new entry may add an earlier timer
			continue
		}
		r.propose(ctx, &fsm.OutboxTick{Now: time.Now().UnixMilli()})
	}
}
