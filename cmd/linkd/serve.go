package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/linkd/linkd/cluster"
	"github.com/linkd/linkd/httpd"
	"github.com/linkd/linkd/httpd/ratelimit"
	"github.com/linkd/linkd/internal/clientaddr"
	"github.com/linkd/linkd/internal/textlist"
	"github.com/linkd/linkd/internal/wire"
	"github.com/linkd/linkd/node"
	"github.com/linkd/linkd/node/feeds"
	"github.com/linkd/linkd/outbox"
	"github.com/linkd/linkd/outbox/webhook"
	"github.com/linkd/linkd/store"
)

// shutdownGrace bounds how long a stopping node waits for open requests.
const shutdownGrace = 10 * time.Second

// DefaultDrain is --drain's default: long enough for a load balancer that
// probes /_/readyz every second to see a few failed checks (Varnish's and
// HAProxy's usual window) and stop sending requests.
const DefaultDrain = 5 * time.Second

type serveFlags struct {
	nodeID, dataDir, httpAddr, httpAdvertise, raftAddr, raftAdvertise string
	publicURL, adminToken, logLevel, logFormat, join                  string
	redirectMaxAge, snapshotInterval, heartbeat, maxStaleness         time.Duration
	snapshotThreshold, trailingLogs                                   uint64
	hotSetBytes, bootstrapExpect, memoryLimitMiB, raftLogMiB          int
	nonVoter, analytics, honorDNT, dayRecords                         bool
	analyticsLag, keepMinutes, keepHours, drain                       time.Duration
	trustedProxies, clientIPHeader, registration, profileHost         string
	abuseContact                                                      string
	refuseShorteners                                                  string
	secureCookies                                                     bool
	maxConnsPerIP                                                     int
	uploadQuota                                                       int64
	feeds                                                             feeds.Limits
	feedMinInterval                                                   time.Duration
	userDailyLinks                                                    uint
	reviewNewUsers                                                    time.Duration
	limits                                                            httpd.Limits
	peer                                                              peerFlags
	tls                                                               tlsFlags
	groupCommit                                                       bool
	cpuProfile                                                        string
	purge                                                             string
	webhooksAllowPrivate                                              bool
	webhooksWindow, webhooksBackoff, purgeRepeat                      time.Duration
}

// limitFlag lets a ratelimit.Limit be a flag ("20/s:100", "off").
type limitFlag struct{ l *ratelimit.Limit }

func (f limitFlag) String() string {
	if f.l == nil {
		return ""
	}
	return f.l.String()
}

