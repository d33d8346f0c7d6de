package feeds_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkd/linkd/cluster/clustertest"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/node/feeds"
	"github.com/linkd/linkd/store"
)

// A large feed on three in-process nodes, a Runner on each: only the
// leader fetches; the list is staged in chunks no larger than
// fsm.MaxFeedChunk entries (about 150 KiB each here) and committed at
// once, after which every matching link is blocked on every node. The
// entry count is feedEntries (100,000 with -tags measure, which also logs
// the times).
func TestLargeFeedOnCluster(t *testing.T) {
	var body strings.Builder
	body.WriteString("# large feed\n")
	for i := range feedEntries {
		fmt.Fprintf(&body, "0.0.0.0 host-%06d.bad-feed.test\n", i)
	}
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, body.String())
	}))
	defer srv.Close()

	c := clustertest.Start(t, 3)
	leader := c.Leader()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const links, listed = 2000, 200
	for i := range links {
		host := fmt.Sprintf("ok-%d.test", i)
		if i < listed {
			host = fmt.Sprintf("host-%06d.bad-feed.test", i*(feedEntries/listed))
		}
		if _, err := leader.Cluster.Propose(ctx, &fsm.CreateLink{Now: time.Now().UnixMilli(), Code: fmt.Sprintf("fl%05d", i),
			Custom: true, URL: "https://" + host + "/p", Owner: 1, RedirectStatus: 302}); err != nil {
			t.Fatal(err)
		}
	}
	for _, nd := range c.Nodes {
		r := feeds.Start(feeds.Config{Store: nd.Node.Store(), Propose: nd.Cluster.Propose, Leader: nd.Node,
			Limits: feeds.Limits{AllowPrivate: true, MaxEntries: feedEntries}, Logger: clustertest.Logger()})
		defer r.Close()
	}
	start := time.Now()
	if _, err := leader.Cluster.Propose(ctx, &fsm.PutFeed{Now: time.Now().UnixMilli(), ID: 1, Name: "large",
		URL: srv.URL, Format: uint8(store.FeedHosts), Every: time.Hour.Milliseconds(), Actor: 1}); err != nil {
		t.Fatal(err)
	}
	// Wait for the version on the leader, then for every node to apply it.
	for {
		changed := leader.Node.Store().FeedsChanged()
		fs, err := leader.Node.Store().Feeds()
		if err != nil {
			t.Fatal(err)
		}
		// The write may have gone through another leader (leadership can
		// move under load): this node may not have applied it yet.
		if len(fs) > 0 && (fs[0].Version != 0 || fs[0].Error != "") {
			if fs[0].Entries != feedEntries || fs[0].Error != "" {
				t.Fatalf("feed %+v", fs[0])
			}
			break
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatal("no feed version")
		}
	}
	committed := time.Since(start)
	idx := leader.Node.Applied()
	for _, nd := range c.Nodes {
		if err := nd.Node.WaitApplied(ctx, idx); err != nil {
			t.Fatal(err)
		}
		for i := range links {
			code := fmt.Sprintf("fl%05d", i)
			want := store.HotActive
			if i < listed {
				want = store.HotBlocked
			}
			if e, _, err := nd.Node.Store().Resolve(nil, []byte(code)); err != nil || e.Kind != want {
				t.Fatalf("%s on %s: %v, %v; want %v", code, nd.ID, e.Kind, err, want)
			}
		}
	}
	all := time.Since(start)
	if n := hits.Load(); n != 1 {
		t.Fatalf("the feed was fetched %d times, want once (by the leader)", n)
	}
	// The largest raft entry: a full chunk of the longest entries.
	chunk := make([]string, fsm.MaxFeedChunk)
	for i := range chunk {
		chunk[i] = string(rune(store.BlockHost)) + fmt.Sprintf("host-%06d.bad-feed.test", i)
	}
	b, err := fsm.Encode(&fsm.StageFeed{Now: time.Now().UnixMilli(), ID: 1, Ver: uint64(time.Now().UnixNano()), Seq: 1, Entries: chunk})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d-entry feed, %d links (%d listed): committed %v after the feed was added, 451 on all 3 nodes after %v; "+
		"%d chunks, a full chunk is a %d-byte raft entry", feedEntries, links, listed, committed, all,
		(feedEntries+fsm.MaxFeedChunk-1)/fsm.MaxFeedChunk, len(b))
}
