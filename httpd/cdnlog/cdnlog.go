// Package cdnlog reads the access logs CDNs push, one JSON object a line,
// into Lines: Cloudflare Logpush (the http_requests dataset) and Fastly
// (a JSON log format the operator configures, FastlyFormat). It only
// parses; what counts is decided by httpd/ops.
package cdnlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Formats.
const (
	Cloudflare = "cloudflare"
	Fastly     = "fastly"
)

// FastlyFormat is the log format an operator sets on a Fastly logging
// endpoint (format version 2, JSON lines) whose batches are posted to
// /api/v1/analytics/ingest?format=fastly.
const FastlyFormat = `{"timestamp":"%{begin:%Y-%m-%dT%H:%M:%SZ}t","host":"%{json.escape(req.http.host)}V",` +
	`"url":"%{json.escape(req.url)}V","method":"%{json.escape(req.method)}V","status":%{resp.status}V,` +
	`"client_ip":"%{req.http.Fastly-Client-IP}V","user_agent":"%{json.escape(req.http.User-Agent)}V",` +
	`"referer":"%{json.escape(req.http.referer)}V","cache_status":"%{fastly_info.state}V"}`

// Line is one request a CDN served.
type Line struct {
	Host, URI, Method string
	Status            int
	IP, UserAgent     string
	Referer           string
	Time              time.Time
	// Hit: the CDN answered from its cache, without asking the origin.
	Hit bool
}

// MaxLineBytes bounds one log line.
const MaxLineBytes = 16 << 10

// ErrFormat is an unknown format name.
var ErrFormat = errors.New("cdnlog: unknown format")

// ErrLineTooLong is a line over MaxLineBytes: the body is not a log.
var ErrLineTooLong = errors.New("cdnlog: line too long")

// cloudflare is a Logpush http_requests record (the fields used).
type cloudflare struct {
	ClientRequestHost      string
	ClientRequestURI       string
	ClientRequestMethod    string
	EdgeResponseStatus     int
	ClientIP               string
	ClientRequestUserAgent string
	ClientRequestReferer   string
	EdgeStartTimestamp     json.RawMessage
	CacheCacheStatus       string
}

// fastly is a FastlyFormat record.
type fastly struct {
	Timestamp   json.RawMessage `json:"timestamp"`
	Host        string          `json:"host"`
	URL         string          `json:"url"`
	Method      string          `json:"method"`
	Status      int             `json:"status"`
	ClientIP    string          `json:"client_ip"`
	UserAgent   string          `json:"user_agent"`
	Referer     string          `json:"referer"`
	CacheStatus string          `json:"cache_status"`
}

var errLine = errors.New("cdnlog: bad line")

// Read calls fn for each line of body in format: with the parsed line, or
// with ok false for a line that is not a record of the format. Blank lines
// are ignored. It fails only for an unknown format or a line over
// MaxLineBytes.
func Read(format string, body []byte, fn func(l Line, ok bool)) error {
	var parse func([]byte) (Line, error)
	switch format {
	case Cloudflare:
		parse = parseCloudflare
	case Fastly:
		parse = parseFastly
	default:
		return ErrFormat
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), MaxLineBytes)
	for sc.Scan() {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		l, err := parse(b)
		fn(l, err == nil)
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return ErrLineTooLong
	}
	return sc.Err()
}

func parseCloudflare(b []byte) (Line, error) {
	var r cloudflare
	if err := json.Unmarshal(b, &r); err != nil || r.ClientRequestHost == "" || r.ClientRequestURI == "" || r.EdgeResponseStatus == 0 {
		return Line{}, errLine
	}
	t, err := timestamp(r.EdgeStartTimestamp)
	if err != nil {
		return Line{}, err
	}
	// Served from Cloudflare's cache: hit, or a stale copy while (or
	// instead of) revalidating. "revalidated" asked the origin, which
	// counted it.
	st := strings.ToLower(r.CacheCacheStatus)
	return Line{Host: r.ClientRequestHost, URI: r.ClientRequestURI, Method: r.ClientRequestMethod, Status: r.EdgeResponseStatus,
		IP: r.ClientIP, UserAgent: r.ClientRequestUserAgent, Referer: r.ClientRequestReferer, Time: t,
		Hit: st == "hit" || st == "stale" || st == "updating"}, nil
}

func parseFastly(b []byte) (Line, error) {
	var r fastly
	if err := json.Unmarshal(b, &r); err != nil || r.Host == "" || r.URL == "" || r.Status == 0 {
		return Line{}, errLine
	}
	t, err := timestamp(r.Timestamp)
	if err != nil {
		return Line{}, err
	}
	// fastly_info.state: HIT, HIT-STALE, HIT-CLUSTER, ... are answered
	// from the cache; HITPASS and synthetic responses are not cached
	// objects, MISS and PASS went to the origin.
	st := strings.ToUpper(r.CacheStatus)
	return Line{Host: r.Host, URI: r.URL, Method: r.Method, Status: r.Status, IP: r.ClientIP, UserAgent: r.UserAgent,
		Referer: r.Referer, Time: t,
		Hit: strings.HasPrefix(st, "HIT") && !strings.HasPrefix(st, "HITPASS") && !strings.Contains(st, "SYNTH")}, nil
}

// timestamp reads an RFC 3339 string or a Unix time in seconds,
// milliseconds or nanoseconds (Logpush's timestamp_format unix,
// unixnano or rfc3339).
func timestamp(raw json.RawMessage) (time.Time, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return time.Parse(time.RFC3339Nano, s)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	switch {
	case err != nil || n <= 0:
		return time.Time{}, errLine
	case n < 1e11:
		return time.Unix(n, 0), nil
	case n < 1e14:
		return time.UnixMilli(n), nil
	}
	return time.Unix(0, n), nil
}