func (f limitFlag) Set(s string) (err error) {
	*f.l, err = ratelimit.Parse(s)
	return err
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.nodeID, "node-id", "n1", "this node's unique, stable id")
	fs.StringVar(&f.dataDir, "data-dir", "./linkd-data", "where this node keeps its state")
	fs.StringVar(&f.httpAddr, "http-addr", ":8080", "public HTTP listen address")
	fs.StringVar(&f.httpAdvertise, "http-advertise", "", "HTTP address other nodes and clients reach this node at (default: derived from --http-addr)")
	fs.StringVar(&f.raftAddr, "raft-addr", "127.0.0.1:7000", "raft listen address")
	fs.StringVar(&f.raftAdvertise, "raft-advertise", "", "raft address other nodes reach this node at (default --raft-addr)")
	fs.StringVar(&f.join, "join", "", "comma-separated raft addresses of the cluster's nodes (this one may be listed too); empty runs a single-node cluster")
	fs.IntVar(&f.bootstrapExpect, "bootstrap-expect", 0, "with --join: bootstrap a new cluster once this many nodes (all of --join, none with state) are up")
	fs.BoolVar(&f.nonVoter, "non-voter", false, "with --join: join as a read replica that serves redirects but does not vote")
	f.peer.register(fs)
	fs.StringVar(&f.publicURL, "public-url", "", "base URL of short links, e.g. https://sho.rt (default http://localhost:<http port>)")
	fs.StringVar(&f.adminToken, "admin-token", "", "API token of the first admin, used only when this node creates a new cluster (default: generate and print one)")
	fs.DurationVar(&f.redirectMaxAge, "redirect-max-age", 0, "let browsers and CDNs cache redirects this long (0: no-store, so edits and takedowns apply at once)")
	fs.Uint64Var(&f.snapshotThreshold, "snapshot-threshold", 8192, "raft log entries between snapshots")
	fs.DurationVar(&f.snapshotInterval, "snapshot-interval", 2*time.Minute, "how often to check whether to snapshot")
	fs.Uint64Var(&f.trailingLogs, "raft-trailing-logs", 10240, "raft log entries kept after a snapshot, so slow followers catch up without one")
	fs.IntVar(&f.raftLogMiB, "raft-log-mib", node.DefaultRaftLogBytes>>20, "the raft log's byte budget in MiB: a node snapshots once the entries since its last snapshot take half of it, and keeps trailing entries worth at most a quarter (bulk batches make entry counts meaningless); -1: entry counts alone")
	fs.DurationVar(&f.heartbeat, "raft-heartbeat", time.Second, "raft heartbeat and election timeout")
	fs.DurationVar(&f.maxStaleness, "max-staleness", cluster.DefaultMaxStaleness, "a follower without leader contact for longer reports not ready")
	fs.IntVar(&f.hotSetBytes, "hotset-bytes", store.DefaultHotSetBytes, "memory for the redirect hot set")
	fs.IntVar(&f.memoryLimitMiB, "memory-limit-mib", defaultMemoryLimitMiB, "memory the node aims to stay within, in MiB: the Go runtime's soft limit (GOMEMLIMIT, which wins when set) is this minus the hot set; 0: no limit")
	fs.BoolVar(&f.analytics, "analytics", true, "record clicks for analytics")
	fs.BoolVar(&f.dayRecords, "analytics-day-records", true, "apply clicks as one record per link and day (a fraction of the CPU per click), once every member of the cluster runs a release that can (asked of each member; until then clicks are applied the earlier way)")
	fs.DurationVar(&f.analyticsLag, "analytics-lag", 10*time.Second, "bound on the time from a redirect to its click showing in analytics")
	fs.DurationVar(&f.keepMinutes, "retention-minutes", 48*time.Hour, "how long per-minute click counts are kept (0: forever)")
	fs.DurationVar(&f.keepHours, "retention-hours", 90*24*time.Hour, "how long per-hour click counts are kept (0: forever); per-day counts are kept forever")
	fs.BoolVar(&f.honorDNT, "honor-dnt", true, "for requests with DNT: 1 or Sec-GPC: 1, count the click but record no dimensions or visitor")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs of proxies/CDNs whose client-address header (--client-ip-header) and CF-IPCountry are believed")
	fs.StringVar(&f.clientIPHeader, "client-ip-header", "x-forwarded-for", "the one header trusted proxies name the client in: x-forwarded-for, cf-connecting-ip, x-real-ip or none; no other is ever read")
	fs.StringVar(&f.refuseShorteners, "refuse-shorteners", "", "comma-separated other link shorteners refused as destinations (with their subdomains); empty for the built-in list (bit.ly, tinyurl.com, t.co, ...), \"none\" to allow all")
	fs.StringVar(&f.abuseContact, "abuse-contact", "", "the reporting policy a taken-down link's 451 page links to: a URL or an email address")
	fs.StringVar(&f.registration, "registration", string(httpd.RegistrationInvite), "who may sign up in the console: open, invite (with an admin's invite link) or closed")
	fs.StringVar(&f.profileHost, "profile-host", "", "a host name (e.g. bio.example) that serves profile pages at /{handle}; /@{handle} works on every host")
	fs.BoolVar(&f.secureCookies, "secure-cookies", false, "mark console cookies Secure (implied by an https --public-url); set it when a TLS proxy fronts linkd")
	fs.Int64Var(&f.uploadQuota, "upload-quota", httpd.DefaultUploadQuota, "bytes of uploaded images one user may hold; images their profile no longer shows are freed a day after upload")
	fs.IntVar(&f.maxConnsPerIP, "max-conns-per-ip", httpd.DefaultMaxConnsPerIP, "concurrent HTTP connections one client address may hold (0: no cap); behind a proxy or CDN, visitors share its addresses, so raise it there")
	fs.BoolVar(&f.feeds.AllowPrivate, "feed-allow-private", false, "let threat feeds be fetched from loopback, private and link-local addresses (refused by default)")
	fs.Int64Var(&f.feeds.MaxBytes, "feed-max-bytes", feeds.DefaultMaxBytes, "largest threat-feed body; a longer one fails the fetch (the last good list stays)")
	fs.IntVar(&f.feeds.MaxEntries, "feed-max-entries", feeds.DefaultMaxEntries, "most distinct entries of one threat feed; more fail the fetch (the last good list stays)")
	fs.DurationVar(&f.feeds.Timeout, "feed-timeout", feeds.DefaultTimeout, "bound on one threat-feed fetch, from dialling to the end of the body")
	fs.DurationVar(&f.feedMinInterval, "feed-min-interval", httpd.DefaultFeedMinInterval, "shortest fetch interval an admin may give a threat feed")
	fs.UintVar(&f.userDailyLinks, "user-daily-links", 0, "most links one user (not an admin) may create per UTC day, counted across the cluster; bulk creates and imports count each item (0: no limit; upgrade every node before setting it)")
	fs.DurationVar(&f.reviewNewUsers, "review-new-users", 0, "hold the links of accounts younger than this for an admin's review: they answer a \"pending review\" page until approved (0: off; upgrade every node before setting it)")
	f.limits = httpd.DefaultLimits()
	for _, l := range []struct {
		name, help string
		lim        *ratelimit.Limit
	}{
		{"rate-writes-per-key", "API writes per API key (console: per user); admin keys are not limited", &f.limits.WritesPerKey},
		{"rate-writes-per-ip", "API and console writes per client address", &f.limits.WritesPerIP},
		{"rate-logins-per-ip", "console logins and sign-ups per client address", &f.limits.LoginsPerIP},
		{"rate-logins-per-email", "console logins at one account email from one client address", &f.limits.LoginsPerEmail},
		{"rate-login-failures-per-email", "failed logins at one email from all addresses before each further failure is answered a second late", &f.limits.LoginFailuresPerEmail},
		{"rate-redirects-per-ip", "redirects per client address (in memory, per node)", &f.limits.RedirectsPerIP},
	} {
		fs.Var(limitFlag{l.lim}, l.name, l.help+`: RATE/UNIT[:BURST] such as 20/s:100 or 10/m, or "off"`)
	}
	f.tls.register(fs)
	fs.StringVar(&f.purge, "purge", "", "CDNs to purge on every change to what a URL answers, sent by the leader: comma-separated varnish=http://host:port (HTTP PURGE), ban=http://host:port (HTTP BAN), cloudflare=ZONE_ID (token in "+outbox.EnvCloudflareToken+"), fastly=SERVICE_ID (token in "+outbox.EnvFastlyToken+"); give every node the same list")
	fs.DurationVar(&f.purgeRepeat, "purge-repeat", outbox.DefaultPurgeRepeat, "purge every batch a second time this long after the first, for a follower that answered the CDN before it applied the change (0: never)")
	fs.BoolVar(&f.webhooksAllowPrivate, "webhooks-allow-private", false, "let webhook endpoints be loopback, private or link-local addresses (tests, private networks); without it they are refused at registration and at every connection")
	fs.DurationVar(&f.webhooksWindow, "webhooks-retry-window", outbox.DefaultWindow, "how long a failing webhook delivery is retried (exponential backoff) before its endpoint is disabled")
	fs.DurationVar(&f.webhooksBackoff, "webhooks-backoff", outbox.DefaultBackoff, "the first webhook retry delay, doubled per attempt up to an hour")
	fs.BoolVar(&f.groupCommit, "group-commit", true, "let concurrent writes share one raft entry, once every member of the cluster runs a release that can apply one (asked of each member; until then writes go one per entry)")
	fs.DurationVar(&f.drain, "drain", DefaultDrain, "on SIGTERM/SIGINT, report not ready (/_/readyz 503) and keep serving this long before stopping, so a health-checking load balancer moves traffic away first (a second signal skips the rest)")
	fs.StringVar(&f.cpuProfile, "cpu-profile", "", "write a CPU profile (pprof format) of this run to this file, until the node stops: for diagnosing where a workload spends CPU")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "text", "text or json")
}

