package fsm

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/store"
)

// outboxHolding returns the outbox records (purge entries, deliveries of
// every endpoint, endpoints) whose fields mention s.
func (o *outboxFSM) outboxHolding(s string) []string {
	o.t.Helper()
	var out []string
	_, cs, err := o.st.Purges(MaxPurges)
	if err != nil {
		o.t.Fatal(err)
	}
	for _, c := range cs {
		if strings.Contains(fmt.Sprintf("%+v", *c), s) {
			out = append(out, fmt.Sprintf("purge %d %s", c.Kind, c.Code))
		}
	}
	eps, err := o.st.Endpoints()
	if err != nil {
		o.t.Fatal(err)
	}
	for _, ep := range eps {
		if strings.Contains(ep.URL+ep.Secret, s) {
			out = append(out, fmt.Sprintf("endpoint %d", ep.ID))
		}
		for _, pending := range []bool{true, false} {
			dls, err := o.st.Deliveries(ep.ID, pending, MaxPending)
			if err != nil {
				o.t.Fatal(err)
			}
			for _, dl := range dls {
				if strings.Contains(fmt.Sprintf("%+v", dl.Change), s) {
					out = append(out, fmt.Sprintf("delivery %d/%d (pending %v) %s", ep.ID, dl.Pos.Index, pending, dl.Change.Code))
				}
			}
		}
	}
	return out
}

// A user with a webhook endpoint, an admin's all-users endpoint, links and
// a profile whose changes sit in the purge queue and in both endpoints'
// deliveries (pending and logged), none acknowledged. DeleteUser version 1
// leaves all of it; version 2 deletes the user's endpoint with its
// deliveries, leaves the purge entries and the admin's deliveries without
// destination, title or tags (codes and handle stay: the CDN purge), and
// queues a purge of the erased profile's page.
func TestDeleteUserErasesOutbox(t *testing.T) {
	for _, v := range []uint8{1, 2} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			const canary = "cnry7d1e0f"
			o := newOutboxFSM(t)
			uid := o.apply(&CreateUser{Now: 1, Email: canary + "@x.test", PasswordHash: "h", Role: 1})[0].User.ID
			all := ^uint32(0)
			o.apply(&CreateWebhook{Now: 2, ID: 70, Owner: uid, URL: "https://hooks.test/" + canary, Events: all, Secret: "whsec_" + canary},
				&CreateWebhook{Now: 2, ID: 71, Owner: 1, All: true, URL: "https://admin-hooks.test/", Events: all, Secret: "whsec_admin"},
				&CreateLink{Now: 3, Code: "erased1", URL: "https://dest.test/" + canary, Title: "t " + canary, Tags: []string{canary},
					Owner: uid, RedirectStatus: 302},
				&UpdateLink{Now: 4, Code: "erased1", Actor: uid, URL: ptr("https://dest2.test/" + canary)},
				&SetProfile{Now: 5, User: uid, Handle: "erasedh", Bio: "bio " + canary, PageCode: "erasedp", PageURL: "https://sho.rt/@erasedh",
					NewCodes: []string{"erasedp"}, Links: []store.ProfileLink{{Code: "erasedp", URL: "https://dest.test/" + canary, Title: "p"}}},
				create("kept1", "https://kept.test/", 6))
			for _, ep := range []uint64{70, 71} { // one logged delivery each
				dls, _ := o.st.Deliveries(ep, true, 1)
				if r := o.apply(&WebhookAttempt{Now: 7, Endpoint: ep, Index: dls[0].Pos.Index, Seq: dls[0].Pos.Seq, OK: true, Status: 200}); r[0].Err != nil {
					t.Fatal(r[0].Err)
				}
			}
			before := o.outboxHolding(canary)
			for _, want := range []string{"purge", "endpoint 70", "delivery 70/", "delivery 71/", "pending true", "pending false"} {
				if !strings.Contains(fmt.Sprint(before), want) {
					t.Fatalf("the outbox holds no %q with the canary before the erasure: %v", want, before)
				}
			}
			purgesBefore := o.head().Purges

			if r := o.apply(&DeleteUser{Header: Header{V: v}, Now: 8, ID: uid}); r[0].Err != nil {
				t.Fatal(r[0].Err)
			}
			left := o.outboxHolding(canary)
			if v == 1 {
				if len(left) == 0 {
					t.Fatal("version 1 erased the outbox: it must apply as older binaries do")
				}
				return
			}
			if len(left) > 0 {
				t.Fatalf("after the erasure the outbox still holds the user's data: %v", left)
			}
			if _, err := o.st.Endpoint(70); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the erased user's endpoint: %v", err)
			}
			if dls, _ := o.st.Deliveries(70, false, MaxDone); len(dls) > 0 {
				t.Fatalf("the erased user's delivery log: %d left", len(dls))
			}
			if h := o.head(); h.Endpoints != 1 || h.ClickHooks != 1 {
				t.Fatalf("outbox head %+v: want the admin's endpoint only", h)
			}
			// The purge entries stay (redacted), plus one per tombstone and
			// one for the erased profile page.
			_, cs, _ := o.st.Purges(MaxPurges)
			var redacted, page bool
			for _, c := range cs[:purgesBefore] {
				redacted = redacted || c.Code == "erased1" && c.Kind == store.ChangeLinkCreated && c.URL == "" && c.Title == "" && c.Tags == nil
			}
			for _, c := range cs[purgesBefore:] {
				page = page || c.Kind == store.ChangeProfile && c.Handle == "erasedh"
			}
			if !redacted || !page {
				t.Fatalf("purge queue after the erasure: redacted create kept %v, profile page purge %v", redacted, page)
			}
			if kept := o.endpoint(71); kept.Pending == 0 || kept.Done != 1 {
				t.Fatalf("the admin's endpoint lost its deliveries: %+v", kept)
			}
		})
	}
}

// BenchmarkDeleteUserFullPurgeQueue is what an erasure's Apply costs with
// the purge queue at MaxPurges (no purge target), by version: version 2
// scans the queue once. Run it with -benchtime=200x: every iteration
// creates a user and a link outside the timer.
func BenchmarkDeleteUserFullPurgeQueue(b *testing.B) {
	for _, v := range []uint8{1, 2} {
		b.Run(fmt.Sprintf("v%d", v), func(b *testing.B) {
			o := &outboxFSM{t: b, next: 1}
			o.f, o.st = mustFSM(b, vfs.NewMem(), "")
			defer o.st.Close()
			for i := 0; i < MaxPurges; i += 1000 {
				o.apply(creates(i, 1000))
			}
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				uid := o.apply(&CreateUser{Now: 1, Email: fmt.Sprintf("u%d@x.test", i), PasswordHash: "h", Role: 1})[0].User.ID
				o.apply(&CreateLink{Now: 2, Code: fmt.Sprintf("e%06d", i), URL: "https://dest.test/", Owner: uid, RedirectStatus: 302})
				b.StartTimer()
				if r := o.apply(&DeleteUser{Header: Header{V: v}, Now: 3, ID: uid}); r[0].Err != nil {
					b.Fatal(r[0].Err)
				}
			}
		})
	}
}
