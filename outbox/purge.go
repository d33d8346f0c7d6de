package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Purger removes URLs from one cache.
type Purger interface {
	// Name labels the target in logs and metrics.
	Name() string
	Purge(ctx context.Context, urls []string) error
	// PurgeHosts removes every cached URL of each host, or as much as
	// the target can address (see each implementation): known are the
	// URLs on those hosts the runner could name (each host's root, its
	// links' short URLs and previews), for a target that takes single URLs.
	PurgeHosts(ctx context.Context, hosts, known []string) error
}

// BanScopeHeader marks a BAN of a whole host: the request is BAN / with
// the host's Host and "X-Ban-Scope: host"; a VCL bans
// req.http.host == the Host (README, "CDN purge").
const BanScopeHeader = "X-Ban-Scope"

// Environment variables of the CDN APIs: tokens never go on the command
// line; the API bases are overridable (tests point them at a local server).
const (
	EnvCloudflareToken = "LINKD_CLOUDFLARE_TOKEN"
	EnvCloudflareAPI   = "LINKD_CLOUDFLARE_API"
	EnvFastlyToken     = "LINKD_FASTLY_TOKEN"
	EnvFastlyAPI       = "LINKD_FASTLY_API"
)

// cloudflareBatch is how many files one Cloudflare purge_cache call names.
const cloudflareBatch = 30

// purgeTimeout bounds one purge request.
const purgeTimeout = 10 * time.Second

// ParsePurge parses --purge: comma-separated kind=value targets,
// varnish=http://host:port (HTTP PURGE), ban=http://host:port (HTTP BAN),
// cloudflare=ZONE_ID, fastly=SERVICE_ID. getenv supplies tokens and API
// bases.
func ParsePurge(spec string, getenv func(string) string) ([]Purger, error) {
	var out []Purger
	hc := &http.Client{Timeout: purgeTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		kind, val, ok := strings.Cut(item, "=")
		if !ok || val == "" {
			return nil, fmt.Errorf("purge target %q: want kind=value", item)
		}
		switch kind {
		case "varnish", "ban":
			u, err := url.Parse(val)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return nil, fmt.Errorf("purge target %q: want %s=http://host:port", item, kind)
			}
			method := "PURGE"
			if kind == "ban" {
				method = "BAN"
			}
			out = append(out, &httpPurger{base: u.Scheme + "://" + u.Host, method: method, hc: hc})
		case "cloudflare":
			tok := getenv(EnvCloudflareToken)
			if tok == "" {
				return nil, fmt.Errorf("purge target %q: %s is not set", item, EnvCloudflareToken)
			}
			out = append(out, &cloudflare{zone: val, token: tok, api: apiBase(getenv(EnvCloudflareAPI), "https://api.cloudflare.com"), hc: hc})
		case "fastly":
			tok := getenv(EnvFastlyToken)
			if tok == "" {
				return nil, fmt.Errorf("purge target %q: %s is not set", item, EnvFastlyToken)
			}
			out = append(out, &fastly{service: val, token: tok, api: apiBase(getenv(EnvFastlyAPI), "https://api.fastly.com"), hc: hc})
		default:
			return nil, fmt.Errorf("purge target %q: kind must be varnish, ban, cloudflare or fastly", item)
		}
	}
	return out, nil
}

func apiBase(v, def string) string {
	if v == "" {
		return def
	}
	return strings.TrimRight(v, "/")
}

// do sends req and wants a 2xx answer.
func do(hc *http.Client, req *http.Request, what string) ([]byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return body, fmt.Errorf("%s: %s answered %d", what, req.URL.Host, resp.StatusCode)
	}
	return body, nil
}

// httpPurger sends PURGE (or BAN) /path with the URL's Host to a cache
// (Varnish, nginx proxy_cache_purge, Fastly-compatible caches).
type httpPurger struct {
	base, method string
	hc           *http.Client
}

func (p *httpPurger) Name() string { return strings.ToLower(p.method) + ":" + p.base }

