package ops

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/linkd/linkd/cluster"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/outbox/webhook"
	"github.com/linkd/linkd/store"
)

// applyTimeout bounds how long a write waits for its commit.
const applyTimeout = 10 * time.Second

// Cluster is what the HTTP side needs from the cluster: commit commands,
// and know the cluster's state.
type Cluster interface {
	Propose(ctx context.Context, c fsm.Command) (*fsm.Result, error)
	// ReadIndex waits until local reads are linearizable.
	ReadIndex(ctx context.Context) error
	Status() cluster.Status
	FullStatus(ctx context.Context) cluster.Status
	Remove(ctx context.Context, id string) error
	Ready() error
	// Understands reports whether every member can apply command type t
	// at version v (the version gate): a newer version is proposed only
	// then, as an older member would halt on it.
	Understands(t fsm.Type, v uint8) bool
}

// Minter mints fresh codes.
type Minter interface {
	Code(ctx context.Context) (string, error)
}

// Registration is how people get accounts on this instance.
type Registration string

// Registration modes.
const (
	RegistrationOpen   Registration = "open"   // anyone may sign up
	RegistrationInvite Registration = "invite" // only with an admin's invite link
	RegistrationClosed Registration = "closed" // only admins create accounts
)

// ParseRegistration checks a mode name.
func ParseRegistration(s string) (Registration, error) {
	switch r := Registration(s); r {
	case RegistrationOpen, RegistrationInvite, RegistrationClosed:
		return r, nil
	}
	return "", fmt.Errorf("registration mode %q: want open, invite or closed", s)
}

// Config configures Ops.
type Config struct {
	Store   *store.Store
	Cluster Cluster
	Minter  Minter
	// PublicURL is the base of every short URL, e.g. https://sho.rt.
	PublicURL    string
	Registration Registration // default RegistrationInvite
	// AbuseContact is the reporting policy (a URL or an email address)
	// that the 451 page links to; empty for none.
	AbuseContact string
	// Shorteners are the other link shorteners a destination may not be;
	// nil means DefaultShorteners, an empty slice none.
	Shorteners []string
	// UploadQuota is the most bytes of stored images one user may hold
	// (0: DefaultUploadQuota). Apply decides it; it travels in the command.
	UploadQuota int64
	// Webhooks is where webhook endpoints may point
	// (--webhooks-allow-private).
	Webhooks webhook.Policy
	// UserDailyLinks is the most links a user (not an admin) may create
	// per UTC day, counted in replicated state (0: no limit).
	UserDailyLinks uint32
	// ReviewNewUsers, when positive, holds the links of users whose
	// account is younger than it for an admin's review (admins exempt).
	ReviewNewUsers time.Duration
	// FeedMinInterval is the shortest fetch interval of a threat feed
	// (0: DefaultFeedMinInterval).
	FeedMinInterval time.Duration
	// Clicks folds CDN log batches into click commands (analytics on);
	// nil answers ingests 503.
	Clicks ClickFolder
	Logger *slog.Logger
}

// DefaultUploadQuota is the per-user image quota: a profile of 50 links
// with a thumbnail each, an avatar and a background, with room to spare.
const DefaultUploadQuota = 64 << 20

// Ops carries out the domain operations. It is safe for concurrent use.
type Ops struct {
	st        *store.Store
	tokens    tokenCache // API tokens resolved at an AccountsGen (tokencache.go)
	cl        Cluster
	minter    Minter
	public    string   // PublicURL without a trailing slash
	selfHosts []string // hosts that would make a destination a redirect loop
	reg       Registration
	quota     int64 // bytes of images per user
	log       *slog.Logger
	abuse     string
	// defaultHost is --public-url's host (lower case, no port).
	defaultHost string
	// shorteners are the hosts (and their subdomains) refused as destinations.
	shorteners map[string]bool
	hooks      webhook.Policy
	feedMin    time.Duration
	dailyLinks uint32
	review     time.Duration
	folder     ClickFolder
}

