package ops

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/outbox/webhook"
	"github.com/linkd/linkd/store"
)

// Webhook is an endpoint as the API and the console show it. Secret is
// set only in the answer that created the endpoint.
type Webhook struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Events         []string `json:"events"`
	AllUsers       bool     `json:"allUsers"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabledReason,omitempty"`
	DisabledAt     *string  `json:"disabledAt"`
	CreatedAt      string   `json:"createdAt"`
	UpdatedAt      string   `json:"updatedAt"`
	Pending        uint32   `json:"pending"`
	Dropped        uint64   `json:"dropped"`
	Secret         string   `json:"secret,omitempty"`
}

// WebhookInput creates (URL and Events required) or changes an endpoint.
type WebhookInput struct {
	URL      *string   `json:"url"`
	Events   *[]string `json:"events"`
	Secret   *string   `json:"secret"`
	AllUsers *bool     `json:"allUsers"`
	Enabled  *bool     `json:"enabled"`
}

// Delivery is one delivery as the API and the console show it.
type Delivery struct {
	ID            string  `json:"id"`
	Event         string  `json:"event"`
	Code          string  `json:"code,omitempty"`
	Handle        string  `json:"handle,omitempty"`
	State         string  `json:"state"` // pending, delivered, failed
	Attempts      uint32  `json:"attempts"`
	LastStatus    int     `json:"lastStatus"`
	Error         string  `json:"error,omitempty"`
	At            string  `json:"at"`
	LastAttemptAt *string `json:"lastAttemptAt"`
	DeliveredAt   *string `json:"deliveredAt"`
}

// WebhookView shows an endpoint.
func WebhookView(ep *store.Endpoint) Webhook {
	w := Webhook{ID: strconv.FormatUint(ep.ID, 16), URL: ep.URL, Events: eventNames(ep.Events), AllUsers: ep.All,
		Enabled: !ep.Disabled, DisabledReason: ep.DisabledReason, DisabledAt: optTime(ep.DisabledAt),
		CreatedAt: MsTime(ep.CreatedAt), UpdatedAt: MsTime(ep.UpdatedAt), Pending: ep.Pending, Dropped: ep.Dropped}
	return w
}

// DeliveryView shows a delivery; logged tells a logged one from a
// pending one.
func DeliveryView(dl *store.Delivery, logged bool) Delivery {
	d := Delivery{ID: webhook.MessageID(dl.Pos), Event: fsm.EventName(dl.Change.Kind), Code: dl.Change.Code,
		Handle: dl.Change.Handle, State: "pending", Attempts: dl.Attempts, LastStatus: int(dl.Status), Error: dl.Error,
		At: MsTime(dl.Change.At), LastAttemptAt: optTime(dl.LastAttempt), DeliveredAt: optTime(dl.DeliveredAt)}
	switch {
	case dl.DeliveredAt != 0:
		d.State = "delivered"
	case logged:
		d.State = "failed" // logged without success: its endpoint was disabled
	}
	return d
}

