package fsm

import (
	"errors"

	"github.com/linkd/linkd/internal/patch"
	"github.com/linkd/linkd/store"
)

// Domain commands (issue 16). Types 80–84 belong to this file.
const (
	TypeCreateDomain Type = 80
	TypeUpdateDomain Type = 81
	TypeDeleteDomain Type = 82
)

// Domain errors.
var (
	// ErrDomainExists means a domain with that host is configured already.
	ErrDomainExists = errors.New("domain already configured")
	// ErrDomainNotFound means no domain with that host is configured.
	ErrDomainNotFound = errors.New("domain not configured")
	// ErrDomainLimit means the cluster holds the most domains it may.
	ErrDomainLimit = errors.New("too many domains")
	// ErrDomainForbidden means the user may not create links on the
	// domain: it is delegated to someone else, or to nobody (admins only).
	ErrDomainForbidden = errors.New("domain not delegated to this user")
	// ErrDomainKind means the domain serves only profiles, not links.
	ErrDomainKind = errors.New("domain does not serve links")
)

// CreateDomain configures a domain. Host is normalised by the proposer;
// Max is the cluster's domain limit, chosen by the proposer and checked
// here, so racing creates never exceed it.
type CreateDomain struct {
	Header
	Now           int64  `codec:"now"`
	Actor         uint64 `codec:"actor"`
	Host          string `codec:"host"`
	Kind          uint8  `codec:"kind"`
	RootURL       string `codec:"root,omitempty"`
	NotFoundURL   string `codec:"nf,omitempty"`
	Delegate      uint64 `codec:"dlg,omitempty"`
	HTTPSRedirect bool   `codec:"https,omitempty"`
	HSTS          bool   `codec:"hsts,omitempty"`
	Max           int    `codec:"max"`
}

// UpdateDomain changes the fields that are set. Delegate 0 takes the
// delegation back (admins only). Version 2 (same fields) also queues a
// purge of every URL on the host when what the host answers changed (kind,
// root or not-found URL, HTTPS redirect, HSTS; not the delegation, which
// only decides who may create links). Version 1 queues nothing: a node
// that applies only version 1 would write a different purge queue, so the
// proposer writes version 2 once every member understands it.
type UpdateDomain struct {
	Header
	Now           int64   `codec:"now"`
	Host          string  `codec:"host"`
	Kind          *uint8  `codec:"kind,omitempty"`
	RootURL       *string `codec:"root,omitempty"`
	NotFoundURL   *string `codec:"nf,omitempty"`
	Delegate      *uint64 `codec:"dlg,omitempty"`
	HTTPSRedirect *bool   `codec:"https,omitempty"`
	HSTS          *bool   `codec:"hsts,omitempty"`
}

// DeleteDomain removes a domain. Its links stay in the store, unreachable
// (the host answers 404) until the domain is added again. Version 2 (same
// fields) also queues a purge of every URL on the host; version 1 does not
// (see UpdateDomain).
type DeleteDomain struct {
	Header
	Now  int64  `codec:"now"`
	Host string `codec:"host"`
}

func (*CreateDomain) Type() Type { return TypeCreateDomain }
func (*UpdateDomain) Type() Type { return TypeUpdateDomain }
func (*DeleteDomain) Type() Type { return TypeDeleteDomain }

func newDomainCommand(t Type) Command {
	switch t {
	case TypeCreateDomain:
		return &CreateDomain{}
	case TypeUpdateDomain:
		return &UpdateDomain{}
	case TypeDeleteDomain:
		return &DeleteDomain{}
	}
	return nil
}

// applyDomain applies the domain commands; ok is false for others.
func applyDomain(txn *store.Txn, c Command) (r *Result, ok bool, err error) {
	switch c := c.(type) {
	case *CreateDomain:
		r, err = applyCreateDomain(txn, c)
	case *UpdateDomain:
		r, err = applyUpdateDomain(txn, c)
	case *DeleteDomain:
		r, err = applyDeleteDomain(txn, c)
	default:
		return nil, false, nil
	}
	return r, true, err
}