// New returns Ops for cfg.
func New(cfg Config) (*Ops, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	pu, err := url.Parse(cfg.PublicURL)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return nil, fmt.Errorf("httpd: public URL %q must be an absolute http(s) URL", cfg.PublicURL)
	}
	if cfg.Registration == "" {
		cfg.Registration = RegistrationInvite
	}
	if cfg.UploadQuota <= 0 {
		cfg.UploadQuota = DefaultUploadQuota
	}
	if cfg.FeedMinInterval <= 0 {
		cfg.FeedMinInterval = DefaultFeedMinInterval
	}
	return &Ops{defaultHost: strings.ToLower(pu.Hostname()), st: cfg.Store, cl: cfg.Cluster, minter: cfg.Minter, public: strings.TrimRight(cfg.PublicURL, "/"),
		selfHosts: []string{pu.Host}, reg: cfg.Registration, quota: cfg.UploadQuota, log: cfg.Logger, abuse: cfg.AbuseContact,
		shorteners: shortenerSet(cfg.Shorteners), hooks: cfg.Webhooks, feedMin: cfg.FeedMinInterval,
		dailyLinks: cfg.UserDailyLinks, review: cfg.ReviewNewUsers, folder: cfg.Clicks}, nil
}

// Store is the node's store, for the front ends' reads.
func (o *Ops) Store() *store.Store { return o.st }

// Cluster is the cluster, for status pages.
func (o *Ops) Cluster() Cluster { return o.cl }

// Public is the public URL without a trailing slash.
func (o *Ops) Public() string { return o.public }

// Registration is who may sign up.
func (o *Ops) Registration() Registration { return o.reg }

// Classify maps err to an *Error (see the package function), logging
// unknown errors with this Ops' logger.
func (o *Ops) Classify(err error) *Error { return Classify(o.log, err) }

// WriteCtx is the context of one write: applyTimeout from now. fasthttp's
// RequestCtx is never used as a context: it is only valid inside the
// handler and its Done races with server shutdown.
func WriteCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), applyTimeout)
}

// propose commits c with the write timeout; a domain refusal in the result
// is returned as the error.
func (o *Ops) propose(c fsm.Command) (*fsm.Result, error) {
	wctx, cancel := WriteCtx()
	defer cancel()
	res, err := o.cl.Propose(wctx, c)
	if err == nil && res.Err != nil {
		err = res.Err
	}
	return res, err
}

// proposeValid proposes c unless building it failed: it takes a command
// constructor's results directly.
func (o *Ops) proposeValid(c fsm.Command, err error) (*fsm.Result, error) {
	if err != nil {
		return nil, err
	}
	return o.propose(c)
}

func (o *Ops) mint() (string, error) {
	wctx, cancel := WriteCtx()
	defer cancel()
	return o.minter.Code(wctx)
}

// Consistent waits until local reads are linearizable (for
// ?consistency=linearizable).
func (o *Ops) Consistent() error {
	rctx, cancel := WriteCtx()
	defer cancel()
	if err := o.cl.ReadIndex(rctx); err != nil {
		o.log.Debug("linearizable read refused", "err", err)
		return Fail(KindUnavailable, "A linearizable read needs a reachable leader, and none answered in time; retry shortly or read with consistency=local.")
	}
	return nil
}

// FullStatus asks every member for its progress, for a second at most.
func (o *Ops) FullStatus() cluster.Status {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return o.cl.FullStatus(ctx)
}

// RemoveMember removes a server from the cluster (admins).
func (o *Ops) RemoveMember(id string) error {
	wctx, cancel := WriteCtx()
	defer cancel()
	return o.cl.Remove(wctx, id)
}

// MsTime formats a store time (Unix ms) as the API shows times.
func MsTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

func optTime(ms int64) *string {
	if ms == 0 {
		return nil
	}
	t := MsTime(ms)
	return &t
}

// Backup opens a consistent view for a backup: after a linearizable read
// index, so it holds every write acknowledged before the call; the caller
// streams it (store.Snapshot.WriteBackup) and closes it.
func (o *Ops) Backup() (*store.Snapshot, error) {
	if err := o.Consistent(); err != nil {
		return nil, err
	}
	return o.st.Snapshot(), nil
}

// bodyHash is what an idempotency record keeps of a request body, to tell a
// retry from another request under the same key: an HMAC keyed by the
// cluster's secret permutation key, because a body may carry a link's
// password and the record is replicated state (a plain SHA-256 of a short
// password is a dictionary lookup away from the password). Every node
// holds the same key, so a retry through another node hashes the same.
func (o *Ops) bodyHash(body []byte) []byte {
	key, err := o.st.PermKey()
	if err != nil {
		// Not initialised yet: the write is refused anyway.
		h := sha256.Sum256(body)
		return h[:]
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("linkd idempotency body v1\x00"))
	m.Write(body)
	return m.Sum(nil)
}
