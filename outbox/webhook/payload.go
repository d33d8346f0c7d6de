package webhook

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/store"
)

// MessageID is a delivery's webhook-id: the change's position, the same
// on every attempt and on every leader, so receivers can deduplicate.
func MessageID(p store.Pos) string { return fmt.Sprintf("msg_%d_%d", p.Index, p.Seq) }

// Event is the JSON body of a delivery (Standard Webhooks: type,
// timestamp, data).
type Event struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// LinkData is the data of a link.* event.
type LinkData struct {
	Code      string   `json:"code"`
	ShortURL  string   `json:"shortUrl"`
	URL       string   `json:"url,omitempty"`
	Title     string   `json:"title,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Status    string   `json:"status"`
	ExpiresAt string   `json:"expiresAt,omitempty"`
	Owner     uint64   `json:"owner"`
}

// ProfileData is the data of a profile.updated event.
type ProfileData struct {
	Handle         string `json:"handle"`
	PreviousHandle string `json:"previousHandle,omitempty"`
	URL            string `json:"url"`
	Owner          uint64 `json:"owner"`
}

// ClicksData is the data of a clicks event: one link's clicks in one minute.
type ClicksData struct {
	Code     string `json:"code"`
	ShortURL string `json:"shortUrl"`
	Minute   string `json:"minute"`
	Clicks   uint64 `json:"clicks"`
	Owner    uint64 `json:"owner"`
}

func msTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

// Payload returns the JSON body for a change. It depends only on the
// change and the public base URL, so every attempt sends the same bytes.
func Payload(c *store.Change, public string) ([]byte, error) {
	ev := Event{Type: fsm.EventName(c.Kind), Timestamp: msTime(c.At)}
	switch c.Kind {
	case store.ChangeProfile:
		ev.Data = ProfileData{Handle: c.Handle, PreviousHandle: c.OldHandle, URL: public + "/@" + c.Handle, Owner: c.Owner}
	case store.ChangeClicks:
		ev.Data = ClicksData{Code: c.Code, ShortURL: public + "/" + c.Code, Minute: msTime(c.Minute), Clicks: c.Clicks, Owner: c.Owner}
	default:
		d := LinkData{Code: c.Code, ShortURL: public + "/" + c.Code, URL: c.URL, Title: c.Title, Tags: c.Tags,
			Status: c.Status.String(), Owner: c.Owner}
		if c.ExpiresAt != 0 {
			d.ExpiresAt = msTime(c.ExpiresAt)
		}
		ev.Data = d
	}
	if ev.Type == "" {
		return nil, fmt.Errorf("webhook: change kind %d is no webhook event", c.Kind)
	}
	return json.Marshal(ev)
}
