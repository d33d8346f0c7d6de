package fsm

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/store"
)

// Held links: created held (queued), not released by a rescan (a listed
// one is blocked instead), approved → active, rejected → taken down; a
// decision on a link that is not held fails; a held link deleted by its
// owner leaves the queue.
func TestReviewQueue(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "")
	hold := func(code, url string) *CreateLink {
		return &CreateLink{Now: 1, Code: code, URL: url, Owner: 2, RedirectStatus: 302, Hold: true}
	}
	wantErrs(t, modRun(t, f,
		hold("h1", "https://one.test/"), hold("h2", "https://two.test/"), hold("h3", "https://bad.test/"),
		hold("h4", "https://four.test/"), create("a1", "https://ok.test/", 1),
		&AddBlock{Now: 2, ID: 1, Kind: uint8(store.BlockDomain), Value: "bad.test", Actor: 1},
		&ReviewLink{Now: 3, Code: "h1", Actor: 1, Approve: true},
		&ReviewLink{Now: 4, Code: "h2", Actor: 1, Reason: "spam"},
		&ReviewLink{Now: 5, Code: "h1", Actor: 1, Approve: true},
		&ReviewLink{Now: 6, Code: "a1", Actor: 1, Approve: true},
		&DeleteLink{Now: 7, Code: "h4", Actor: 2},
	), nil, nil, nil, nil, nil, nil, nil, nil, ErrNotHeld, ErrNotHeld, nil)
	wantStatus(t, st, map[string]store.LinkStatus{"h1": store.StatusActive, "h2": store.StatusBlocked,
		"h3": store.StatusBlocked, "h4": store.StatusDeleted, "a1": store.StatusActive})
	if q, err := st.HeldLinks(10); err != nil || len(q) != 0 {
		t.Fatalf("queue after every decision: %+v, %v", q, err)
	}
	wantErrs(t, modRun(t, f, hold("h5", "https://five.test/")), nil)
	if q, err := st.HeldLinks(10); err != nil || len(q) != 1 || q[0].Code != "h5" {
		t.Fatalf("queue: %+v, %v", q, err)
	}
	if td, err := st.Takedown("h2"); err != nil || td.Reason != "Rejected in review: spam" {
		t.Fatalf("rejection %+v, %v", td, err)
	}
	log, _ := st.AuditLog(10)
	if log[0].Action != "review.reject" || log[1].Action != "review.approve" {
		t.Fatalf("audit %+v", log)
	}
}
