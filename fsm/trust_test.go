package fsm

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/store"
)

// trustGoldenSamples pin the trust command and SetProfile version 3
// (held profile links).
func trustGoldenSamples() map[string]Command {
	return map[string]Command{
		"106-set-user-trust": &SetUserTrust{Now: 1700000000106, Actor: 1, User: 5, SetQuota: true,
			Quota: store.QuotaLimit, DailyLinks: 20, SetApproved: true, Approved: true, Release: true},
		"19-set-profile": &SetProfile{Now: 1700000000019, User: 2, Handle: "ann", Theme: "mono", PageCode: "pg12345",
			PageURL: "https://sho.rt/@ann", Links: []store.ProfileLink{{Code: "l123456", Title: "Blog",
				URL: "https://blog.test", Enabled: true}}, NewCodes: []string{"l123456", "pg12345"},
			RetireAt: 1700000000020, Hold: true},
	}
}

// trustUsers starts an fsm with the admin (1) and two users (2, 3).
func trustUsers(t *testing.T) (*FSM, *store.Store) {
	t.Helper()
	f, st := mustFSM(t, vfs.NewMem(), "")
	wantErrs(t, modRun(t, f, workload()[0],
		&CreateUser{Now: 2, Email: "ann@x.test", PasswordHash: "h", Role: uint8(store.RoleUser)},
		&CreateUser{Now: 3, Email: "bob@x.test", PasswordHash: "h", Role: uint8(store.RoleUser)}), nil, nil, nil)
	return f, st
}

// A quota override replaces the default in Apply: at and past an
// override, an override without any default, unlimited, and back to the
// default (whose record then goes); unknown users and modes fail.
func TestUserQuotaOverride(t *testing.T) {
	f, st := trustUsers(t)
	day := int64(20000) * store.DayMs
	q := func(code string, owner uint64, quota uint32) *CreateLink {
		return &CreateLink{Now: day + 1, Code: code, URL: "https://e.test/" + code, Owner: owner, RedirectStatus: 302,
			DailyQuota: quota}
	}
	set := func(user uint64, mode uint8, n uint32) *SetUserTrust {
		return &SetUserTrust{Now: day, Actor: 1, User: user, SetQuota: true, Quota: mode, DailyLinks: n}
	}
	wantErrs(t, modRun(t, f,
		set(2, store.QuotaLimit, 2),
		q("a1", 2, 5), q("a2", 2, 5), q("a3", 2, 5), // the override (2), not the default (5)
		q("b1", 3, 5), // user 3 keeps the default
		set(3, store.QuotaLimit, 0),
		q("b2", 3, 0), // an override with no server default at all
		set(2, store.QuotaUnlimited, 0),
		q("a4", 2, 5), q("a5", 2, 5), q("a6", 2, 5), q("a7", 2, 5),
		set(2, store.QuotaDefault, 0),
		q("a8", 2, 3), // back to the default: 2 counted before, 1 left
		q("a9", 2, 3),
		set(99, store.QuotaLimit, 1),
		set(2, 7, 1),
	), nil, nil, nil, ErrDailyQuota, nil, nil, ErrDailyQuota, nil, nil, nil, nil, nil, nil, nil, ErrDailyQuota,
		ErrUserNotFound, ErrTrustInvalid)
	if tr, err := st.UserTrust(2); err != nil || tr != nil {
		t.Fatalf("user 2 back at the defaults keeps a record: %+v, %v", tr, err)
	}
	if tr, err := st.UserTrust(3); err != nil || tr == nil || tr.Quota != store.QuotaLimit || tr.By != 1 {
		t.Fatalf("user 3: %+v, %v", tr, err)
	}
	log, _ := st.AuditLog(20)
	if log[0].Action != "user.quota" || log[0].Detail != "daily links: default" || log[0].Target != "user:2" {
		t.Fatalf("audit %+v", log[0])
	}
}

// Approval lifts the hold in Apply; approving with Release releases the
// user's held links (not others'), and their profile's page is purged;
// un-approving holds again. Approving a profile link by itself purges
// the page too. A deleted user's settings go.
func TestApproveUser(t *testing.T) {
	f, st := trustUsers(t)
	hold := func(code string, owner uint64) *CreateLink {
		return &CreateLink{Now: 10, Code: code, URL: "https://e.test/" + code, Owner: owner, RedirectStatus: 302, Hold: true}
	}
	approve := func(user uint64, ok, release bool) *SetUserTrust {
		return &SetUserTrust{Now: 20, Actor: 1, User: user, SetApproved: true, Approved: ok, Release: release}
	}
	prof := setProfile(11, 2, "ann", []string{"pa", "pageann"}, store.ProfileLink{Code: "pa", Title: "A",
		URL: "https://a.test", Enabled: true})
	prof.Hold = true
	wantErrs(t, modRun(t, f, hold("h1", 2), hold("h2", 2), hold("o1", 3), prof), nil, nil, nil, nil)
	wantStatus(t, st, map[string]store.LinkStatus{"pa": store.StatusHeld, "pageann": store.StatusActive})
	saved := profilePurges(t, st, "ann")
	wantErrs(t, modRun(t, f, &ReviewLink{Now: 12, Code: "h2", Actor: 1, Approve: true}), nil)
	if n := profilePurges(t, st, "ann"); n != saved {
		t.Fatalf("approving a short link purged the profile page (%d purges, want %d)", n, saved)
	}
	wantErrs(t, modRun(t, f, approve(2, true, true)), nil)
	if n := profilePurges(t, st, "ann"); n != saved+1 {
		t.Fatalf("releasing a held profile link: %d page purges, want %d", n, saved+1)
	}
	wantErrs(t, modRun(t, f, hold("h3", 2), approve(2, false, false), hold("h4", 2)), nil, nil, nil)
	wantStatus(t, st, map[string]store.LinkStatus{"h1": store.StatusActive, "h2": store.StatusActive,
		"pa": store.StatusActive, "o1": store.StatusHeld, "h3": store.StatusActive, "h4": store.StatusHeld})
	if q, _ := st.HeldLinks(10); len(q) != 2 {
		t.Fatalf("queue %+v", q)
	}
	log, _ := st.AuditLog(10)
	if log[0].Action != "user.unapprove" || log[1].Action != "review.approve" || log[1].Target != "pa" {
		t.Fatalf("audit %+v %+v", log[0], log[1])
	}
	wantErrs(t, modRun(t, f, approve(3, true, false), &DeleteUser{Now: 30, ID: 3}), nil, nil)
	if tr, err := st.UserTrust(3); err != nil || tr != nil {
		t.Fatalf("a deleted user's settings stay: %+v, %v", tr, err)
	}
}

// profilePurges counts the queued purges of handle's profile page.
func profilePurges(t *testing.T, st *store.Store, handle string) int {
	t.Helper()
	_, cs, err := st.Purges(1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cs {
		if c.Kind == store.ChangeProfile && c.Handle == handle {
			n++
		}
	}
	return n
}
