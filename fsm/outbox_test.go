package fsm

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/store"
)

// outboxFSM applies commands one entry each, from index 1.
type outboxFSM struct {
	t    testing.TB
	f    *FSM
	st   *store.Store
	next uint64
}

func newOutboxFSM(t *testing.T) *outboxFSM {
	f, st := mustFSM(t, vfs.NewMem(), "")
	t.Cleanup(func() { st.Close() })
	return &outboxFSM{t: t, f: f, st: st, next: 1}
}

func (o *outboxFSM) apply(cmds ...Command) []*Result {
	o.t.Helper()
	logs := logsFor(o.t, o.next, cmds...)
	o.next += uint64(len(cmds))
	var out []*Result
	for _, r := range o.f.ApplyBatch(logs) {
		out = append(out, r.(*Result))
	}
	return out
}

func (o *outboxFSM) head() *store.OutboxHead {
	h, err := o.st.OutboxHead()
	if err != nil {
		o.t.Fatal(err)
	}
	return h
}

func (o *outboxFSM) endpoint(id uint64) *store.Endpoint {
	ep, err := o.st.Endpoint(id)
	if err != nil {
		o.t.Fatal(err)
	}
	return ep
}

// creates returns a batch creating n links c<from>...
func creates(from, n int) *CreateLinks {
	c := &CreateLinks{}
	for i := range n {
		c.Items = append(c.Items, *create(fmt.Sprintf("c%06d", from+i), "https://e.test/", int64(100+from+i)))
	}
	return c
}

// The purge queue holds at most MaxPurges entries (then drops the oldest
// and counts it), an endpoint at most MaxPending pending deliveries (then
// counts what it drops) and a log of MaxDone deliveries.
func TestOutboxBounds(t *testing.T) {
	o := newOutboxFSM(t)
	all := uint32(1<<store.ChangeLinkCreated | 1<<store.ChangeLinkUpdated)
	o.apply(&CreateWebhook{Now: 1, ID: 7, Owner: 1, URL: "https://h.test/", Events: all, Secret: "whsec_x"})
	for i := 0; i < MaxPurges+1; i += 1000 {
		if r := o.apply(creates(i, min(1000, MaxPurges+1-i))); r[0].Err != nil {
			t.Fatal(r[0].Err)
		}
	}
	if h := o.head(); h.Purges != MaxPurges || h.PurgesDropped != 1 {
		t.Fatalf("purge queue %+v after %d changes, want %d kept and 1 dropped", h, MaxPurges+1, MaxPurges)
	}
	ps, _, _ := o.st.Purges(1)
	if ps[0].Seq != 1 {
		t.Fatalf("oldest kept purge %+v, want the second change", ps[0])
	}
	ep := o.endpoint(7)
	if ep.Pending != MaxPending || ep.Dropped != MaxPurges+1-MaxPending {
		t.Fatalf("endpoint pending %d dropped %d", ep.Pending, ep.Dropped)
	}
	pending, _ := o.st.Deliveries(7, true, MaxPending+1)
	if len(pending) != MaxPending {
		t.Fatalf("%d pending deliveries stored", len(pending))
	}
	for i, dl := range pending[:MaxDone+1] {
		o.apply(&WebhookAttempt{Now: int64(1000 + i), Endpoint: 7, Index: dl.Pos.Index, Seq: dl.Pos.Seq, OK: true, Status: 204})
	}
	ep = o.endpoint(7)
	done, _ := o.st.Deliveries(7, false, 1000)
	if ep.Done != MaxDone || len(done) != MaxDone || ep.Pending != MaxPending-MaxDone-1 {
		t.Fatalf("log: done %d (%d stored), pending %d", ep.Done, len(done), ep.Pending)
	}
	if done[len(done)-1].Pos != pending[1].Pos || done[0].Pos != pending[MaxDone].Pos {
		t.Fatal("the log does not keep the newest deliveries")
	}
	// Acking the purge queue up to a position empties it up to there.
	last, _, _ := o.st.Purges(MaxPurges)
	o.apply(&PurgeAck{Now: 2, Index: last[99].Index, Seq: last[99].Seq})
	if h := o.head(); h.Purges != MaxPurges-100 {
		t.Fatalf("after ack: %d purges", h.Purges)
	}
}

// Endpoints are bounded per user and per cluster.
func TestWebhookEndpointLimits(t *testing.T) {
	o := newOutboxFSM(t)
	for i := range MaxWebhooksPerUser {
		if r := o.apply(&CreateWebhook{Now: 1, ID: uint64(i + 1), Owner: 5, URL: "https://h.test/", Events: 2, Secret: "s"}); r[0].Err != nil {
			t.Fatal(r[0].Err)
		}
	}
	if r := o.apply(&CreateWebhook{Now: 1, ID: 100, Owner: 5, URL: "https://h.test/", Events: 2, Secret: "s"}); r[0].Err != ErrWebhookLimit {
		t.Fatalf("endpoint %d of a user: %v", MaxWebhooksPerUser+1, r[0].Err)
	}
	var cmds []Command
	for i := MaxWebhooksPerUser; i < MaxWebhooks; i++ {
		cmds = append(cmds, &CreateWebhook{Now: 1, ID: uint64(1000 + i), Owner: uint64(100 + i/MaxWebhooksPerUser), URL: "u", Events: 2, Secret: "s"})
	}
	for _, r := range o.apply(cmds...) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if r := o.apply(&CreateWebhook{Now: 1, ID: 99999, Owner: 9999, URL: "u", Events: 2, Secret: "s"}); r[0].Err != ErrWebhookLimit {
		t.Fatalf("endpoint %d of the cluster: %v", MaxWebhooks+1, r[0].Err)
	}
	o.apply(&DeleteWebhook{Now: 2, ID: 1, Actor: 5})
	if r := o.apply(&CreateWebhook{Now: 1, ID: 99999, Owner: 9999, URL: "u", Events: 2, Secret: "s"}); r[0].Err != nil {
		t.Fatalf("after a delete: %v", r[0].Err)
	}
	if h := o.head(); h.Endpoints != MaxWebhooks {
		t.Fatalf("%d endpoints counted", h.Endpoints)
	}
}