func applyCreateDomain(txn *store.Txn, c *CreateDomain) (*Result, error) {
	if _, err := txn.Domain(c.Host); err == nil {
		return &Result{Err: ErrDomainExists}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	n, err := txn.CountDomains()
	if err != nil || n >= c.Max {
		return &Result{Err: ErrDomainLimit}, err
	}
	if r, err := checkDelegate(txn, c.Delegate); r != nil || err != nil {
		return r, err
	}
	d := &store.Domain{Host: c.Host, Kind: store.DomainKind(c.Kind), RootURL: c.RootURL, NotFoundURL: c.NotFoundURL,
		Delegate: c.Delegate, HTTPSRedirect: c.HTTPSRedirect, HSTS: c.HSTS, CreatedBy: c.Actor,
		CreatedAt: c.Now, UpdatedAt: c.Now}
	txn.PutDomain(d)
	return &Result{Domain: d}, nil
}

// checkDelegate refuses a delegation to a user that does not exist.
func checkDelegate(txn *store.Txn, id uint64) (*Result, error) {
	if id == 0 {
		return nil, nil
	}
	if _, err := txn.User(id); errors.Is(err, store.ErrNotFound) {
		return &Result{Err: ErrUserNotFound}, nil
	} else if err != nil {
		return nil, err
	}
	return nil, nil
}

func applyUpdateDomain(txn *store.Txn, c *UpdateDomain) (*Result, error) {
	d, err := txn.Domain(c.Host)
	if errors.Is(err, store.ErrNotFound) {
		return &Result{Err: ErrDomainNotFound}, nil
	} else if err != nil {
		return nil, err
	}
	if c.Delegate != nil {
		if r, err := checkDelegate(txn, *c.Delegate); r != nil || err != nil {
			return r, err
		}
		d.Delegate = *c.Delegate
	}
	before := *d
	if c.Kind != nil {
		d.Kind = store.DomainKind(*c.Kind)
	}
	patch.Set(&d.RootURL, c.RootURL)
	patch.Set(&d.NotFoundURL, c.NotFoundURL)
	patch.Set(&d.HTTPSRedirect, c.HTTPSRedirect)
	patch.Set(&d.HSTS, c.HSTS)
	d.UpdatedAt = c.Now
	txn.PutDomain(d)
	if c.V >= 2 && answersDiffer(&before, d) {
		notePurgeHost(txn, c.Host, c.Now)
	}
	return &Result{Domain: d}, nil
}

// answersDiffer reports whether a domain change changes what its host
// answers (the delegation does not).
func answersDiffer(a, b *store.Domain) bool {
	return a.Kind != b.Kind || a.RootURL != b.RootURL || a.NotFoundURL != b.NotFoundURL ||
		a.HTTPSRedirect != b.HTTPSRedirect || a.HSTS != b.HSTS
}

// notePurgeHost queues a purge of every URL on host (emit writes it to the
// purge queue in this entry).
func notePurgeHost(txn *store.Txn, host string, now int64) {
	txn.NoteChange(store.Change{Kind: store.ChangeDomain, At: now, Host: host})
}

func applyDeleteDomain(txn *store.Txn, c *DeleteDomain) (*Result, error) {
	if _, err := txn.Domain(c.Host); errors.Is(err, store.ErrNotFound) {
		return &Result{}, nil // deleting twice is deleting once
	} else if err != nil {
		return nil, err
	}
	txn.DeleteDomain(c.Host)
	if c.V >= 2 {
		notePurgeHost(txn, c.Host, c.Now)
	}
	return &Result{}, nil
}

// linkDomain decides whether a create may put a link on c.Domain: the
// domain must be configured, serve links, and be delegated to the owner
// (admins may use every domain). It returns the link's store key.
func linkDomain(txn *store.Txn, c *CreateLink) (string, *Result, error) {
	if c.Domain == "" {
		return c.Code, nil, nil
	}
	d, err := txn.Domain(c.Domain)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", &Result{Err: ErrDomainNotFound}, nil
	case err != nil:
		return "", nil, err
	case !d.Kind.Links():
		return "", &Result{Err: ErrDomainKind}, nil
	case !c.Admin && d.Delegate != c.Owner:
		return "", &Result{Err: ErrDomainForbidden}, nil
	}
	return store.DomainCode(c.Domain, c.Code), nil, nil
}
