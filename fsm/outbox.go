package fsm

import (
	"errors"

	"github.com/linkd/linkd/store"
)

// Outbox commands (types 90–99): webhook endpoints, and what the leader
// proposes as it delivers (see DESIGN.md, "Outbox").
const (
	TypeCreateWebhook  Type = 90
	TypeUpdateWebhook  Type = 91
	TypeDeleteWebhook  Type = 92
	TypeWebhookAttempt Type = 93
	TypeOutboxTick     Type = 94
	TypePurgeAck       Type = 95
	TypeResendDelivery Type = 96
)

// Outbox limits. They bound state that Apply writes for changes proposed by
// anyone, so they are constants of the Apply (changing one is an Apply
// change: bump the commands' versions).
const (
	// MaxWebhooksPerUser bounds one user's endpoints.
	MaxWebhooksPerUser = 10
	// MaxWebhooks bounds the cluster's endpoints (each change is matched
	// against the owner's and the admins' endpoints).
	MaxWebhooks = 1000
	// MaxPending bounds one endpoint's undelivered deliveries; changes
	// past it are counted in Endpoint.Dropped, not queued.
	MaxPending = 1000
	// MaxDone is how many finished deliveries an endpoint's log keeps.
	MaxDone = 100
	// MaxPurges bounds the purge queue; past it the oldest entry is
	// dropped and counted (OutboxHead.PurgesDropped).
	MaxPurges = 10000
	// MaxTimersPerTick bounds the timers one OutboxTick fires; the leader
	// proposes another tick while timers are due.
	MaxTimersPerTick = 256
	// DigestDelay is how long after a minute ends its clicks digest is
	// sent: click segments reach the log within the analytics lag, so
	// most of the minute's clicks are in by then. Clicks of that minute
	// applied later make a second digest for it.
	DigestDelay = store.MinuteMs
	// maxChangesPerEntry is how many changes one raft entry can queue
	// (the position's sequence number is 16 bits).
	maxChangesPerEntry = 1 << 16
)

// Outbox domain errors.
var (
	ErrWebhookLimit    = errors.New("webhook endpoint limit reached")
	ErrWebhookNotFound = errors.New("webhook endpoint not found")
	ErrDeliveryMissing = errors.New("webhook delivery not found")
)

// Webhook event names, by change kind (the bit 1<<kind in Events).
var WebhookEvents = map[string]uint8{
	"link.created":    store.ChangeLinkCreated,
	"link.updated":    store.ChangeLinkUpdated,
	"link.deleted":    store.ChangeLinkDeleted,
	"link.blocked":    store.ChangeLinkBlocked,
	"profile.updated": store.ChangeProfile,
	"clicks":          store.ChangeClicks,
}

// EventName returns the webhook event name of a change kind, "" if none.
func EventName(kind uint8) string {
	for n, k := range WebhookEvents {
		if k == kind {
			return n
		}
	}
	return ""
}

// CreateWebhook registers an endpoint. The proposer picks ID and Secret.
type CreateWebhook struct {
	Header
	Now    int64  `codec:"now"`
	ID     uint64 `codec:"id"`
	Owner  uint64 `codec:"owner"`
	All    bool   `codec:"all,omitempty"` // an admin's endpoint: every user's events
	URL    string `codec:"url"`
	Events uint32 `codec:"ev"`
	Secret string `codec:"secret"`
}

// UpdateWebhook changes the fields that are set; Enabled true re-enables
// a disabled endpoint.
type UpdateWebhook struct {
	Header
	Now     int64   `codec:"now"`
	ID      uint64  `codec:"id"`
	Actor   uint64  `codec:"actor"`
	Admin   bool    `codec:"admin,omitempty"`
	URL     *string `codec:"url,omitempty"`
	Events  *uint32 `codec:"ev,omitempty"`
	Enabled *bool   `codec:"en,omitempty"`
}

// DeleteWebhook removes an endpoint and its deliveries.
type DeleteWebhook struct {
	Header
	Now   int64  `codec:"now"`
	ID    uint64 `codec:"id"`
	Actor uint64 `codec:"actor"`
	Admin bool   `codec:"admin,omitempty"`
}

// WebhookAttempt records the leader's attempt at a pending delivery: a
// success moves it to the log; a failure keeps it pending, or with Disable
// (the retry window passed) logs it and disables the endpoint.
type WebhookAttempt struct {
	Header
	Now      int64  `codec:"now"`
	Endpoint uint64 `codec:"ep"`
	Index    uint64 `codec:"i"`
	Seq      uint16 `codec:"s"`
	OK       bool   `codec:"ok,omitempty"`
	Status   uint16 `codec:"st,omitempty"`
	Error    string `codec:"err,omitempty"`
	Disable  bool   `codec:"dis,omitempty"`
	Reason   string `codec:"why,omitempty"`
}

// OutboxTick fires the timers due at Now: link expiries and starts (a
// purge) and clicks digests (a webhook event).
type OutboxTick struct {
	Header
	Now int64 `codec:"now"`
}

// PurgeAck drops the purge queue up to and including (Index, Seq): the
// leader purged those URLs.
type PurgeAck struct {
	Header
	Now   int64  `codec:"now"`
	Index uint64 `codec:"i"`
	Seq   uint16 `codec:"s"`
}

// ResendDelivery queues a logged delivery again.
type ResendDelivery struct {
	Header
	Now      int64  `codec:"now"`
	Endpoint uint64 `codec:"ep"`
	Index    uint64 `codec:"i"`
	Seq      uint16 `codec:"s"`
	Actor    uint64 `codec:"actor"`
	Admin    bool   `codec:"admin,omitempty"`
}

func (*CreateWebhook) Type() Type  { return TypeCreateWebhook }
func (*UpdateWebhook) Type() Type  { return TypeUpdateWebhook }
func (*DeleteWebhook) Type() Type  { return TypeDeleteWebhook }
func (*WebhookAttempt) Type() Type { return TypeWebhookAttempt }
func (*OutboxTick) Type() Type     { return TypeOutboxTick }
func (*PurgeAck) Type() Type       { return TypePurgeAck }
func (*ResendDelivery) Type() Type { return TypeResendDelivery }

func newOutboxCommand(t Type) Command {
	switch t {
	case TypeCreateWebhook:
		return &CreateWebhook{}
	case TypeUpdateWebhook:
		return &UpdateWebhook{}
	case TypeDeleteWebhook:
		return &DeleteWebhook{}
	case TypeWebhookAttempt:
		return &WebhookAttempt{}
	case TypeOutboxTick:
		return &OutboxTick{}
	case TypePurgeAck:
		return &PurgeAck{}
	case TypeResendDelivery:
		return &ResendDelivery{}
	}
	return nil
}
