package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
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
// API answers ({"links": {"link_1": {...}, ...}}), Shlink's API pages
// ({"shortUrls": {"data": [...]}}), a plain array of links, or JSON lines
// of links (linkd's export). Keys map as CSV headers do. It streams: a
// list is read one link at a time and each goes to fn before the next is
// read, so a large file is never held whole, and the rows before a break
// in the file are imported (a rerun resumes).
func readJSON(r io.Reader, fn func(Row) error) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	n := 0
	link := func(item any) error { n++; return fn(jsonRow(n, item)) }
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return notJSON(err)
		}
		switch tok {
		case json.Delim('['):
			err = jsonMembers(dec, false, func(_ string, v any) error { return link(v) })
		case json.Delim('{'):
			err = jsonObject(dec, link)
		default:
			err = link(tok) // a row that is not an object
		}
		if err != nil {
			return err
		}
	}
}

func notJSON(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("importer: not JSON: %w", err)
}

// jsonRow is the row of one decoded link. Keys are taken in sorted order
// and the first key of a field wins (as the first column does in a CSV):
// linkd's "clicks" before its "visits" (the visits counted toward
// maxVisits), Shlink's "visitsCount" before "visitsSummary".
func jsonRow(n int, item any) Row {
	row := Row{N: n}
	obj, ok := item.(map[string]any)
	if !ok {
		row.Err = errors.New("not a JSON object")
	}
	flat := map[string]any{}
	for k, val := range obj {
		if inner, ok := val.(map[string]any); ok { // Shlink: visitsSummary.total, meta.validUntil
			for k2, v2 := range inner {
				flat[k+k2] = v2
			}
		} else {
			flat[k] = val
		}
	}
	seen := map[field]bool{}
	for _, k := range slices.Sorted(maps.Keys(flat)) {
		f, v := headers[normalise(k)], jsonString(flat[k])
		if _, list := flat[k].([]any); list && f >= fOption { // rules, variants: kept as JSON
			b, _ := json.Marshal(flat[k])
			v = string(b)
		}
		if f == fNone || seen[f] || strings.TrimSpace(v) == "" {
			continue
		}
		seen[f] = true
		set(&row, f, v)
	}
	return row
}

// jsonMembers reads the rest of an array (keyed false) or an object whose
// opening delimiter was read, decoding one member at a time (an object's
// in file order: YOURLS's link_1, link_2, ...).
func jsonMembers(dec *json.Decoder, keyed bool, fn func(key string, v any) error) error {
	for dec.More() {
		var key string
		if keyed {
			kt, err := dec.Token()
			if err != nil {
				return notJSON(err)
			}
			key, _ = kt.(string)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return notJSON(err)
		}
		if err := fn(key, v); err != nil {
			return err
		}
	}
	_, err := dec.Token() // the closing delimiter
	return notJSON(err)
}

// jsonObject reads an object whose '{' was read: a list of links under a
// known key (Kutt's "data", Shlink's "shortUrls", YOURLS's "links"),
// streamed, or else one link.
func jsonObject(dec *json.Decoder, link func(any) error) error {
	item := func(_ string, v any) error { return link(v) }
	one, listed := map[string]any{}, false
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return notJSON(err)
		}
		key, _ := kt.(string)
		if key != "data" && key != "links" && key != "shortUrls" {
			var v any
			err = notJSON(dec.Decode(&v))
			one[key] = v
		} else if tok, terr := dec.Token(); terr != nil {
			err = notJSON(terr)
		} else {
			switch {
			case key == "data" && tok == json.Delim('['):
				listed, err = true, jsonMembers(dec, false, item)
			case key == "links" && tok == json.Delim('{'):
				listed, err = true, jsonMembers(dec, true, item)
			case key == "shortUrls" && tok == json.Delim('{'):
				listed, err = true, jsonObject(dec, link)
			default: // a link's own field by one of these names
				one[key], err = jsonRest(dec, tok)
			}
		}
		if err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return notJSON(err)
	}
	if listed {
		return nil
	}
	return link(one)
}

// jsonRest reads the rest of a value that starts with tok.
func jsonRest(dec *json.Decoder, tok json.Token) (any, error) {
	if tok != json.Delim('[') && tok != json.Delim('{') {
		return tok, nil
	}
	var list []any
	obj := map[string]any{}
	err := jsonMembers(dec, tok == json.Delim('{'), func(k string, v any) error {
		list, obj[k] = append(list, v), v
		return nil
	})
	if tok == json.Delim('{') {
		return obj, err
	}
	return list, err
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
