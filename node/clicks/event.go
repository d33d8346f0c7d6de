// Package clicks is the click pipeline of one node: the redirect path hands
// it fixed-size events without blocking; a writer enriches them (country,
// device, browser, OS, bot or preview class, referrer host, a salted daily
// visitor hash — never the IP itself) and appends them to CRC-framed segment
// files; a compactor folds each sealed segment into rollup deltas and
// proposes them through raft under a (source, segment) identity, deleting
// the segment only once the delta is applied. The fsm applies each identity
// at most once, so clicks are counted exactly once across restarts and
// leader changes. A CDN's log of redirects it served from its cache
// (Compactor.NewBatch, via POST /api/v1/analytics/ingest) is enriched and
// folded the same way into one command under the source "cdn:<batch id>",
// so a re-sent batch is applied at most once too.
//
// The package never blocks the redirect path and never writes replicated
// state except through proposals.
package clicks

// Kinds of request recorded.
const (
	KindClick   uint8 = 1
	KindPreview uint8 = 2 // HEAD: link unfurlers and checkers, never a click
	KindScan    uint8 = 3 // a QR code scan (?qr on the short URL)
	KindOrphan  uint8 = 4 // a request for an unknown code
)

// Event flags.
const (
	FlagDNT     uint8 = 1 << iota // DNT: 1 or Sec-GPC: 1
	FlagTrusted                   // the peer is a trusted proxy: Forwarded and Country apply
)

// Event is what the redirect handler copies out of a request. It is a
// fixed-size value with no pointers, because fasthttp reuses its buffers
// and enqueueing must not allocate; fields longer than their arrays are
// truncated.
type Event struct {
	TimeMs  int64
	Kind    uint8
	Flags   uint8
	IP      [16]byte // peer address (IPv4 mapped); never written to disk
	Country [2]byte  // from a trusted proxy's country header
	Variant uint8    // 1 + the index of the A/B variant that chose the destination; 0 for none

	codeLen, hostLen, refLen, uaLen, fwdLen uint8

	code [165]byte // a link key: "<host>/<code>" on a domain (host at most 100 bytes), the bare code elsewhere
	host [64]byte  // Host header, for orphan visits
	ref  [255]byte // Referer
	ua   [255]byte // User-Agent
	fwd  [64]byte  // the configured client-address header from a trusted proxy
}

// SetCode copies the code.
func (e *Event) SetCode(b []byte) { e.codeLen = uint8(copy(e.code[:], b)) }

// SetHost copies the Host header.
func (e *Event) SetHost(b []byte) { e.hostLen = uint8(copy(e.host[:], b)) }

// SetReferer copies the Referer header.
func (e *Event) SetReferer(b []byte) { e.refLen = uint8(copy(e.ref[:], b)) }

// SetUserAgent copies the User-Agent header.
func (e *Event) SetUserAgent(b []byte) { e.uaLen = uint8(copy(e.ua[:], b)) }

// SetForwarded copies the client address header sent by a trusted proxy.
// A longer header keeps its right end: the hops a trusted proxy appended
// are there, while the left end is whatever the client sent.
func (e *Event) SetForwarded(b []byte) {
	if len(b) > len(e.fwd) {
		b = b[len(b)-len(e.fwd):]
		if i := indexComma(b); i >= 0 {
			b = b[i+1:] // drop the cut-off hop
		}
	}
	e.fwdLen = uint8(copy(e.fwd[:], b))
}

func indexComma(b []byte) int {
	for i, c := range b {
		if c == ',' {
			return i
		}
	}
	return -1
}

func (e *Event) Code() string      { return string(e.code[:e.codeLen]) }
func (e *Event) Host() string      { return string(e.host[:e.hostLen]) }
func (e *Event) Referer() string   { return string(e.ref[:e.refLen]) }
func (e *Event) UserAgent() string { return string(e.ua[:e.uaLen]) }
func (e *Event) Forwarded() string { return string(e.fwd[:e.fwdLen]) }
