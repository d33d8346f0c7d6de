package tlsd_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/clustertest"
	"github.com/linkd/linkd/httpd/tlsd"
)

// hostList is a Policy whose hosts the test changes, signalling each
// change the way the domain table does.
type hostList struct {
	mu      sync.Mutex
	hosts   []string
	changed chan struct{}
}

func (p *hostList) set(hosts ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hosts = hosts
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *hostList) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

func (p *hostList) Hosts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.hosts)
}

func (p *hostList) Allowed(h string) bool { return slices.Contains(p.Hosts(), h) }
func (p *hostList) Redirect(string) bool  { return false }
func (p *hostList) HSTS(string) bool      { return false }

// lockLog counts certmagic's "acquiring lock" and "releasing lock" lines
// per identifier: one obtain job each.
type lockLog struct {
	mu     sync.Mutex
	counts map[string]int
}

func (l *lockLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *lockLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *lockLog) WithGroup(string) slog.Handler            { return l }
func (l *lockLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "acquiring lock" && r.Message != "releasing lock" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "identifier" {
			l.mu.Lock()
			l.counts[r.Message+" "+a.Value.String()]++
			l.mu.Unlock()
		}
		return true
	})
	return nil
}

func (l *lockLog) count(msg, host string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[msg+" "+host]
}

// A change to the host list starts management of the new hosts only and
// stops it for the hosts that left: the order of a host still being
// validated is not queued again (certmagic would start one more obtain
// job, with its own 30-day retries, per change), and the order of a
// removed host (a deleted domain) is cancelled at once instead of being
// retried for 30 days. The CA is unreachable, so every order stays
// pending in certmagic's one-minute retry wait.
func TestManageFollowsHostChanges(t *testing.T) {
	c := clustertest.Start(t, 1)
	nd := c.Leader()
	logs := &lockLog{counts: map[string]int{}}
	p := &hostList{hosts: []string{"a.test"}, changed: make(chan struct{})}
	s, err := tlsd.New(tlsd.Config{Node: nd.Node, Propose: nd.Node.Propose, Policy: p,
		ACME:   &tlsd.ACME{Directory: "https://127.0.0.1:1/directory", HTTPAddr: "127.0.0.1:1", HTTPSAddr: "127.0.0.1:1"},
		Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: counts %v", what, logs.counts)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait("the order of a.test", func() bool { return logs.count("acquiring lock", "a.test") == 1 })

	p.set("a.test", "b.test")
	wait("the order of the added b.test", func() bool { return logs.count("acquiring lock", "b.test") == 1 })
	p.set("a.test", "b.test", "c.test")
	wait("the order of the added c.test", func() bool { return logs.count("acquiring lock", "c.test") == 1 })
	time.Sleep(500 * time.Millisecond)
	for _, h := range []string{"a.test", "b.test"} {
		if n := logs.count("acquiring lock", h); n != 1 {
			t.Errorf("%s: %d obtain jobs after two host changes, want the first one only", h, n)
		}
	}

	p.set("c.test")
	for _, h := range []string{"a.test", "b.test"} {
		wait(fmt.Sprintf("the order of the removed %s cancelled", h), func() bool { return logs.count("releasing lock", h) == 1 })
	}
	if n := logs.count("releasing lock", "c.test"); n != 0 {
		t.Errorf("c.test's order stopped (%d) though it is still configured", n)
	}
}
