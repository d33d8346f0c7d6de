package ops

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/destination"
	"github.com/linkd/linkd/httpd/password"
	"github.com/linkd/linkd/httpd/validate"
	"github.com/linkd/linkd/internal/patch"
	"github.com/linkd/linkd/store"
)

// LinkOptions are the options a create or a patch sets; nil fields are
// left as they are (on create: the defaults). Password is write-only: it
// is hashed (argon2id) here, before proposing, and never shown again; ""
// removes it. StartsAt "" removes the schedule, MaxVisits 0 the limit,
// FallbackURL "" the fallback, an empty Rules or Variants list those.
type LinkOptions struct {
	Password        *string                `json:"password,omitempty"`
	StartsAt        *string                `json:"startsAt,omitempty"`
	FallbackURL     *string                `json:"fallbackUrl,omitempty"`
	MaxVisits       *uint64                `json:"maxVisits,omitempty"`
	ForwardQuery    *bool                  `json:"forwardQuery,omitempty"`
	ForwardPath     *bool                  `json:"forwardPath,omitempty"`
	QueryPrecedence *string                `json:"queryPrecedence,omitempty"`
	Rules           *[]destination.Rule    `json:"rules,omitempty"`
	Variants        *[]destination.Variant `json:"variants,omitempty"`
}

// Link password length: short passwords are fine for a link (they guard a
// redirect, not an account, and guesses are budgeted), but not empty.
const (
	MinLinkPassword = 4
	maxLinkPassword = password.MaxLength
)

// Query precedence names.
const (
	PrecedenceDestination = "destination"
	PrecedenceVisitor     = "visitor"
)

// LinkOptionsView is how a link's options are shown. The password never
// is: only whether there is one.
type LinkOptionsView struct {
	PasswordProtected bool                  `json:"passwordProtected"`
	StartsAt          *string               `json:"startsAt"`
	FallbackURL       string                `json:"fallbackUrl"`
	MaxVisits         uint64                `json:"maxVisits"`
	Exhausted         bool                  `json:"exhausted"`
	Visits            uint64                `json:"visits"` // human clicks counted toward maxVisits
	ForwardQuery      bool                  `json:"forwardQuery"`
	ForwardPath       bool                  `json:"forwardPath"`
	QueryPrecedence   string                `json:"queryPrecedence"`
	Rules             []destination.Rule    `json:"rules"`
	Variants          []destination.Variant `json:"variants"`
}

// OptionsView shows o.
func OptionsView(o *store.LinkOptions) LinkOptionsView {
	v := LinkOptionsView{PasswordProtected: o.PasswordHash != "", StartsAt: optTime(o.StartsAt),
		FallbackURL: o.FallbackURL, MaxVisits: o.MaxVisits, Exhausted: o.Exhausted, ForwardQuery: !o.DropQuery,
		ForwardPath: o.ForwardPath, QueryPrecedence: PrecedenceDestination,
		Rules: []destination.Rule{}, Variants: []destination.Variant{}}
	if o.QueryPrecedence == store.QueryVisitorWins {
		v.QueryPrecedence = PrecedenceVisitor
	}
	if d, err := destination.Decompile(o.Program); err == nil {
		v.Rules = append(v.Rules, d.Rules...)
		v.Variants = append(v.Variants, d.Variants...)
	}
	return v
}

// optionChange is a validated LinkOptions: the fsm fields to set, nil
// for those left alone.
type optionChange struct {
	program         *[]byte
	passwordHash    *string
	startsAt        *int64
	fallbackURL     *string
	maxVisits       *uint64
	dropQuery       *bool
	forwardPath     *bool
	queryPrecedence *uint8
}

