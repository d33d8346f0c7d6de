package feeds

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/linkd/linkd/internal/destkey"
	"github.com/linkd/linkd/store"
)

// maxValue bounds one entry's value, as an admin's blocklist entry.
const maxValue = 2048

// maxLine bounds one line of a hosts file or list; a longer line fails the
// whole fetch (it is no such file).
const maxLine = 64 << 10

// Parse reads a feed body of format f and returns its entries, each its
// kind byte (store.BlockKind) and normalised value, sorted and without
// duplicates. Lines that are not entries (comments, blank lines, names
// without a dot, unparsable URLs) are skipped; more than maxEntries
// distinct entries, or none at all, fail.
//
//   - hosts: "0.0.0.0 a.test b.test" lines; every name is a host entry
//     (that exact host). localhost and names without a dot are skipped.
//   - list: one entry a line, "#" and "!" start comments. A line with
//     "://" is a url entry (host and path, as an admin's url entry); any
//     other is a domain entry: that name and its subdomains, exactly as
//     listed (never widened to its registrable domain, so a feed listing
//     "sites.example.com" does not block example.com).
//   - urlhaus: URLhaus's CSV ("#" comment lines, the URL in the third
//     column); every URL is a url entry.
func Parse(f store.FeedFormat, r io.Reader, maxEntries int) ([]string, error) {
	set := map[string]struct{}{}
	add := func(k store.BlockKind, v string) error {
		if v == "" || len(v) > maxValue || strings.ContainsAny(v, "\x00 \t") {
			return nil
		}
		e := string(rune(k)) + v
		if _, dup := set[e]; dup {
			return nil
		}
		if len(set) >= maxEntries {
			return fmt.Errorf("the feed lists more than %d entries", maxEntries)
		}
		set[e] = struct{}{}
		return nil
	}
	var err error
	switch f {
	case store.FeedHosts:
		err = lines(r, func(line string) error {
			fields := strings.Fields(line)
			if len(fields) < 2 {
				return nil
			}
			for _, name := range fields[1:] {
				if h, ok := hostName(name); ok && h != "localhost.localdomain" {
					if err := add(store.BlockHost, h); err != nil {
						return err
					}
				}
			}
			return nil
		})
	case store.FeedList:
		err = lines(r, func(line string) error {
			if strings.HasPrefix(line, "!") {
				return nil
			}
			line = strings.Fields(line)[0]
			if strings.Contains(line, "://") {
				if p, ok := destkey.Of(line); ok {
					return add(store.BlockURL, p.Key)
				}
				return nil
			}
			if h, ok := hostName(line); ok {
				return add(store.BlockDomain, h)
			}
			return nil
		})
	case store.FeedURLhaus:
		err = urlhaus(r, func(u string) error {
			if p, ok := destkey.Of(u); ok {
				return add(store.BlockURL, p.Key)
			}
			return nil
		})
	default:
		return nil, fmt.Errorf("unknown feed format %d", f)
	}
	if err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return nil, errors.New("the feed lists no entries")
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	slices.Sort(out)
	return out, nil
}

// lines calls fn with every line that is neither blank nor a "#" comment,
// trimmed and with a trailing "# comment" cut.
func lines(r io.Reader, fn func(string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return fmt.Errorf("a line is longer than %d bytes", maxLine)
	}
	return sc.Err()
}

func urlhaus(r io.Reader, fn func(string) error) error {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not URLhaus CSV: %w", err)
		}
		if len(rec) < 3 {
			continue
		}
		if err := fn(rec[2]); err != nil {
			return err
		}
	}
}

// hostName normalises a host name from a feed; ok is false for what is not
// one, for IP addresses and for names without a dot (localhost, a bare
// top-level domain: one feed line must never block a whole TLD).
func hostName(s string) (string, bool) {
	h := destkey.Host(s)
	if h == "" || !strings.Contains(h, ".") || len(h) > 253 {
		return "", false
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return "", false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return "", false
		}
	}
	return h, true
}