func (f *serveFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", f.logFormat)
}

// publicBase returns --public-url or a default derived from the HTTP port.
func (f *serveFlags) publicBase(ln net.Listener) string {
	if f.publicURL != "" {
		return f.publicURL
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return "http://localhost:" + port
}

func serve(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("linkd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		usage(stderr)
		fmt.Fprint(stderr, "\nFlags of linkd serve (each also LINKD_<NAME>, e.g. --data-dir is LINKD_DATA_DIR):\n")
		fs.PrintDefaults()
	}
	var f serveFlags
	f.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(pos, " "))
	}
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	applyMemoryLimit(f.memoryLimitMiB, f.hotSetBytes, log)
	applyGCPercent()
	applyMinProcs(log)
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		defer stop()
	}
	reg, err := httpd.ParseRegistration(f.registration)
	if err != nil {
		return fmt.Errorf("--registration: %w", err)
	}
	trusted, err := clientaddr.Parse(f.trustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	if trusted, err = trusted.WithHeader(f.clientIPHeader); err != nil {
		return fmt.Errorf("--client-ip-header: %w", err)
	}
	if f.analyticsLag < 100*time.Millisecond {
		return errors.New("--analytics-lag must be at least 100ms")
	}
	purgers, err := outbox.ParsePurge(f.purge, os.Getenv)
	if err != nil {
		return fmt.Errorf("--purge: %w", err)
	}
	join := textlist.Split(f.join)
	if f.bootstrapExpect > 0 && len(join) == 0 {
		return errors.New("--bootstrap-expect needs --join with the addresses of the nodes to bootstrap with")
	}
	auth, err := f.peer.auth(len(join) > 0 || f.bootstrapExpect > 1, f.nodeID)
	if err != nil {
		return err
	}
	if auth.Insecure() {
		log.Warn("raft port peer authentication is OFF (--insecure-cluster)", "mode", auth.String())
	} else {
		log.Info("raft port peer authentication", "mode", auth.String())
	}
	ln, err := net.Listen("tcp", f.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.httpAddr, err)
	}
	defer ln.Close()
	public := f.publicBase(ln)
	var httpsLn net.Listener
	if f.tls.httpsAddr != "" {
		if httpsLn, err = net.Listen("tcp", f.tls.httpsAddr); err != nil {
			return fmt.Errorf("listen on %s: %w", f.tls.httpsAddr, err)
		}
		defer httpsLn.Close()
	}
	tlsCfg, err := f.tls.config(ln.Addr().String(), addrOf(httpsLn), f.publicURL, f.profileHost)
	if err != nil {
		return err
	}
	mux, err := cluster.Listen(f.raftAddr, f.raftAdvertise, auth, log)
	if err != nil {
		return err
	}
	defer mux.Close()
	cfg := wire.Config{
		Node: node.Config{
			NodeID: f.nodeID, DataDir: f.dataDir, RaftAdvertise: mux.Addr().String(), Stream: mux.RaftLayer(),
			Bootstrap: len(join) == 0, AdminToken: f.adminToken, OnInit: announceToken(stderr, public),
			HeartbeatTimeout: f.heartbeat, ElectionTimeout: f.heartbeat,
			SnapshotThreshold: f.snapshotThreshold, SnapshotInterval: f.snapshotInterval, TrailingLogs: f.trailingLogs,
			RaftLogBytes: int64(f.raftLogMiB) << 20, HotSetBytes: f.hotSetBytes, GroupCommit: f.groupCommit,
		},
		Mux: mux,
		Cluster: cluster.Config{
			HTTPAdvertise: advertise(f.httpAdvertise, ln), Join: join, BootstrapExpect: f.bootstrapExpect,
			NonVoter: f.nonVoter, MaxStaleness: f.maxStaleness,
		},
		Proxies: trusted,
		HTTP: httpd.Config{
			PublicURL: public, RedirectMaxAge: f.redirectMaxAge, Limits: f.limits, MaxConnsPerIP: f.maxConnsPerIP, UploadQuota: f.uploadQuota,
			Registration: reg, SecureCookies: f.secureCookies, ProfileHost: f.profileHost,
			AbuseContact: f.abuseContact, Shorteners: shortenerList(f.refuseShorteners), FeedMinInterval: f.feedMinInterval,
			UserDailyLinks: uint32(min(f.userDailyLinks, math.MaxUint32)), ReviewNewUsers: f.reviewNewUsers,
		},
		TLS: tlsCfg,
		Outbox: wire.Outbox{Purgers: purgers, Webhooks: webhook.Policy{AllowPrivate: f.webhooksAllowPrivate},
			Window: f.webhooksWindow, Backoff: f.webhooksBackoff, PurgeRepeat: f.purgeRepeat},
		Feeds:         f.feeds,
		ShutdownGrace: shutdownGrace,
		Drain:         f.drain,
		Logger:        log,
	}
	if f.analytics {
		cfg.Analytics = &wire.Analytics{Lag: f.analyticsLag, HonorDNT: f.honorDNT, DayRecords: f.dayRecords,
			Retention: store.Retention{Minutes: f.keepMinutes, Hours: f.keepHours}}
	}
	if f.publicURL == "" {
		log.Warn("--public-url (LINKD_PUBLIC_URL) is not set: short links and this banner say "+public+
			", guessed from the listen port; set it to the address visitors use (behind docker -p 8090:8080 that is http://localhost:8090)",
			"guessed", public)
	}
	w, err := wire.Start(cfg)
	if err != nil {
		return err
	}
	// A node with state from an earlier run: the first banner is gone.
	if done, err := w.Node.Store().Initialized(); err == nil && done {
		announceRestart(stderr, public)
	}
	if members := len(w.Node.Status().Members); members > 1 && f.peer.none() {
		log.Error("this node belongs to a cluster of several nodes but has no --cluster-secret (or --cluster-ca...): its peers will refuse it", "members", members)
	}
	return runUntilSignal(log, w, ln, httpsLn)
}