func (p *httpPurger) Purge(ctx context.Context, urls []string) error {
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			return err
		}
		if err := p.send(ctx, u.Host, u.EscapedPath(), false); err != nil {
			return err
		}
	}
	return nil
}

// PurgeHosts sends, per host, BAN / with "X-Ban-Scope: host" (the VCL
// bans everything of that Host). A PURGE addresses one URL, so a PURGE
// target is sent the known URLs: the hosts' roots and the links the
// runner enumerated; other cached answers (profile pages on a profile
// domain, links past the enumeration's bound) stay until their max-age
// (README says so; use ban= for domains).
func (p *httpPurger) PurgeHosts(ctx context.Context, hosts, known []string) error {
	if p.method != "BAN" {
		return p.Purge(ctx, known)
	}
	for _, h := range hosts {
		if err := p.send(ctx, h, "/", true); err != nil {
			return err
		}
	}
	return nil
}

// send sends one PURGE or BAN of path with Host host; wholeHost marks a
// BAN of the whole host.
func (p *httpPurger) send(ctx context.Context, host, path string, wholeHost bool) error {
	req, err := http.NewRequestWithContext(ctx, p.method, p.base+path, nil)
	if err != nil {
		return err
	}
	req.Host = host
	if wholeHost {
		req.Header.Set(BanScopeHeader, "host")
	}
	_, err = do(p.hc, req, p.method+" "+host+path)
	return err
}

// cloudflare calls POST /client/v4/zones/{zone}/purge_cache with
// {"files": [...]} for URLs and {"hosts": [...]} for whole hosts (purge by
// hostname, once Enterprise-only; a zone whose plan lacks it answers an
// error, which is retried and shows in
// linkd_purge_requests_total{result="error"}).
type cloudflare struct {
	zone, token, api string
	hc               *http.Client
}

func (p *cloudflare) Name() string { return "cloudflare:" + p.zone }

func (p *cloudflare) Purge(ctx context.Context, urls []string) error {
	return p.purge(ctx, "files", urls)
}

func (p *cloudflare) PurgeHosts(ctx context.Context, hosts, _ []string) error {
	return p.purge(ctx, "hosts", hosts)
}

// purge names items under key, cloudflareBatch per call.
func (p *cloudflare) purge(ctx context.Context, key string, items []string) error {
	for len(items) > 0 {
		n := min(len(items), cloudflareBatch)
		body, _ := json.Marshal(map[string][]string{key: items[:n]})
		items = items[n:]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost,
			p.api+"/client/v4/zones/"+url.PathEscape(p.zone)+"/purge_cache", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+p.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := do(p.hc, req, "cloudflare purge_cache")
		if err != nil {
			return err
		}
		var r struct {
			Success bool `json:"success"`
		}
		if json.Unmarshal(resp, &r) != nil || !r.Success {
			return errors.New("cloudflare purge_cache: success is not true")
		}
	}
	return nil
}

// fastly calls POST /purge/{host}{path} (Fastly's single-URL purge, which
// addresses the URL, not the service; the service id names the target).
type fastly struct {
	service, token, api string
	hc                  *http.Client
}

func (p *fastly) Name() string { return "fastly:" + p.service }

func (p *fastly) Purge(ctx context.Context, urls []string) error {
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			return err
		}
		if err := p.post(ctx, "/purge/"+u.Host+u.EscapedPath()); err != nil {
			return err
		}
	}
	return nil
}

// PurgeHosts calls POST /service/{id}/purge_all once: linkd sets no
// Surrogate-Key header, so Fastly has no handle on one host's objects, and
// a domain change empties the service's cache.
func (p *fastly) PurgeHosts(ctx context.Context, _, _ []string) error {
	return p.post(ctx, "/service/"+url.PathEscape(p.service)+"/purge_all")
}

func (p *fastly) post(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.api+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Fastly-Key", p.token)
	req.Header.Set("Accept", "application/json")
	_, err = do(p.hc, req, "fastly purge")
	return err
}
