package clicks

import (
	"github.com/linkd/linkd/fsm"
)

// Batch collects events that reached linkd other than through its own
// redirect path (a CDN's access log of redirects it served from its
// cache), each enriched exactly as the writer enriches a visit (class,
// device, country, referrer host, salted visitor hash) and kept as its
// encoded record (tens of bytes, not the event's fixed size).
type Batch struct {
	c    *Compactor
	enc  *Recorder // a writer's encoder, not started
	recs [][]byte
}

// NewBatch starts a batch.
func (c *Compactor) NewBatch() *Batch {
	return &Batch{c: c, enc: &Recorder{cfg: c.cfg, log: c.log, ua: map[string]uaInfo{}, salts: map[int64][]byte{}}}
}

// Add enriches e into the batch.
func (b *Batch) Add(e *Event) { b.recs = append(b.recs, append([]byte(nil), b.enc.encode(e)...)) }

// Len is the number of events added.
func (b *Batch) Len() int { return len(b.recs) }

// Command folds the batch exactly as a sealed segment is folded, into one
// Clicks command under source, as segment 1. Proposed, it is applied at
// most once per source (the fsm's per-source segment check), so a batch
// re-sent under the same source counts nothing; the fsm keeps one small
// record per source for good.
func (b *Batch) Command(source string) (*fsm.Clicks, error) {
	cmd, err := b.c.foldRecords(func(fn func([]byte)) error {
		for _, r := range b.recs {
			fn(r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cmd.Source, cmd.Segment = source, 1
	return cmd, nil
}