func eventNames(bits uint32) []string {
	out := []string{}
	for name, kind := range fsm.WebhookEvents {
		if bits&(1<<kind) != 0 {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// EventNames lists the webhook events, sorted.
func EventNames() []string { return eventNames(^uint32(0)) }

func parseEvents(names []string, errs *Fields) uint32 {
	var bits uint32
	for _, n := range names {
		k, ok := fsm.WebhookEvents[n]
		if !ok {
			errs.Add("events", fmt.Errorf("unknown event %q: want some of %s", n, strings.Join(EventNames(), ", ")))
			continue
		}
		bits |= 1 << k
	}
	if len(names) == 0 {
		errs.Add("events", errors.New("name at least one event"))
	}
	return bits
}

func (o *Ops) checkHookURL(raw string, errs *Fields) {
	ctx, cancel := WriteCtx()
	defer cancel()
	if err := o.hooks.CheckURL(ctx, raw); err != nil {
		msg := err.Error()
		if errors.Is(err, webhook.ErrPrivateAddress) {
			msg += " (start linkd with --webhooks-allow-private to allow it)"
		}
		errs.Add("url", errors.New(msg))
	}
}

// CreateWebhook registers an endpoint for p. An admin's endpoint with
// allUsers receives every user's events; anyone else's receives only the
// events of their own links and profile.
func (o *Ops) CreateWebhook(p Principal, in WebhookInput) (Webhook, error) {
	var errs Fields
	var events uint32
	switch {
	case in.URL == nil:
		errs.Add("url", errors.New("is required"))
	default:
		o.checkHookURL(*in.URL, &errs)
	}
	if in.Events == nil {
		errs.Add("events", errors.New("is required"))
	} else {
		events = parseEvents(*in.Events, &errs)
	}
	secret := webhook.NewSecret()
	if in.Secret != nil {
		secret = *in.Secret
		if err := webhook.CheckSecret(secret); err != nil {
			errs.Add("secret", err)
		}
	}
	all := in.AllUsers != nil && *in.AllUsers
	if all && !p.IsAdmin() {
		errs.Add("allUsers", errors.New("only admins may receive every user's events"))
	}
	if in.Enabled != nil && !*in.Enabled {
		errs.Add("enabled", errors.New("an endpoint is created enabled"))
	}
	if err := Invalid("The webhook endpoint is not valid.", errs); err != nil {
		return Webhook{}, err
	}
	for {
		c := &fsm.CreateWebhook{Now: time.Now().UnixMilli(), ID: randomID(), Owner: p.Owner(), All: all,
			URL: *in.URL, Events: events, Secret: secret}
		res, err := o.propose(c)
		if errors.Is(err, fsm.ErrWebhookLimit) {
			return Webhook{}, Invalid("The webhook endpoint limit is reached.", Fields{{Field: "url", Message: fmt.Sprintf(
				"no more endpoints: at most %d per user and %d on this instance", fsm.MaxWebhooksPerUser, fsm.MaxWebhooks)}})
		}
		if err != nil {
			return Webhook{}, err
		}
		ep, rerr := o.st.Endpoint(c.ID)
		if res.Replayed && (rerr != nil || ep.Owner != c.Owner || ep.CreatedAt != c.Now) {
			continue // the random id was taken: draw another
		}
		if rerr != nil {
			return Webhook{}, rerr
		}
		w := WebhookView(ep)
		w.Secret = secret
		return w, nil
	}
}

func randomID() uint64 {
	var b [8]byte
	for {
		_, _ = rand.Read(b[:])
		if id := binary.BigEndian.Uint64(b[:]) >> 1; id != 0 {
			return id
		}
	}
}

// Webhooks lists p's endpoints.
func (o *Ops) Webhooks(p Principal) ([]Webhook, error) {
	eps, err := o.st.EndpointsOf(p.Owner())
	if err != nil {
		return nil, err
	}
	if p.IsAdmin() {
		all, err := o.st.EndpointsOf(0)
		if err != nil {
			return nil, err
		}
		for _, ep := range all {
			if ep.Owner == p.Owner() {
				eps = append(eps, ep)
			}
		}
	}
	out := make([]Webhook, 0, len(eps))
	for _, ep := range eps {
		out = append(out, WebhookView(ep))
	}
	return out, nil
}

// errNoWebhook is the answer for an endpoint that does not exist or is not p's.
var errNoWebhook = Fail(KindNotFound, "No such webhook endpoint.")

// endpoint returns the endpoint id names if p may see it.
func (o *Ops) endpoint(p Principal, id string) (*store.Endpoint, error) {
	n, err := strconv.ParseUint(id, 16, 64)
	if err != nil {
		return nil, errNoWebhook
	}
	ep, err := o.st.Endpoint(n)
	if errors.Is(err, store.ErrNotFound) || (err == nil && ep.Owner != p.Owner() && !p.IsAdmin()) {
		return nil, errNoWebhook
	}
	return ep, err
}

// Webhook returns one of p's endpoints.
func (o *Ops) Webhook(p Principal, id string) (Webhook, error) {
	ep, err := o.endpoint(p, id)
	if err != nil {
		return Webhook{}, err
	}
	return WebhookView(ep), nil
}

// UpdateWebhook changes an endpoint; enabled true re-enables one that was
// disabled after failing.
func (o *Ops) UpdateWebhook(p Principal, id string, in WebhookInput) (Webhook, error) {
	ep, err := o.endpoint(p, id)
	if err != nil {
		return Webhook{}, err
	}
	var errs Fields
	c := &fsm.UpdateWebhook{Now: time.Now().UnixMilli(), ID: ep.ID, Actor: p.Owner(), Admin: p.IsAdmin(),
		URL: in.URL, Enabled: in.Enabled}
	if in.URL != nil {
		o.checkHookURL(*in.URL, &errs)
	}
	if in.Events != nil {
		ev := parseEvents(*in.Events, &errs)
		c.Events = &ev
	}
	if in.Secret != nil {
		errs.Add("secret", errors.New("cannot be changed: create a new endpoint to rotate it"))
	}
	if in.AllUsers != nil && *in.AllUsers != ep.All {
		errs.Add("allUsers", errors.New("cannot be changed"))
	}
	if err := Invalid("The webhook endpoint is not valid.", errs); err != nil {
		return Webhook{}, err
	}
	if _, err := o.propose(c); err != nil {
		return Webhook{}, webhookErr(err)
	}
	return o.Webhook(p, id)
}

func webhookErr(err error) error {
	switch {
	case errors.Is(err, fsm.ErrWebhookNotFound):
		return errNoWebhook
	case errors.Is(err, fsm.ErrDeliveryMissing):
		return Fail(KindNotFound, "No such delivery in this endpoint's log.")
	case errors.Is(err, fsm.ErrWebhookLimit):
		return Fail(KindRateLimited, fmt.Sprintf("The endpoint has %d deliveries pending already; retry later.", fsm.MaxPending))
	}
	return err
}

// DeleteWebhook removes an endpoint and its delivery log.
func (o *Ops) DeleteWebhook(p Principal, id string) error {
	ep, err := o.endpoint(p, id)
	if err != nil {
		return err
	}
	_, err = o.propose(&fsm.DeleteWebhook{Now: time.Now().UnixMilli(), ID: ep.ID, Actor: p.Owner(), Admin: p.IsAdmin()})
	return webhookErr(err)
}

// Deliveries returns an endpoint's pending deliveries (oldest first) and
// its log (newest first), at most MaxDone of each.
func (o *Ops) Deliveries(p Principal, id string) (pending, done []Delivery, err error) {
	ep, err := o.endpoint(p, id)
	if err != nil {
		return nil, nil, err
	}
	view := func(pend bool) ([]Delivery, error) {
		dls, err := o.st.Deliveries(ep.ID, pend, fsm.MaxDone)
		out := make([]Delivery, 0, len(dls))
		for _, dl := range dls {
			out = append(out, DeliveryView(dl, !pend))
		}
		return out, err
	}
	if pending, err = view(true); err != nil {
		return nil, nil, err
	}
	done, err = view(false)
	return pending, done, err
}

// ParseDeliveryID parses msg_<index>_<seq>.
func ParseDeliveryID(s string) (store.Pos, bool) {
	rest, ok := strings.CutPrefix(s, "msg_")
	is, ss, ok2 := strings.Cut(rest, "_")
	i, err1 := strconv.ParseUint(is, 10, 64)
	q, err2 := strconv.ParseUint(ss, 10, 16)
	return store.Pos{Index: i, Seq: uint16(q)}, ok && ok2 && err1 == nil && err2 == nil
}

// ResendDelivery queues a logged delivery again; the leader sends it with
// the same webhook-id (receivers deduplicate by it).
func (o *Ops) ResendDelivery(p Principal, id, did string) error {
	ep, err := o.endpoint(p, id)
	if err != nil {
		return err
	}
	pos, ok := ParseDeliveryID(did)
	if !ok {
		return webhookErr(fsm.ErrDeliveryMissing)
	}
	_, err = o.propose(&fsm.ResendDelivery{Now: time.Now().UnixMilli(), Endpoint: ep.ID, Index: pos.Index, Seq: pos.Seq,
		Actor: p.Owner(), Admin: p.IsAdmin()})
	return webhookErr(err)
}
