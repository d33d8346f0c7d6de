package clicks

import (
	"github.com/linkd/linkd/fsm"
)

// Fold turns events that reached linkd other than through its own redirect
// path (a CDN's access log of redirects it served from its cache) into one
// Clicks command under source, as segment 1: each event is enriched
// exactly as the writer enriches a visit (class, device, country, referrer
// host, salted visitor hash) and folded exactly as a sealed segment is.
// Proposed, it is applied at most once per source (the fsm's per-source
// segment check), so a batch re-sent under the same source counts
// nothing; the fsm keeps one small record per source for good.
func (c *Compactor) Fold(source string, events []Event) (*fsm.Clicks, error) {
	enc := &Recorder{cfg: c.cfg, log: c.log, ua: map[string]uaInfo{}, salts: map[int64][]byte{}}
	cmd, err := c.foldRecords(func(fn func([]byte)) error {
		for i := range events {
			fn(enc.encode(&events[i]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cmd.Source, cmd.Segment = source, 1
	return cmd, nil
}