// Clicks applied within a minute become one digest per link, queued when
// a tick at or after the minute's end plus DigestDelay fires; an expiry
// fires a purge at its time, not before.
func TestOutboxTimers(t *testing.T) {
	o := newOutboxFSM(t)
	o.apply(&CreateWebhook{Now: 1, ID: 7, Owner: 1, URL: "https://h.test/", Events: 1 << store.ChangeClicks, Secret: "s"})
	minute := int64(28333333)
	exp := (minute+1)*store.MinuteMs + 5
	o.apply(&CreateLink{Now: 10, Code: "dig", URL: "https://d.test/", Owner: 1, RedirectStatus: 302, ExpiresAt: exp})
	clicks := func(seg uint64, n uint64) *Clicks {
		return &Clicks{Now: minute * store.MinuteMs, Source: "n1/x", Segment: seg,
			Links: []store.LinkClicks{{Code: "dig", Minutes: []store.ClickBucket{{T: minute, N: n}}}}}
	}
	o.apply(clicks(1, 3), clicks(2, 4))
	due := (minute+1)*store.MinuteMs + DigestDelay
	p0 := o.head().Purges
	o.apply(&OutboxTick{Now: exp - 1})
	if o.head().Purges != p0 {
		t.Fatal("a tick before the expiry purged")
	}
	o.apply(&OutboxTick{Now: exp})
	ps, cs, _ := o.st.Purges(100)
	if o.head().Purges != p0+1 || cs[len(cs)-1].Kind != store.ChangeLinkTimer || cs[len(cs)-1].Code != "dig" {
		t.Fatalf("expiry tick: queue %+v", ps)
	}
	o.apply(&OutboxTick{Now: due - 1})
	if ep := o.endpoint(7); ep.Pending != 0 {
		t.Fatal("digest sent before its minute was over")
	}
	o.apply(&OutboxTick{Now: due})
	dls, _ := o.st.Deliveries(7, true, 10)
	if len(dls) != 1 || dls[0].Change.Kind != store.ChangeClicks || dls[0].Change.Clicks != 7 ||
		dls[0].Change.Minute != minute*store.MinuteMs || dls[0].Change.Code != "dig" {
		t.Fatalf("digests %+v, want one of 7 clicks for the minute", dls)
	}
	if _, ok, _ := o.st.NextTimer(); ok {
		t.Fatal("timers left after they fired")
	}
	// Without click subscribers, segments queue no digests at all.
	o.apply(&DeleteWebhook{Now: 2, ID: 7, Actor: 1})
	o.apply(clicks(3, 1))
	if _, ok, _ := o.st.NextTimer(); ok {
		t.Fatal("a digest timer without subscribers")
	}
}

// A user's endpoint receives only that user's changes; an admin's
// all-users endpoint receives everyone's.
func TestWebhookRecipients(t *testing.T) {
	o := newOutboxFSM(t)
	ev := uint32(1 << store.ChangeLinkCreated)
	o.apply(&CreateWebhook{Now: 1, ID: 1, Owner: 5, URL: "u", Events: ev, Secret: "s"},
		&CreateWebhook{Now: 1, ID: 2, Owner: 6, URL: "u", Events: ev, Secret: "s"},
		&CreateWebhook{Now: 1, ID: 3, Owner: AdminUser, All: true, URL: "u", Events: ev, Secret: "s"},
		&CreateWebhook{Now: 1, ID: 4, Owner: 5, URL: "u", Events: 1 << store.ChangeLinkDeleted, Secret: "s"})
	o.apply(&CreateLink{Now: 2, Code: "five", URL: "https://5.test/", Owner: 5, RedirectStatus: 302})
	for id, want := range map[uint64]uint32{1: 1, 2: 0, 3: 1, 4: 0} {
		if got := o.endpoint(id).Pending; got != want {
			t.Errorf("endpoint %d: %d pending, want %d", id, got, want)
		}
	}
	o.apply(&UpdateWebhook{Now: 3, ID: 1, Actor: 6, Enabled: new(bool)})
	if o.endpoint(1).Disabled {
		t.Fatal("another user disabled the endpoint")
	}
	o.apply(&UpdateWebhook{Now: 3, ID: 1, Actor: 5, Enabled: new(bool)})
	o.apply(&CreateLink{Now: 4, Code: "five2", URL: "https://5.test/", Owner: 5, RedirectStatus: 302})
	if ep := o.endpoint(1); !ep.Disabled || ep.Pending != 1 {
		t.Fatalf("a disabled endpoint queued: %+v", ep)
	}
}
