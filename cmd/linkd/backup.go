package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/linkd/linkd/node"
	"github.com/linkd/linkd/store"
)

// backupCmd is `linkd backup --server URL --token T -o FILE`: it streams
// GET /api/v1/backup into FILE and verifies the checksum as it goes; a
// backup that does not verify is removed and the command fails.
func backupCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("linkd backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := clientFlags(fs)
	out := fs.String("o", "", "file to write the backup to (required)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || len(pos) > 0 {
		fs.Usage()
		return errors.New("usage: linkd backup --server URL --token TOKEN -o FILE")
	}
	resp, err := c.stream("/api/v1/backup")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	start := time.Now()
	info, n, err := store.VerifyBackup(io.TeeReader(resp.Body, f))
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(*out)
		return fmt.Errorf("backup not written: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d bytes, cluster %s, applied index %d, taken on %s at %s, verified (SHA-256) in %s\n",
		*out, n, info.ClusterID, info.AppliedIndex, info.NodeID,
		time.UnixMilli(info.CreatedAt).UTC().Format(time.RFC3339), time.Since(start).Round(time.Millisecond))
	return nil
}

// restoreCmd is `linkd restore FILE --data-dir DIR`: it verifies FILE, then
// seeds DIR, which must be new or empty. A node started on DIR becomes the
// first node of a new cluster with the backup's state.
func restoreCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("linkd restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "new, empty data directory to seed (required)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *dataDir == "" {
		fs.Usage()
		return errors.New("usage: linkd restore FILE --data-dir DIR")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	if _, _, err := store.VerifyBackup(f); err != nil {
		return fmt.Errorf("refusing %s: %w", pos[0], err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	info, err := node.SeedFromBackup(*dataDir, newByteReader(f))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored cluster %s at applied index %d into %s; start linkd serve --data-dir %s "+
		"(alone, or as the first node of a new cluster with --join ... --bootstrap-expect N)\n",
		info.ClusterID, info.AppliedIndex, *dataDir, *dataDir)
	return nil
}

// newByteReader buffers r (the header parser reads byte by byte).
func newByteReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, 256<<10) }
