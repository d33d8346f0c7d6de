// Package store owns linkd's replicated state on disk: the Pebble key layout,
// the record encodings, point reads and scans, snapshots and restores, and
// the hot set that serves redirects from memory.
//
// The store never decides anything. The fsm is its only writer: it opens a
// Txn for each raft batch, and Txn.Commit writes the changes and the applied
// raft index in one Pebble batch and then evicts every code the batch touched
// from the hot set. Everything else (httpd, node) only reads.
//
// # Key layout
//
// Every key starts with one ASCII byte naming its table, so tables are
// disjoint ranges and a snapshot is one ordered scan:
//
//	m<name>                          meta: applied index, permutation key, id counter, init marker
//	l<code>                          link record (deleted links stay as tombstones: codes are never reissued);
//	                                 a link on a configured domain has the code "<host>/<code>" here and in every code-keyed table
//	d<host>                          a configured domain (domains.go)
//	c<^createdAt:8><code>            all links, newest first (admin listing)
//	o<owner:8><^createdAt:8><code>   one owner's links, newest first
//	i<id:16>                         idempotency record: id = sha256(owner, Idempotency-Key)[:16]
//	e<expiresAt:8><id:16>            idempotency expiry queue, oldest first
//	r<nodeID>                        the last id range handed to a node (informational)
//	k<sha256(token):32>              API key record
//	K<owner:8><key id>               an owner's API keys: sha256 of each token
//	u<id:8>                          user record (id 1 is the bootstrap admin)
//	a<lowercased email>              user id by email
//	s<sha256(token):32>              console session
//	z<user:8><sha256(token):32>      a user's sessions (value: expiry)
//	x<expiresAt:8><sha256(token):32> session expiry queue (value: user)
//	v<sha256(token):32>              invite
//	P<user:8>                        link-in-bio profile (links in order, theme tokens)
//	h<handle>                        user id by profile handle
//	I<sha256(bytes):32>              uploaded image, re-encoded by the server
//	n<nodeID>                        cluster member: public HTTP address
//	S<source>                        last applied click segment of one node's click log
//	p<source>                        <segment:8><code>: the segment being applied in parts (Clicks v3), applied up to code
//	M|H<code>\0<minute|hour:8>       clicks per minute / hour (retention-limited)
//	Z<code>\0<day:8>                 DayAgg: one UTC day's humans, bots, previews, scans, dimension values (at most 100 per dimension, then "(other)") and visitor sketch, in one record (dayagg.go; written since issue 18)
//	D<code>\0<day:8>                 humans, bots, previews, scans of one UTC day (older linkds; read, no longer written)
//	X<code>\0<day:8><dim:1><value>   clicks per referrer host, country, device, browser, OS, A/B variant (at most 100 values, then "(other)")
//	Y<code>\0<day:8><dim:1>          how many values X keeps for that dimension (the cardinality cap)
//	U<code>\0<day:8>                 HyperLogLog of that day's visitor hashes (X, Y, U: older linkds; read, no longer written)
//	T<code>                          total clicks
//	t<code>                          clicks imported from another shortener (a historical total, never in T)
//	Q<code>                          human clicks toward the link's maxVisits, since the limit was set
//	O<day:8><host>                   requests for unknown codes (orphan visits; at most 100 hosts, then "(other)")
//	W<day:8>                         how many hosts O keeps that day
//	V<day:8>                         that day's visitor-hash salt (kept two days)
//	C<storage key>                   HTTPS: ACME account, certificates and their PRIVATE KEYS, challenge tokens (certs.go)
//	q<index:8><seq:2>                outbox: CDN purge queue (one change each)
//	w\x00<id:8> | w\x01<owner:8><id:8> | w\x02   webhook endpoints, endpoints by owner (0: admins' all-events endpoints), outbox counters
//	g<endpoint:8><state:1><index:8><seq:2>  webhook deliveries: state 0 pending, 1 done (the last 100)
//	E<due:8><kind:1><code>           timers: link expiry (1), link start (2), clicks digest (3, value: clicks)
//	R<id:8>                          threat feed: settings, last good version, last fetch (feeds.go)
//	N<id:8><ver:8><kind:1><value>    a feed version's entries (the committed one, at most one staged)
//	y<kind:1><value>\0<id:8>         committed feed entries by value (create checks, rescans)
//	G<user:8><day:8>                 links a user created that UTC day, under --user-daily-links (quota.go)
//	L<user:8>                        a user's trust settings: daily quota override, approval (trust.go)
//
// Integers in keys are big-endian so byte order is numeric order; ^t (the
// bitwise complement) turns ascending scans into newest-first ones.
package store
