// Package diskscan reads every file under a directory as raw bytes, for
// tests that check what a node leaves on its disk (erasure: no file may
// hold an erased value, whatever format the file has).
package diskscan

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
)

// Holding returns the paths, relative to dir, of the files under dir whose
// bytes contain s.
func Holding(dir, s string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
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
