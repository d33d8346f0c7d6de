// Package feeds fetches the threat feeds that admins configure and
// proposes what it fetched as feed versions (fsm types 100–104). It runs
// on the leader only: a Runner watches leadership and starts its fetch
// loop when this node leads and stops it when it does not, so a follower
// never fetches and a new leader carries on from the replicated feed state
// (when each feed was last checked).
package feeds

import (
	"context"
	"crypto/sha256"
	"github.com/linkd/linkd/internal/leading"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/propose"
	"github.com/linkd/linkd/store"
)

// Leadership is what the runner needs of its node.
type Leadership interface {
	IsLeader() bool
	// LeaderChanged returns a channel closed at the next leadership change.
	LeaderChanged() <-chan struct{}
}

// Config configures a Runner.
type Config struct {
	Store   *store.Store
	Propose propose.Func
	Leader  Leadership
	Limits  Limits
	Logger  *slog.Logger
}

// chunkBytes bounds one StageFeed's entry bytes (besides its entry count,
// fsm.MaxFeedChunk), so no raft entry is larger than about 1 MiB.
const chunkBytes = 1 << 20

// maxError bounds the error text stored for a failed fetch.
const maxError = 300

// proposeTimeout bounds one proposal.
const proposeTimeout = 30 * time.Second

// Runner fetches feeds while its node leads.
type Runner struct {
	cfg   Config
	fetch *fetcher
	stop  chan struct{}
	wg    sync.WaitGroup
	// tried is when this leader last tried each feed (a fetch whose
	// proposal failed is not retried before its interval either).
	tried map[uint64]time.Time
}

// Start starts watching leadership.
func Start(cfg Config) *Runner {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Runner{cfg: cfg, fetch: newFetcher(cfg.Limits), stop: make(chan struct{}), tried: map[uint64]time.Time{}}
	r.wg.Add(1)
	go r.watch()
	return r
}

// Close stops the runner and waits for a fetch in progress to end.
func (r *Runner) Close() {
	close(r.stop)
	r.wg.Wait()
}

// watch runs the fetch loop while this node leads.
func (r *Runner) watch() {
	defer r.wg.Done()
	leading.Run(r.stop, r.cfg.Leader, r.startLeading)
}

// startLeading runs the fetch loop and returns what stops it (and waits).
func (r *Runner) startLeading() func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.lead(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// lead fetches each feed when it is due, until ctx ends. It wakes when a
// feed is due and when the feed table changes (an admin added one).
func (r *Runner) lead(ctx context.Context) {
	r.cfg.Logger.Info("feeds: fetching as the leader")
	for {
		changed := r.cfg.Store.FeedsChanged()
		feeds, err := r.cfg.Store.Feeds()
		if err != nil {
			r.cfg.Logger.Error("feeds: reading", "err", err)
		}
		next := time.Hour
		for _, f := range feeds {
			wait := r.due(f)
			if wait <= 0 {
				r.tried[f.ID] = time.Now()
				r.refresh(ctx, f)
				wait = time.Duration(f.Every) * time.Millisecond
			}
			next = min(next, wait)
			if ctx.Err() != nil {
				return
			}
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// due returns how long until f is due (<= 0: now).
func (r *Runner) due(f *store.Feed) time.Duration {
	last := time.UnixMilli(max(f.CheckedAt, f.UpdatedAt))
	if f.CheckedAt == 0 && f.UpdatedAt == 0 {
		last = time.Time{}
	}
	if t := r.tried[f.ID]; t.After(last) {
		last = t
	}
	if last.IsZero() {
		return 0
	}
	return time.Until(last.Add(time.Duration(f.Every) * time.Millisecond))
}

// refresh fetches f and proposes the outcome: a new version, or a check
// (unchanged list, or an error; the last good version stays).
func (r *Runner) refresh(ctx context.Context, f *store.Feed) {
	log := r.cfg.Logger.With("feed", f.Name, "id", f.ID)
	entries, err := r.fetch.fetch(ctx, f.URL, f.Format)
	if ctx.Err() != nil {
		return // lost leadership or stopping: the next leader fetches
	}
	if err != nil {
		log.Warn("feeds: fetch failed; keeping the last good version", "err", err)
		r.propose(ctx, log, &fsm.CheckedFeed{Now: time.Now().UnixMilli(), ID: f.ID, Error: truncate(err.Error())})
		return
	}
	h := hashOf(entries)
	if f.Version != 0 && string(h) == string(f.Hash) {
		r.propose(ctx, log, &fsm.CheckedFeed{Now: time.Now().UnixMilli(), ID: f.ID})
		return
	}
	ver := uint64(time.Now().UnixNano())
	if ver == f.Version {
		ver++
	}
	start := time.Now()
	seq := uint64(0)
	for rest := entries; seq == 0 || len(rest) > 0; seq++ {
		n, size := 0, 0
		for n < len(rest) && n < fsm.MaxFeedChunk && size+len(rest[n]) <= chunkBytes {
			size += len(rest[n])
			n++
		}
		if !r.propose(ctx, log, &fsm.StageFeed{Now: time.Now().UnixMilli(), ID: f.ID, Ver: ver, Seq: seq, Entries: rest[:n]}) {
			return
		}
		rest = rest[n:]
	}
	if r.propose(ctx, log, &fsm.CommitFeed{Now: time.Now().UnixMilli(), ID: f.ID, Ver: ver, Count: uint64(len(entries)), Hash: h}) {
		log.Info("feeds: new version", "entries", len(entries), "chunks", seq, "took", time.Since(start))
	}
}

func (r *Runner) propose(ctx context.Context, log *slog.Logger, c fsm.Command) bool {
	ctx, cancel := context.WithTimeout(ctx, proposeTimeout)
	defer cancel()
	if _, err := r.cfg.Propose(ctx, c); err != nil {
		log.Warn("feeds: proposing", "command", c.Type(), "err", err)
		return false
	}
	return true
}

func hashOf(entries []string) []byte {
	h := sha256.New()
	for _, e := range entries {
		h.Write([]byte(e))
		h.Write([]byte{'\n'})
	}
	return h.Sum(nil)
}

func truncate(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > maxError {
		s = s[:maxError]
	}
	return strings.ToValidUTF8(s, "")
}