// addrOf is a listener's address, "" for none.
func addrOf(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// runUntilSignal serves until SIGINT/SIGTERM, drains (not ready, still
// serving, for --drain; a second signal cuts it short), then stops the node
// the one way nodes stop (wire.Node.Close).
func runUntilSignal(log *slog.Logger, w *wire.Node, ln, httpsLn net.Listener) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	errc := make(chan error, 2)
	go func() { errc <- w.Serve(ln) }()
	log.Info("serving HTTP", "addr", ln.Addr().String())
	if httpsLn != nil {
		go func() { errc <- w.ServeTLS(httpsLn) }()
		stop := make(chan struct{})
		defer close(stop)
		reloadOnHUP(log, w, stop)
		log.Info("serving HTTPS", "addr", httpsLn.Addr().String())
	}
	var serveErr error
	select {
	case <-sigs:
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-sigs:
				log.Info("second signal: stopping without waiting out the drain")
				cancel()
			case <-ctx.Done():
			}
		}()
		w.Drain(ctx)
		cancel()
		log.Info("shutting down")
	case serveErr = <-errc:
	}
	err := w.Close()
	log.Info("stopped", "err", err)
	return errors.Join(serveErr, err)
}

// advertise returns the HTTP address to advertise.
func advertise(flagValue string, ln net.Listener) string {
	if flagValue != "" {
		return flagValue
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}

// announceToken prints the generated admin token once, with a first command
// to try. The command is meant to be pasted into a shell: the header is in
// double quotes, so $LINKD_ADMIN_TOKEN (when the token came from the
// environment) expands.
func announceToken(w io.Writer, public string) func(node.InitSecrets) {
	return func(sec node.InitSecrets) {
		token := sec.AdminToken
		if !sec.Generated {
			token = "$LINKD_ADMIN_TOKEN" // given in the configuration: never logged
		}
		fmt.Fprintf(w, `
================================================================================
 linkd: new cluster initialised. Shown only this once:

 Admin API token:  %s
 Admin console:    open %s/app/signup?invite=%s
                   and choose the admin's email and password.

 Try the API:
   curl -s -H "Authorization: Bearer %s" -H 'Content-Type: application/json' \
        -d '{"url":"https://example.com"}' %s/api/v1/links

 Lost the console link? An admin token makes a new one at any time:
%s
================================================================================

`, token, public, sec.AdminInvite, token, public, inviteHint(token, public))
	}
}

// inviteHint is the command that makes a new one-time console sign-up
// link (the answer's "url"), for the banner and the restart notice.
func inviteHint(token, public string) string {
	return fmt.Sprintf(`   curl -s -X POST -H "Authorization: Bearer %s" -H 'Content-Type: application/json' \
        -d '{"role":"admin"}' %s/api/v1/invites`, token, public)
}

// announceRestart tells an operator of an existing cluster where to log in
// and how to get a login: the first invite link was shown only once.
func announceRestart(w io.Writer, public string) {
	fmt.Fprintf(w, `
 linkd: console at %s/app/  (API: %s/api/v1)
 No login yet, or need another? An admin API token makes a one-time sign-up link:
%s

`, public, public, inviteHint("$LINKD_ADMIN_TOKEN", public))
}
