package clicks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/internal/clientaddr"
	"github.com/linkd/linkd/internal/propose"
	"github.com/linkd/linkd/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Real User-Agent strings and the class they must get.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		ua     string
		class  uint8
		device string
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", ClassHuman, "desktop"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", ClassHuman, "desktop"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", ClassHuman, "desktop"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", ClassHuman, "mobile"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36", ClassHuman, "mobile"},
		{"Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", ClassHuman, "tablet"},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ClassBot, "bot"},
		{"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", ClassBot, "bot"},
		{"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", ClassBot, "bot"},
		{"curl/8.4.0", ClassBot, "bot"},
		{"python-requests/2.31.0", ClassBot, "bot"},
		{"Go-http-client/1.1", ClassBot, "bot"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36", ClassBot, "bot"},
		{"Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.0.0 Mobile Safari/537.36 Instagram 312.0.0.0.34", ClassHuman, "mobile"},
		{"", ClassBot, "bot"},
		{"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", ClassPreview, "bot"},
		{"Twitterbot/1.0", ClassPreview, "bot"},
		{"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", ClassPreview, "bot"},
		{"WhatsApp/2.23.20.0 A", ClassPreview, "bot"},
		{"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", ClassPreview, "bot"},
		{"TelegramBot (like TwitterBot)", ClassPreview, "bot"},
		{"LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", ClassPreview, "bot"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0", ClassPreview, "bot"}, // iMessage
	} {
		got := classify(tc.ua)
		if got.class != tc.class || string(got.device) != tc.device {
			t.Errorf("classify(%q) = class %d device %q; want %d %q", tc.ua, got.class, got.device, tc.class, tc.device)
		}
	}
}

func TestClientAddrTrustsOnlyProxies(t *testing.T) {
	trusted := clientaddr.MustParse("10.0.0.0/8")
	mk := func(peer, fwd string, flags uint8) *Event {
		e := &Event{Flags: flags}
		e.IP = netip.MustParseAddr(peer).As16()
		e.SetForwarded([]byte(fwd))
		return e
	}
	for _, tc := range []struct {
		e    *Event
		want string
	}{
		{mk("203.0.113.9", "198.51.100.1", 0), "203.0.113.9"},                                 // untrusted peer: header ignored
		{mk("10.1.2.3", "198.51.100.1", FlagTrusted), "198.51.100.1"},                         // behind the proxy
		{mk("10.1.2.3", "198.51.100.7, 198.51.100.1, 10.9.9.9", FlagTrusted), "198.51.100.1"}, // rightmost untrusted hop
		{mk("10.1.2.3", "garbage", FlagTrusted), "10.1.2.3"},
		// a client-sent prefix longer than the event keeps is cut from the left,
		// so the hop the proxy appended survives
		{mk("10.1.2.3", strings.Repeat("6.6.6.6, ", 12)+"198.51.100.1, 10.9.9.9", FlagTrusted), "198.51.100.1"},
	} {
		if got := clientAddr(tc.e, trusted); got.String() != tc.want {
			t.Errorf("clientAddr = %s, want %s", got, tc.want)
		}
	}
	e := mk("10.1.2.3", "", FlagTrusted)
	e.Country = [2]byte{'d', 'e'}
	if c, ok := country(e, netip.MustParseAddr("10.1.2.3")); !ok || string(c[:]) != "DE" {
		t.Errorf("country from a trusted proxy header = %q", c)
	}
	if _, ok := country(&Event{}, netip.MustParseAddr("1.1.1.1")); !ok {
		t.Error("no country for a public address from the embedded database")
	}
}

func writeSegment(t *testing.T, dir string, recs []record) uint64 {
	t.Helper()
	l, err := openSegLog(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := l.append(r.appendTo(nil)); err != nil {
			t.Fatal(err)
		}
	}
	num := l.num
	if err := l.seal(); err != nil {
		t.Fatal(err)
	}
	return num
}

