// Package diskscan reads every file under a directory as raw bytes, for
// tests that check what a node leaves on its disk (erasure: no file may
// hold an erased value, whatever format the file has).
package diskscan

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Holding returns the paths, relative to dir, of the files under dir whose
// bytes contain s. A file that goes away while it runs (the node is live:
// Pebble replaces its manifest markers, raft removes old snapshots) is
// skipped: it no longer holds anything.
func Holding(dir, s string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p != dir {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}
