package node

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"

	"github.com/linkd/linkd/store"
)

// restoredMarker, in a data directory, says its store was seeded from a
// backup and raft has not adopted it yet.
const restoredMarker = "RESTORED"

// SeedFromBackup fills a new, empty data directory with the state of a
// verified backup (store.VerifyBackup first): the node started on it next
// becomes the first node of a new cluster holding that state. It refuses a
// directory that is not empty.
func SeedFromBackup(dataDir string, r io.Reader) (*store.BackupInfo, error) {
	if ents, err := os.ReadDir(dataDir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("node: %s is not empty; restore only seeds a new data directory", dataDir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	info, err := store.ReadBackupHeader(r)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(dataDir, "fsm")
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		return nil, err
	}
	err = st.Restore(r)
	if err == nil {
		err = st.SyncWAL()
	}
	err = errors.Join(err, st.Close())
	if err == nil {
		err = writeFileSync(filepath.Join(dataDir, restoredMarker), []byte(info.ClusterID+"\n"))
	}
	if err != nil {
		os.RemoveAll(dir) // leave the directory as empty as it was, so a retry is allowed
		return nil, err
	}
	return info, nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// adoptRestored turns a store seeded by SeedFromBackup into raft state: a
// snapshot at the store's applied index whose configuration is this node
// alone. Raft then starts from it (the log continues after the backup's
// index, so the fsm applies every new entry and skips none), this node
// elects itself, and others join it: a node with state never takes part in
// a --bootstrap-expect bootstrap, so peers started with the same command
// line find it leading and ask to be admitted, and raft ships them the
// snapshot. Cluster id, permutation key, users, keys, sessions and the id
// counter (so codes are never reissued) all come with the store.
func (n *Node) adoptRestored(logs raft.LogStore, snaps raft.SnapshotStore) error {
	marker := filepath.Join(n.cfg.DataDir, restoredMarker)
	if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	has, err := raft.HasExistingState(logs, n.bolt, snaps)
	if err != nil {
		return err
	}
	if !has {
		if err := n.snapshotRestored(snaps); err != nil {
			return err
		}
	}
	return os.Remove(marker)
}

func (n *Node) snapshotRestored(snaps raft.SnapshotStore) error {
	index := n.fsm.Applied()
	conf := raft.Configuration{Servers: []raft.Server{{
		Suffrage: raft.Voter, ID: raft.ServerID(n.cfg.NodeID), Address: n.trans.LocalAddr(),
	}}}
	sink, err := snaps.Create(raft.SnapshotVersionMax, index, 1, conf, index, n.trans)
	if err != nil {
		return fmt.Errorf("node: adopt restored state: %w", err)
	}
	sn := n.st.Snapshot()
	defer sn.Close()
	if _, err := sn.WriteTo(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("node: adopt restored state: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("node: adopt restored state: %w", err)
	}
	// A term at least the snapshot's, as BootstrapCluster does.
	if err := n.bolt.SetUint64([]byte("CurrentTerm"), 1); err != nil {
		return err
	}
	n.log.Info("adopted a restored backup as a new single-node cluster; other nodes join it",
		"appliedIndex", index)
	return nil
}
