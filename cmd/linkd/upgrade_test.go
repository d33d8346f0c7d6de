//go:build upgrade

package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// previousRelease is the commit the rolling-upgrade test starts from.
const previousRelease = "47bad8b"

// buildRelease builds linkd as of commit into a temporary directory. It
// fails loudly without git or without the commit (CI runs in a full clone).
func buildRelease(t *testing.T, commit string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("the upgrade test needs git to build release %s: %v", commit, err)
	}
	if out, err := exec.Command("git", "cat-file", "-e", commit+"^{commit}").CombinedOutput(); err != nil {
		t.Fatalf("commit %s is not in this clone's history (a shallow clone?): %v %s", commit, err, out)
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("finding the repository root: %v", err)
	}
	src := t.TempDir()
	// git archive takes paths relative to its working directory: run it at the root.
	archive := exec.Command("sh", "-c", fmt.Sprintf("git archive --format=tar %s | tar -x -C %s", commit, src))
	archive.Dir = strings.TrimSpace(string(top))
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("extracting %s: %v %s", commit, err, out)
	}
	bin := filepath.Join(t.TempDir(), "linkd-"+commit)
	build := exec.Command("go", "build", "-o", bin, "./cmd/linkd")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building release %s: %v %s", commit, err, out)
	}
	return bin
}

// A 3-node cluster of the previous release is upgraded one node at a time
// to this build while clients keep creating links on every node: no
// request fails, no acknowledged link is lost, old and new nodes apply each
// other's entries, and all nodes converge.
func TestRollingUpgradeFromPreviousRelease(t *testing.T) {
	oldBin := buildRelease(t, previousRelease)
	specs := make([]spec, 3)
	var joins []string
	for i := range specs {
		specs[i] = newSpec(t, fmt.Sprintf("n%d", i+1))
		joins = append(joins, specs[i].raftAddr)
	}
	procs := make([]*proc, 3)
	for i := range specs {
		// Frequent snapshots and a short log, so a restarted node is
		// likely caught up by a snapshot from a leader of the other version.
		specs[i].args = []string{"--join", strings.Join(joins, ","), "--bootstrap-expect", "3", "--raft-heartbeat", "500ms",
			"--snapshot-threshold", "200", "--snapshot-interval", "1s", "--raft-trailing-logs", "100"}
		specs[i].bin = oldBin
		procs[i] = launch(t, specs[i])
	}
	for _, p := range procs {
		p.waitReady(t, 30*time.Second)
	}

	live := newLiveSet(procs)
	stopWriters := startWriters(4, live, "upgrade")
	isOld := func(p *proc) bool { return p.spec.bin != "" }
	// replace stops live[i] and starts it again on bin, under load.
	replace := func(i int, bin string) {
		time.Sleep(time.Second)
		p := live.get(i)
		p.stop(t)
		s := p.spec
		s.bin = bin
		// The previous release has no peer authentication, so a mixed
		// cluster runs without it; README: "Moving an insecure cluster to
		// a secret" is the step after the upgrade.
		s.args = slices.DeleteFunc(slices.Clone(s.args), func(a string) bool { return a == "--insecure-cluster" })
		if bin == "" {
			s.args = append(s.args, "--insecure-cluster")
		}
		np := launch(t, s)
		np.waitReady(t, 30*time.Second)
		live.set(i, np)
	}
	for i := range procs {
		replace(i, "") // this build
		leader := leaderOf(t, live.all())
		t.Logf("%s upgraded; leader %s (old: %v)", live.get(i).id, leader.id, isOld(leader))
		if i != 0 {
			continue
		}
		// With one node upgraded, restart old leaders (on the old binary)
		// until the new node leads, so old followers apply entries a new
		// leader wrote, not only the other way round.
		for tries := 0; isOld(leader) && tries < 8; tries++ {
			replace(indexOf(live.all(), leader), oldBin)
			leader = leaderOf(t, live.all())
		}
		if isOld(leader) {
			t.Fatal("the upgraded node never became leader; the mixed cluster was not exercised with a new leader")
		}
		t.Logf("new node %s leads two old followers", leader.id)
		code := mustCreateOn(t, leader, "https://written-by-new-leader.test/")
		for _, p := range live.all() {
			redirectsTo(t, p, code, "https://written-by-new-leader.test/") // old followers apply it
		}
		// An old follower that missed more than the leader's log keeps
		// is caught up by a snapshot the new leader made.
		fi := (indexOf(live.all(), leader) + 1) % 3
		follower := live.get(fi)
		follower.stop(t)
		for j := range 400 {
			mustCreateOn(t, leader, fmt.Sprintf("https://while-%s-was-down.test/%d", follower.id, j))
		}
		time.Sleep(4 * time.Second) // the leader snapshots (every 1-2 s) and compacts its log
		np := launch(t, follower.spec)
		np.waitReady(t, 30*time.Second)
		live.set(fi, np)
		eventually(t, 20*time.Second, "old "+follower.id+" to install the new leader's snapshot", func() bool {
			return strings.Contains(np.logs.String(), "restored state from snapshot")
		})
		t.Logf("old %s installed a snapshot from new leader %s", np.id, leader.id)
	}
	time.Sleep(time.Second)
	done, failed, acked := stopWriters()
	if failed > 0 || done < 50 {
		t.Fatalf("%d creates failed, %d succeeded during the rolling upgrade", failed, done)
	}
	nodes := live.all()
	for code, url := range acked {
		for _, p := range nodes {
			redirectsTo(t, p, code, url)
		}
	}
	eventually(t, 10*time.Second, "applied indexes to converge", func() bool {
		var idx []uint64
		for _, p := range nodes {
			s, err := status(p)
			if err != nil {
				return false
			}
			idx = append(idx, s.AppliedIndex)
		}
		return idx[0] == idx[1] && idx[1] == idx[2]
	})
	for _, p := range nodes {
		if strings.Contains(p.logs.String(), "REFUSING") || strings.Contains(p.logs.String(), "panic") {
			t.Fatalf("%s refused or panicked:\n%s", p.id, p.logs)
		}
	}
	t.Logf("%d creates during a rolling upgrade from %s, none failed or lost; all nodes converged", done, previousRelease)
}
