//go:build measure

package node

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
)

// The scrub's cost grows with the store: a snapshot writes all of it and
// the compaction rewrites it. With 20,000 other links (about 5 MB of
// Pebble) on three in-process nodes, how long until every node scrubbed.
// Run: go test -tags measure -run TestScrubTimeWithLargerStore -v ./node
func TestScrubTimeWithLargerStore(t *testing.T) {
	c := startScrubCluster(t)
	canary := newCanary()
	uid := c.fillUser(canary)
	now := time.Now().UnixMilli()
	for b := range 20 {
		cmd := &fsm.CreateLinks{}
		for i := range 1000 {
			cmd.Items = append(cmd.Items, fsm.CreateLink{Now: now, Code: fmt.Sprintf("m%03d%03d", b, i), Custom: true,
				URL: fmt.Sprintf("https://filler-%d.test/some/path/%d", b, i), Title: "a filler link", Owner: 1, RedirectStatus: 302})
		}
		c.propose(cmd)
	}
	c.eraseEverywhere(t, uid, canary, func(i int) {
		var size int64
		filepath.Walk(c.dirs[i], func(_ string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				size += fi.Size()
			}
			return nil
		})
		t.Logf("%s: data dir %.1f MB after the scrub", c.nodes[i].ID(), float64(size)/1e6)
	})
}