// linkOptions validates in against the link's current options (nil for a
// create), adding what is wrong to errs. Rules and variants are compiled
// together: a patch of one keeps the other.
func (o *Ops) linkOptions(in LinkOptions, cur *store.LinkOptions, now time.Time, errs *Fields) optionChange {
	var ch optionChange
	if in.Password != nil {
		pw := *in.Password
		switch n := utf8.RuneCountInString(pw); {
		case pw == "" && cur != nil:
		case !utf8.ValidString(pw) || n < MinLinkPassword || len(pw) > maxLinkPassword:
			errs.Add("password", fmt.Errorf("must be %d to %d characters", MinLinkPassword, maxLinkPassword))
		default:
			pw = password.Hash(pw)
		}
		ch.passwordHash = &pw
	}
	if in.StartsAt != nil {
		var ms int64
		if *in.StartsAt != "" {
			t, err := time.Parse(time.RFC3339, *in.StartsAt)
			errs.Add("startsAt", errIf(err != nil, "must be an RFC 3339 timestamp like 2030-01-02T15:04:05Z"))
			ms = t.UnixMilli()
		}
		ch.startsAt = &ms
	}
	if in.FallbackURL != nil {
		u := ""
		if *in.FallbackURL != "" {
			var err error
			u, err = validate.URL(*in.FallbackURL, o.selfHosts)
			errs.Add("fallbackUrl", err)
		}
		ch.fallbackURL = &u
	}
	ch.maxVisits = in.MaxVisits
	if in.ForwardQuery != nil {
		drop := !*in.ForwardQuery
		ch.dropQuery = &drop
	}
	ch.forwardPath = in.ForwardPath
	if in.QueryPrecedence != nil {
		var p uint8
		switch *in.QueryPrecedence {
		case PrecedenceDestination:
		case PrecedenceVisitor:
			p = store.QueryVisitorWins
		default:
			errs.Add("queryPrecedence", fmt.Errorf("must be %q or %q", PrecedenceDestination, PrecedenceVisitor))
		}
		ch.queryPrecedence = &p
	}
	if in.Rules != nil || in.Variants != nil {
		var opts destination.Options
		if cur != nil {
			opts, _ = destination.Decompile(cur.Program)
		}
		if in.Rules != nil {
			opts.Rules = *in.Rules
		}
		if in.Variants != nil {
			opts.Variants = *in.Variants
		}
		norm, ferrs := destination.Normalize(opts, func(u string) (string, error) { return validate.URL(u, o.selfHosts) })
		for _, fe := range ferrs {
			*errs = append(*errs, FieldError{Field: fe.Field, Message: fe.Message})
		}
		ch.program = compiled(norm)
	}
	return ch
}

// compiled is the program of o for a command: never a nil slice, which
// msgpack would write as nil and so not clear the options.
func compiled(o destination.Options) *[]byte {
	p := append([]byte{}, destination.Compile(o)...)
	return &p
}

func errIf(bad bool, msg string) error {
	if bad {
		return errors.New(msg)
	}
	return nil
}

// applyCreate sets the options of a create.
func (ch optionChange) applyCreate(c *fsm.CreateLink) {
	patch.Set(&c.Program, ch.program)
	patch.Set(&c.PasswordHash, ch.passwordHash)
	patch.Set(&c.StartsAt, ch.startsAt)
	patch.Set(&c.FallbackURL, ch.fallbackURL)
	patch.Set(&c.MaxVisits, ch.maxVisits)
	patch.Set(&c.DropQuery, ch.dropQuery)
	patch.Set(&c.ForwardPath, ch.forwardPath)
	patch.Set(&c.QueryPrecedence, ch.queryPrecedence)
}

// applyUpdate sets the options of an update.
func (ch optionChange) applyUpdate(c *fsm.UpdateLink) {
	c.Program, c.PasswordHash, c.StartsAt, c.FallbackURL = ch.program, ch.passwordHash, ch.startsAt, ch.fallbackURL
	c.MaxVisits, c.DropQuery, c.ForwardPath, c.QueryPrecedence = ch.maxVisits, ch.dropQuery, ch.forwardPath, ch.queryPrecedence
}

// PromoteVariant makes variant i (0-based) of an A/B split the link's
// destination and ends the split, keeping the rules.
func (o *Ops) PromoteVariant(p Principal, code string, i int) (*store.Link, error) {
	l, err := o.VisibleLink(p, code)
	if err != nil {
		return nil, err
	}
	opts, err := destination.Decompile(l.Program)
	if err != nil || i < 0 || i >= len(opts.Variants) {
		return nil, Fail(KindValidation, "The link was not changed.",
			FieldError{Field: "variant", Message: fmt.Sprintf("no variant %d: the link has %d", i, len(opts.Variants))})
	}
	u := opts.Variants[i].URL
	opts.Variants = nil
	res, err := o.propose(&fsm.UpdateLink{Now: time.Now().UnixMilli(), Code: code, Actor: p.Owner(), Admin: p.IsAdmin(),
		URL: &u, Program: compiled(opts)})
	if err != nil {
		return nil, err
	}
	return res.Link, nil
}

// VariantCount is one A/B variant's clicks in an analytics report
// ("variant B: 52% of clicks"). Clicks chosen by a rule, or made before
// the split, belong to no variant.
type VariantCount struct {
	Index   int     `json:"index"`
	Label   string  `json:"label"`
	Clicks  uint64  `json:"clicks"`
	Percent float64 `json:"percent"` // of the clicks that went to a variant
}

// variantCounts turns the variant dimension ("0", "1", ...) into counts,
// in variant order.
func variantCounts(kc []store.KeyCount) []VariantCount {
	out := []VariantCount{}
	var total uint64
	for _, k := range kc {
		i, err := strconv.Atoi(k.Key)
		if err != nil || i < 0 || i >= destination.MaxVariants {
			continue
		}
		out = append(out, VariantCount{Index: i, Label: string(rune('A' + i)), Clicks: k.Count})
		total += k.Count
	}
	slices.SortFunc(out, func(a, b VariantCount) int { return a.Index - b.Index })
	for i := range out {
		out[i].Percent = math.Round(float64(out[i].Clicks)*1000/float64(total)) / 10
	}
	return out
}
