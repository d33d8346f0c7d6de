package fsm

import (
	"errors"
	"testing"

	"github.com/linkd/linkd/store"
)

func setProfile(now int64, user uint64, handle string, newCodes []string, links ...store.ProfileLink) *SetProfile {
	return &SetProfile{Now: now, User: user, Handle: handle, Theme: "classic", PageCode: "page" + handle,
		PageURL: "https://sho.rt/@" + handle, Links: links, NewCodes: newCodes}
}

func TestSetProfile(t *testing.T) {
	f, st := mustFSM(t, nil, t.TempDir())
	a := store.ProfileLink{Code: "pa", Title: "A", URL: "https://a.test", Enabled: true}
	b := store.ProfileLink{Code: "pb", Title: "B", URL: "https://b.test", Enabled: true}
	c := store.ProfileLink{Code: "pc", Title: "C", URL: "https://c.test", Enabled: true}
	first := setProfile(10, 2, "ann", []string{"pa", "pb", "pageann"}, a, b)
	cmds := []Command{
		workload()[0],
		&CreateUser{Now: 5, Email: "ann@x.test", PasswordHash: "h", Role: uint8(store.RoleUser)}, // id 2
		&CreateUser{Now: 6, Email: "bob@x.test", PasswordHash: "h", Role: uint8(store.RoleUser)}, // id 3
		first,
		first, // a retry
		setProfile(11, 3, "ann", []string{"x1", "pagebob"}),                                                                  // handle taken
		setProfile(12, 3, "bob", []string{"x2", "pagebob"}, store.ProfileLink{Code: "pa"}),                                   // ann's code
		setProfile(13, 2, "ann", []string{"pc"}, b, c, store.ProfileLink{Code: "c001", Title: "dup", URL: "https://d.test"}), // c001 not ann's
		func() *SetProfile { // reorder, drop a, add c, retitle b
			p := setProfile(14, 2, "ann", []string{"pc"}, c, b)
			p.Links[1].Title = "B2"
			p.PageCode = "pageann"
			return p
		}(),
	}
	res := f.ApplyBatch(logsFor(t, 1, cmds...))
	want := []error{nil, nil, nil, nil, nil, ErrHandleTaken, ErrNotFound, ErrNotFound, nil}
	for i, w := range want {
		if got := res[i].(*Result).Err; !errors.Is(got, w) || (got == nil) != (w == nil) {
			t.Errorf("command %d: err %v, want %v", i, got, w)
		}
	}
	if !res[4].(*Result).Replayed {
		t.Error("a retried SetProfile was not recognised")
	}
	// The failed command for user 3 left no trace: no x2 link, no profile.
	if _, err := st.Link("x2"); !errors.Is(err, store.ErrNotFound) {
		t.Error("a failed SetProfile created a link")
	}
	if _, err := st.Profile(3); !errors.Is(err, store.ErrNotFound) {
		t.Error("a failed SetProfile created a profile")
	}
	p, err := st.ProfileByHandle("ann")
	if err != nil || len(p.Links) != 2 || p.Links[0].Code != "pc" || p.Links[1].Title != "B2" {
		t.Fatalf("profile: %+v %v", p, err)
	}
	if l, _ := st.Link("pa"); l.Status != store.StatusDeleted {
		t.Error("the dropped link was not deleted")
	}
	if l, _ := st.Link("pb"); l.Title != "B2" || l.Owner != 2 {
		t.Errorf("the kept link: %+v", l)
	}
	if l, _ := st.Link("pageann"); l.URL != "https://sho.rt/@ann" || l.Status != store.StatusActive {
		t.Errorf("the page link: %+v", l)
	}
}

// A version 2 SetProfile retires the links it drops (they expire at
// RetireAt, still redirecting until then) instead of deleting them; a link
// that already expires sooner keeps its own expiry.
func TestSetProfileRetiresDroppedLinks(t *testing.T) {
	f, st := mustFSM(t, nil, t.TempDir())
	a := store.ProfileLink{Code: "pa", Title: "A", URL: "https://a.test", Enabled: true}
	b := store.ProfileLink{Code: "pb", Title: "B", URL: "https://b.test", Enabled: true}
	c := store.ProfileLink{Code: "pc", Title: "C", URL: "https://c.test", Enabled: true}
	first := setProfile(10, 2, "ann", []string{"pa", "pb", "pageann"}, a, b)
	drop := setProfile(20, 2, "ann", []string{"pc"}, c)
	drop.RetireAt = 1000
	res := f.ApplyBatch(logsFor(t, 1,
		workload()[0],
		&CreateUser{Now: 5, Email: "ann@x.test", PasswordHash: "h", Role: uint8(store.RoleUser)},
		first,
		&UpdateLink{Now: 15, Code: "pb", Actor: 2, ExpiresAt: ptr(int64(500))},
		drop))
	for i, r := range res {
		if err := r.(*Result).Err; err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
	}
	if l, _ := st.Link("pa"); l.Status != store.StatusActive || l.ExpiresAt != 1000 || l.Expired(999) || !l.Expired(1000) {
		t.Errorf("the dropped link is not retired at 1000: %+v", l)
	}
	if l, _ := st.Link("pb"); l.ExpiresAt != 500 {
		t.Errorf("the dropped link that expires sooner: %+v", l)
	}
}

func ptr[T any](v T) *T { return &v }
