// Package ratelimit keeps token buckets per key (an API key, a client
// address, an email) in memory, on one node. Buckets come from
// golang.org/x/time/rate; this package adds the keyed, sharded table that
// forgets idle keys, and the numbers behind the RateLimit-* headers.
//
// Limits are per node: behind a load balancer spreading over n nodes a
// client gets up to n times the budget. That keeps the redirect and login
// paths off raft, which is the point.
package ratelimit

import (
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Tuning, kept together.
const (
	shards = 64
	// defaultSweepAt is the shard size at which full (idle) buckets are
	// dropped: 64 × 4096 live keys before any sweep work.
	defaultSweepAt = 4096
)

// Limit is a budget: Rate tokens per second, up to Burst at once.
// A zero Rate means unlimited.
type Limit struct {
	Rate  float64
	Burst int
}

// PerMinute is a budget of n per minute with a burst of burst.
func PerMinute(n float64, burst int) Limit { return Limit{Rate: n / 60, Burst: burst} }

// Decision is the outcome of one Allow, with what the RateLimit headers say.
type Decision struct {
	OK         bool
	Limit      int           // the bucket size
	Remaining  int           // whole tokens left after this request
	Reset      time.Duration // until the bucket is full again
	RetryAfter time.Duration // until the next request would pass (when !OK)
}

// Limiter is a table of token buckets, one per key.
type Limiter[K comparable] struct {
	lim     Limit
	sweepAt int
	seed    maphash.Seed
	shards  [shards]shard[K]
}

type shard[K comparable] struct {
	mu sync.Mutex
	m  map[K]*rate.Limiter
}

// New returns a Limiter enforcing lim per key.
func New[K comparable](lim Limit) *Limiter[K] {
	l := &Limiter[K]{lim: lim, sweepAt: defaultSweepAt, seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].m = map[K]*rate.Limiter{}
	}
	return l
}

// Enabled reports whether the limiter limits anything.
func (l *Limiter[K]) Enabled() bool { return l != nil && l.lim.Rate > 0 }

// Allow takes one token from key's bucket at now.
func (l *Limiter[K]) Allow(key K, now time.Time) Decision {
	if !l.Enabled() {
		return Decision{OK: true}
	}
	ok, tokens := l.take(key, now, true)
	d := Decision{OK: ok, Limit: l.lim.Burst, Remaining: max(int(math.Floor(tokens)), 0)}
	d.Reset = l.after(float64(l.lim.Burst) - tokens)
	if !ok {
		d.RetryAfter = l.after(1 - tokens)
	}
	return d
}

// Take is Allow for hot paths that need no RateLimit headers: it reads
// the bucket once, and only a refusal says when to retry.
func (l *Limiter[K]) Take(key K, now time.Time) (ok bool, retryAfter time.Duration) {
	if !l.Enabled() {
		return true, 0
	}
	ok, tokens := l.take(key, now, false)
	if !ok {
		retryAfter = l.after(1 - tokens)
	}
	return ok, retryAfter
}

// take spends a token; tokens is what is left, read when asked or refused.
func (l *Limiter[K]) take(key K, now time.Time, readTokens bool) (ok bool, tokens float64) {
	sh := &l.shards[maphash.Comparable(l.seed, key)%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.m[key]
	if b == nil {
		if len(sh.m) >= l.sweepAt {
			sh.sweep(now)
		}
		b = rate.NewLimiter(rate.Limit(l.lim.Rate), l.lim.Burst)
		sh.m[key] = b
	}
	ok = b.AllowN(now, 1)
	if readTokens || !ok {
		tokens = b.TokensAt(now)
	}
	return ok, tokens
}

// after is how long the bucket takes to gain n tokens.
func (l *Limiter[K]) after(n float64) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(n / l.lim.Rate * float64(time.Second))
}

// sweep forgets buckets that are full again: they behave exactly like new
// ones, so dropping them changes no decision.
func (sh *shard[K]) sweep(now time.Time) {
	for k, b := range sh.m {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(sh.m, k)
		}
	}
}

// Len returns how many keys have buckets (for metrics and tests).
func (l *Limiter[K]) Len() int {
	n := 0
	for i := range l.shards {
		l.shards[i].mu.Lock()
		n += len(l.shards[i].m)
		l.shards[i].mu.Unlock()
	}
	return n
}

// Parse reads a budget written as "RATE/UNIT:BURST", e.g. "20/s:100" or
// "10/m:20" (UNIT is s, m or h; ":BURST" defaults to the rate per unit,
// at least 1). "0" or "off" means unlimited.
func Parse(s string) (Limit, error) {
	if s == "0" || s == "off" {
		return Limit{}, nil
	}
	spec, burstStr, hasBurst := strings.Cut(s, ":")
	n, unit, ok := strings.Cut(spec, "/")
	per := map[string]float64{"s": 1, "m": 60, "h": 3600}[unit]
	rate, err := strconv.ParseFloat(n, 64)
	if !ok || per == 0 || err != nil || rate <= 0 || math.IsInf(rate, 0) {
		return Limit{}, fmt.Errorf("rate limit %q: want RATE/UNIT[:BURST] such as 20/s:100 or 10/m, or off", s)
	}
	l := Limit{Rate: rate / per, Burst: max(int(rate), 1)}
	if hasBurst {
		if l.Burst, err = strconv.Atoi(burstStr); err != nil || l.Burst < 1 {
			return Limit{}, fmt.Errorf("rate limit %q: the burst must be a whole number of at least 1", s)
		}
	}
	return l, nil
}

// String writes l the way Parse reads it.
func (l Limit) String() string {
	if l.Rate <= 0 {
		return "off"
	}
	if l.Rate >= 1 {
		return strconv.FormatFloat(l.Rate, 'f', -1, 64) + "/s:" + strconv.Itoa(l.Burst)
	}
	return strconv.FormatFloat(l.Rate*60, 'f', -1, 64) + "/m:" + strconv.Itoa(l.Burst)
}
