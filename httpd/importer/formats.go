package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// readCSV reads a CSV file with a header row (Bitly, Shlink, YOURLS's
// table as CSV, linkd's export, generic files).
func readCSV(r io.Reader, mapping map[string]string, fn func(Row) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("importer: reading the header row: %w", err)
	}
	cols, err := columns(header, mapping)
	if err != nil {
		return err
	}
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		row := Row{N: n}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return err
			}
			row.Err = err
		}
		for i, v := range rec {
			if i < len(cols) {
				set(&row, cols[i], v)
			}
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}

// readJSON reads JSON: Kutt's API answers ({"data": [link, ...]}), YOURLS's
// API answers ({"links": {"link_1": {...}}}), a plain array of links, or
// JSON lines of links (linkd's export). Keys map as CSV headers do.
func readJSON(r io.Reader, fn func(Row) error) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	n := 0
	for {
		var v any
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("importer: not JSON: %w", err)
		}
		for _, item := range jsonItems(v) {
			n++
			row := Row{N: n}
			obj, ok := item.(map[string]any)
			if !ok {
				row.Err = errors.New("not a JSON object")
			}
			for k, val := range obj {
				if inner, ok := val.(map[string]any); ok { // Shlink: visitsSummary.total, meta.validUntil
					for k2, v2 := range inner {
						set(&row, headers[normalise(k+k2)], jsonString(v2))
					}
					continue
				}
				set(&row, headers[normalise(k)], jsonString(val))
			}
			if err := fn(row); err != nil {
				return err
			}
		}
	}
}

// jsonItems finds the list of links in a decoded JSON value.
func jsonItems(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case map[string]any:
		if d, ok := v["data"].([]any); ok {
			return d
		}
		if su, ok := v["shortUrls"].(map[string]any); ok { // Shlink's REST API: {"shortUrls": {"data": [...], "pagination": {...}}}
			d, _ := su["data"].([]any)
			return d
		}
		if l, ok := v["links"].(map[string]any); ok { // YOURLS: link_1, link_2, ... in order
			keys := make([]string, 0, len(l))
			for k := range l {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool { return linkNum(keys[i]) < linkNum(keys[j]) })
			out := make([]any, len(keys))
			for i, k := range keys {
				out[i] = l[k]
			}
			return out
		}
		return []any{v}
	}
	return []any{v}
}

func linkNum(k string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(k, "link_"))
	return n
}

func jsonString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case []any:
		parts := make([]string, 0, len(v))
		for _, p := range v {
			parts = append(parts, jsonString(p))
		}
		return strings.Join(parts, ",")
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// readYOURLS reads YOURLS's yourls_url table as a SQL dump (mysqldump's
// INSERT statements), as CSV with a header row, or its API's JSON.
func readYOURLS(r io.Reader, mapping map[string]string, fn func(Row) error) error {
	br := bufio.NewReader(r)
	head, _ := br.Peek(4096)
	trimmed := bytes.TrimSpace(head)
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")) || bytes.HasPrefix(trimmed, []byte("[")):
		return readJSON(br, fn)
	case bytes.Contains(head, []byte("INSERT INTO")) || bytes.HasPrefix(trimmed, []byte("--")) || bytes.HasPrefix(trimmed, []byte("/*")):
		return readSQL(br, fn)
	}
	return readCSV(br, mapping, fn)
}

// yourlsColumns is the column order of yourls_url, for INSERTs without a
// column list.
var yourlsColumns = []string{"keyword", "url", "title", "timestamp", "ip", "clicks"}

var insertRE = regexp.MustCompile("(?is)^INSERT\\s+INTO\\s+`?(\\w+)`?\\s*(\\(([^)]*)\\))?\\s*VALUES\\s*")

// readSQL reads the INSERT INTO `..._url` statements of a dump, one
// statement at a time (mysqldump writes one per line).
func readSQL(br *bufio.Reader, fn func(Row) error) error {
	n := 0
	for {
		line, err := br.ReadString('\n')
		stmt := strings.TrimSpace(line)
		if m := insertRE.FindStringSubmatch(stmt); m != nil && strings.HasSuffix(strings.ToLower(m[1]), "url") {
			cols := yourlsColumns
			if m[3] != "" {
				cols = nil
				for _, c := range strings.Split(m[3], ",") {
					cols = append(cols, strings.Trim(strings.TrimSpace(c), "`"))
				}
			}
			fields := make([]field, len(cols))
			for i, c := range cols {
				fields[i] = headers[normalise(c)]
			}
			tuples, perr := sqlTuples(stmt[len(m[0]):])
			for _, t := range tuples {
				n++
				row := Row{N: n}
				for i, v := range t {
					if i < len(fields) {
						set(&row, fields[i], v)
					}
				}
				if err := fn(row); err != nil {
					return err
				}
			}
			if perr != nil {
				return fmt.Errorf("importer: SQL statement after row %d: %w", n, perr)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// sqlTuples splits "(a,'b'),(c,'d');" into values, unquoting strings
// (with MySQL's backslash escapes) and turning NULL into "".
func sqlTuples(s string) ([][]string, error) {
	var out [][]string
	var cur []string
	var val strings.Builder
	inTuple, inStr, quoted := false, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr && c == '\\' && i+1 < len(s):
			i++
			val.WriteByte(unescape(s[i]))
		case inStr && c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			val.WriteByte('\'')
			i++
		case inStr && c == '\'':
			inStr = false
		case inStr:
			val.WriteByte(c)
		case c == '\'':
			inStr, quoted = true, true
		case !inTuple && c == '(':
			inTuple, cur = true, nil
		case inTuple && (c == ',' || c == ')'):
			v := strings.TrimSpace(val.String())
			if !quoted && strings.EqualFold(v, "NULL") {
				v = ""
			}
			cur = append(cur, v)
			val.Reset()
			quoted = false
			if c == ')' {
				inTuple = false
				out = append(out, cur)
			}
		case inTuple:
			val.WriteByte(c)
		}
	}
	if inTuple || inStr {
		return out, errors.New("unterminated value list")
	}
	return out, nil
}

// unescape is MySQL's meaning of a backslash before c.
func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	case '0':
		return 0
	}
	return c
}