// A torn or corrupt tail is skipped; what precedes it is still read.
func TestTornTailSkipped(t *testing.T) {
	dir := t.TempDir()
	var recs []record
	for i := range 10 {
		recs = append(recs, record{timeMs: int64(i), kind: KindClick, class: ClassHuman, code: []byte("abc")})
	}
	num := writeSegment(t, dir, recs)
	path := filepath.Join(dir, segName(num, sealedExt))
	b, _ := os.ReadFile(path)
	for name, bad := range map[string][]byte{
		"torn":    b[:len(b)-3],
		"flipped": append(append([]byte(nil), b[:len(b)-5]...), b[len(b)-5]^0xff, 0, 0, 0, 0),
		"garbage": append(append([]byte(nil), b...), 0xff, 0xff, 0xff, 0xff, 0x0f),
	} {
		os.WriteFile(path, bad, 0o644)
		n := 0
		if err := readSegment(dir, num, quiet, func([]byte) { n++ }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n != 9 && !(name == "garbage" && n == 10) {
			t.Errorf("%s: read %d records", name, n)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	r := record{timeMs: 1700000000123, kind: KindScan, class: ClassBot, code: []byte("aZ3kP9q"), host: []byte("h"),
		country: []byte("DE"), device: []byte("mobile"), browser: []byte("Safari"), os: []byte("iPhone OS"), refHost: []byte("t.co"), visitor: 99}
	v, err := viewRecord(r.appendTo(nil))
	if err != nil || v.timeMs != r.timeMs || v.kind != r.kind || v.class != r.class || v.visitor != 99 {
		t.Fatalf("round trip: %+v %v", v, err)
	}
	f, _ := v.fields()
	if got := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s", f[0], f[1], f[2], f[3], f[4], f[5], f[6]); got != "aZ3kP9q|h|DE|mobile|Safari|iPhone OS|t.co" {
		t.Fatalf("fields: %s", got)
	}
	if _, err := viewRecord(r.appendTo(nil)[:20]); err == nil {
		t.Fatal("truncated record accepted")
	}
}

func TestReferrerHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://www.Google.com/search?q=x": "google.com", "http://t.co": "t.co", "https://u:p@Example.org:8443/x": "example.org",
		"android-app://com.slack/": "com.slack", "": "", "not a url": "", "https://[::1]:80/": "[::1]",
		"http://203.0.113.7:8080/p": "203.0.113.7", "https://WWW.Example.COM./": "example.com", "https://www./": "www",
		"https://xn--bcher-kva.example/": "xn--bcher-kva.example", "https://a_b.example/": "a_b.example",
		// Junk a client may send: every kind counts as one value.
		"https://bücher.example/": InvalidHost, "https://<script>/": InvalidHost, "https://a..b/": InvalidHost,
		"https://-a.example/": InvalidHost, "https://1.2.3.999/": InvalidHost, "https://[1.2.3.4]/": InvalidHost,
		"https://[::1/": InvalidHost, "https://" + strings.Repeat("a.", 127) + "com/": InvalidHost,
		"https://" + strings.Repeat("a", 64) + ".com/": InvalidHost, "https://a%20b/": InvalidHost,
	} {
		if got := string(referrerHost(nil, []byte(in))); got != want {
			t.Errorf("referrerHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// The pipeline end to end on one store: events in, a compactor pass, the
// rollups out; the same segment proposed twice counts once; segment numbers
// keep rising across a restart of the log.
func TestRecorderCompactorExactlyOnce(t *testing.T) {
	for _, dayRecords := range []bool{false, true} {
		t.Run(fmt.Sprint("dayRecords=", dayRecords), func(t *testing.T) { testRecorderCompactorExactlyOnce(t, dayRecords) })
	}
}

// testRecorderCompactorExactlyOnce: with dayRecords, the compactor proposes
// Clicks version 2 (one record per link and day) and the answers are the same.
func testRecorderCompactorExactlyOnce(t *testing.T, dayRecords bool) {
	var proposed []*fsm.Clicks
	st, propose := applyingStore(t, func(c fsm.Command) {
		if cl, ok := c.(*fsm.Clicks); ok {
			proposed = append(proposed, cl)
		}
	})
	mustPropose(t, propose, &fsm.CreateLink{Now: 1, Code: "abc", URL: "https://e.test", Owner: 1, RedirectStatus: 302})
	dir := t.TempDir()
	cfg := Config{Dir: dir, Source: "n1/x", Store: st, Lag: time.Hour, Logger: quiet, DayRecords: func() bool { return dayRecords }}
	comp := newCompactor(cfg, store.Retention{}, propose)
	comp.ensureSalts()
	for round := range 2 {
		rec, err := NewRecorder(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			e := &Event{TimeMs: time.Now().UnixMilli(), Kind: KindClick}
			e.SetCode([]byte("abc"))
			e.SetUserAgent([]byte("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"))
			e.IP = netip.AddrFrom4([4]byte{1, 1, byte(i % 10), 1}).As16()
			rec.Record(e)
		}
		rec.Close() // seals
		comp.Pass(context.Background())
		if n, _ := st.Clicks("abc"); n != uint64(100*(round+1)) {
			t.Fatalf("round %d: %d clicks", round, n)
		}
	}
	if len(proposed) != 2 || proposed[1].Segment <= proposed[0].Segment {
		t.Fatalf("segments proposed: %d, numbering must rise", len(proposed))
	}
	if v2 := proposed[0].V == 2; v2 != dayRecords {
		t.Fatalf("proposed Clicks version %d with dayRecords %v", proposed[0].V, dayRecords)
	}
	// Replaying an applied segment changes nothing.
	before, _ := st.Clicks("abc")
	if r, _ := propose(context.Background(), proposed[0]); !r.Replayed {
		t.Fatal("a replayed segment was not recognised")
	}
	if after, _ := st.Clicks("abc"); after != before {
		t.Fatalf("replay changed the total from %d to %d", before, after)
	}
	a, err := st.LinkAnalytics("abc", 0, time.Now().Add(time.Hour).UnixMilli(), store.ByDay)
	if err != nil || a.Humans != 200 || a.Visitors < 9 || a.Visitors > 11 {
		t.Fatalf("analytics: %+v %v", a, err)
	}
	if len(sealedSegments(dir)) != 0 {
		t.Fatal("applied segments were not deleted")
	}
}

// applyingStore returns a store and a propose.Func that applies each command
// at once through the fsm (raft left out), telling seen about it first.
func applyingStore(t *testing.T, seen func(fsm.Command)) (*store.Store, propose.Func) {
	st, err := store.Open(t.TempDir(), store.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f, _ := fsm.New(st, quiet)
	var mu sync.Mutex
	var index uint64
	return st, func(_ context.Context, c fsm.Command) (*fsm.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		index++
		if seen != nil {
			seen(c)
		}
		b, _ := fsm.Encode(c)
		r := f.ApplyBatch(rafted(index, b))[0].(*fsm.Result)
		return r, r.Err
	}
}

func mustPropose(t *testing.T, p propose.Func, c fsm.Command) {
	t.Helper()
	if _, err := p(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// With parts (Clicks v3, and v4 with its deltas packed), a segment of
// more than PartLinks links goes out as several entries. A proposal that
// fails after it was applied (the proposer's timeout, say) leaves the
// segment on disk; the next pass proposes it again, and every click is
// still counted once.
func TestCompactorPartsCountOnceThroughFailures(t *testing.T) {
	for _, v := range []uint8{3, 4} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) { testPartsCountOnce(t, v) })
	}
}

func testPartsCountOnce(t *testing.T, v uint8) {
	const n = 2*PartLinks + 500
	var parts []*fsm.Clicks
	failNext := 2 // fail the second part, once, after applying it
	st, apply := applyingStore(t, nil)
	propose := func(ctx context.Context, c fsm.Command) (*fsm.Result, error) {
		r, err := apply(ctx, c)
		if cl, ok := c.(*fsm.Clicks); ok {
			parts = append(parts, cl)
			if failNext--; failNext == 0 {
				return nil, errors.New("proposal timed out")
			}
		}
		return r, err
	}
	var items []fsm.CreateLink
	for i := range n {
		items = append(items, fsm.CreateLink{Now: 1, Code: fmt.Sprintf("p%05d", i), URL: "https://e.test", Owner: 1, RedirectStatus: 302})
	}
	mustPropose(t, apply, &fsm.CreateLinks{Items: items})
	dir := t.TempDir()
	yes := func() bool { return true }
	cfg := Config{Dir: dir, Source: "n1/p", Store: st, Lag: time.Hour, Logger: quiet, DayRecords: yes, Parts: yes,
		Packed: func() bool { return v == 4 }}
	comp := newCompactor(cfg, store.Retention{}, propose)
	comp.ensureSalts()
	rec, err := NewRecorder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for range i%3 + 1 {
			e := &Event{TimeMs: time.Now().UnixMilli(), Kind: KindClick}
			e.SetCode(fmt.Appendf(nil, "p%05d", i))
			rec.Record(e)
		}
	}
	rec.Close()
	comp.Pass(context.Background())
	if len(parts) != 2 || len(sealedSegments(dir)) != 1 {
		t.Fatalf("after the failure: %d parts proposed, %d segments left", len(parts), len(sealedSegments(dir)))
	}
	comp.pass(context.Background(), true) // paced, as the compactor's loop does
	if len(sealedSegments(dir)) != 0 {
		t.Fatal("the segment was not deleted after its last part")
	}
	// 2 parts, then the whole segment again in 3.
	if len(parts) != 5 || parts[0].V != v || !parts[0].More || parts[4].More || len(parts[0].Links) != PartLinks {
		t.Fatalf("parts: %d, first v%d more=%v", len(parts), parts[0].V, parts[0].More)
	}
	for i := range n {
		code := fmt.Sprintf("p%05d", i)
		if got, err := st.Clicks(code); err != nil || got != uint64(i%3+1) {
			t.Fatalf("%s: %d clicks (%v), want %d", code, got, err, i%3+1)
		}
	}
}

// The pacer rests as long as the stretch of work before it (so the paced
// work takes at most half of the time), not at all after a short stretch,
// never more in all than its budget, and never once the compactor is in a
// hurry (a stopping node's last pass) or stopping.
func TestPacerRestsAsLongAsItWorked(t *testing.T) {
	stop := make(chan struct{})
	var hurry atomic.Bool
	p := &pacer{on: true, stop: stop, hurry: &hurry, left: 40 * time.Millisecond, since: time.Now()}
	if err := p.rest(); err != nil { // a stretch shorter than paceSlice
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // work
	worked := time.Since(p.since)
	start := time.Now()
	if err := p.rest(); err != nil {
		t.Fatal(err)
	}
	if rested := time.Since(start); rested < worked {
		t.Fatalf("rested %v after %v of work", rested, worked)
	}
	// The budget: 40 ms in all, about 20 of it rested above.
	p.since = time.Now().Add(-time.Hour)
	start = time.Now()
	if err := p.rest(); err != nil || time.Since(start) > time.Second {
		t.Fatalf("past an hour of work: rested %v (%v), want the rest of 40 ms", time.Since(start), err)
	}
	if p.left != 0 {
		t.Fatalf("%v of rest left, want none", p.left)
	}
	p.left = time.Hour
	p.since = time.Now().Add(-time.Hour)
	hurry.Store(true)
	start = time.Now()
	if err := p.rest(); err != nil || time.Since(start) > time.Second {
		t.Fatalf("in a hurry: rested %v (%v)", time.Since(start), err)
	}
	hurry.Store(false)
	close(stop)
	if err := p.rest(); !errors.Is(err, errStopping) {
		t.Fatalf("stopping: %v", err)
	}
	off := &pacer{since: time.Now().Add(-time.Hour)}
	if err := off.rest(); err != nil {
		t.Fatal(err)
	}
}

// The compactor runs when the writer seals a segment, not on a timer: with
// an hour's lag (a pass every 15 minutes, were it polling), the clicks of a
// sealed segment are applied at once.
func TestSealWakesTheCompactor(t *testing.T) {
	st, propose := applyingStore(t, nil)
	mustPropose(t, propose, &fsm.CreateLink{Now: 1, Code: "wake", URL: "https://e.test", Owner: 1, RedirectStatus: 302})
	cfg := Config{Dir: t.TempDir(), Source: "n1/w", Store: st, Lag: time.Hour, Logger: quiet}
	rec, comp, err := Start(cfg, store.Retention{}, propose)
	if err != nil {
		t.Fatal(err)
	}
	defer comp.Close()
	for range 5 {
		e := &Event{TimeMs: time.Now().UnixMilli(), Kind: KindClick}
		e.SetCode([]byte("wake"))
		rec.Record(e)
	}
	rec.Close() // seals the segment
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if n, _ := st.Clicks("wake"); n == 5 {
			break
		}
		if time.Now().After(deadline) {
			n, _ := st.Clicks("wake")
			t.Fatalf("%d clicks applied 10 s after the seal, want 5", n)
		}
	}
	if len(sealedSegments(cfg.Dir)) != 0 {
		t.Fatal("the applied segment is still on disk")
	}
}

// A salt that cannot be proposed yet (a node starting before there is a
// leader) is proposed again after Lag/4, not at the next hourly check.
func TestSaltRetriedUntilProposed(t *testing.T) {
	st, apply := applyingStore(t, nil)
	var failures atomic.Int32
	propose := func(ctx context.Context, c fsm.Command) (*fsm.Result, error) {
		if _, ok := c.(*fsm.SetSalt); ok && failures.Add(1) <= 3 {
			return nil, errors.New("no leader")
		}
		return apply(ctx, c)
	}
	cfg := Config{Dir: t.TempDir(), Source: "n1/s", Store: st, Lag: 200 * time.Millisecond, Logger: quiet}
	rec, comp, err := Start(cfg, store.Retention{}, propose)
	if err != nil {
		t.Fatal(err)
	}
	defer comp.Close()
	defer rec.Close()
	today := time.Now().UnixMilli() / store.DayMs
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, err1 := st.Salt(today)
		_, err2 := st.Salt(today + 1)
		if err1 == nil && err2 == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("salts after 10 s of retries: %v, %v", err1, err2)
		}
	}
}

// Enriching an event allocates nothing once the agent is cached: the writer
// takes each event off the queue into a local, and a leak of the event
// through encode would move that local to the heap, a copy of almost a
// kilobyte per click (issue 18: the writer was a fifth of a busy node's
// allocations).
func TestWriterEncodesWithoutAllocating(t *testing.T) {
	day := time.Now().UnixMilli() / store.DayMs
	r := &Recorder{ua: map[string]uaInfo{}, salts: map[int64][]byte{day: make([]byte, 32)}}
	for _, kind := range []uint8{KindClick, KindOrphan} {
		var ev Event
		ev.TimeMs, ev.Kind = time.Now().UnixMilli(), kind
		ev.SetCode([]byte("abc"))
		ev.SetHost([]byte("Sho.RT:8080"))
		ev.SetReferer([]byte("https://www.Example.com/path?q"))
		ev.SetUserAgent([]byte("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"))
		copy(ev.IP[:], net.ParseIP("203.0.113.9").To16())
		if n := testing.AllocsPerRun(100, func() {
			e := ev
			r.encode(&e)
		}); n != 0 {
			t.Errorf("kind %d: %v allocations per event", kind, n)
		}
	}
}
