package fsm

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/linkd/linkd/store"
)

// quotaGoldenSamples pin the versions that carry a daily quota or a hold
// (CreateLink version 3, CreateLinks version 2) and the review decision.
func quotaGoldenSamples() map[string]Command {
	return map[string]Command{
		"03-create-link": &CreateLink{Now: 1700000000002, Code: "abc1234", URL: "https://example.com/q", Owner: 7,
			RedirectStatus: 302, DailyQuota: 50, Hold: true},
		"105-review-link": &ReviewLink{Now: 1700000000105, Code: "abc1234", Actor: 1, Approve: true, Reason: "fine"},
		"70-create-links": &CreateLinks{Items: []CreateLink{
			{Now: 1700000000100, Code: "abc1234", URL: "https://example.com/1", Owner: 7, RedirectStatus: 302, DailyQuota: 50},
			{Now: 1700000000100, Code: "abc1235", URL: "https://example.com/2", Owner: 7, RedirectStatus: 302, DailyQuota: 50}}},
	}
}

// The daily quota counts successful creates per owner and UTC day, at and
// past the limit, per item in a batch; replays, failed creates and other
// owners do not count; the next day starts at zero and drops the old count.
func TestDailyQuota(t *testing.T) {
	f, st := mustFSM(t, vfs.NewMem(), "")
	day := int64(20000) * store.DayMs
	q := func(code string, owner uint64, now int64) *CreateLink {
		return &CreateLink{Now: now, Code: code, URL: "https://e.test/" + code, Owner: owner, RedirectStatus: 302, DailyQuota: 3}
	}
	first := q("q1", 2, day+1)
	wantErrs(t, modRun(t, f,
		first,
		first,             // a retry of the same command: replayed, not counted
		q("q1", 2, day+2), // a taken code: fails, not counted
		q("q2", 2, day+3),
		q("o1", 3, day+4), // another owner
		&CreateLinks{Items: []CreateLink{*q("q3", 2, day+5), *q("q4", 2, day+5), *q("q5", 2, day+5)}},
		q("q6", 2, day+store.DayMs-1),
		q("n1", 2, day+store.DayMs), // the next UTC day
	), nil, nil, ErrExists, nil, nil, nil, ErrDailyQuota, nil)
	r := f.ApplyBatch(logsFor(t, f.Applied()+1, &CreateLinks{Items: []CreateLink{*q("n2", 2, day+store.DayMs+1),
		*q("n3", 2, day+store.DayMs+1), *q("n4", 2, day+store.DayMs+1)}}))[0].(*Result)
	if len(r.Items) != 3 || r.Items[0].Err != nil || r.Items[1].Err != nil || r.Items[2].Err != ErrDailyQuota {
		t.Fatalf("batch on day 2: %+v", r.Items)
	}
	txn := st.Begin()
	defer txn.Abort()
	for _, c := range []struct {
		user uint64
		day  int64
		want uint64
	}{{2, 20000, 0}, {2, 20001, 3}, {3, 20000, 1}} {
		if n, err := txn.DailyLinks(c.user, c.day); err != nil || n != c.want {
			t.Errorf("user %d day %d: %d, %v; want %d", c.user, c.day, n, err, c.want)
		}
	}
	for _, code := range []string{"q5", "q6", "n4"} {
		if _, err := txn.Link(code); err == nil {
			t.Errorf("%s was created past the quota", code)
		}
	}
}
