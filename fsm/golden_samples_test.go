package fsm

import (
	"time"

	"github.com/linkd/linkd/store"
)

// goldenSamples is one command of every type with every field set, so each
// tag shows in its golden file. It uses keyed fields only and no Header:
// the same file compiles against release 47bad8b, which is how the
// legacy-47bad8b golden files were made (see encoding_test.go).
func goldenSamples() map[string]Command {
	s := func(v string) *string { return &v }
	tags := []string{"a", "b"}
	exp := int64(1700000999000)
	rs := uint16(307)
	yes := true
	role := uint8(2)
	return map[string]Command{
		"01-init": &Init{Now: 1700000000000, ClusterID: "c0ffee", PermKey: []byte{1, 2, 3, 4}, AdminKeyID: "k1",
			AdminKeyHash: []byte{5, 6}, AdminInviteID: "i1", AdminInviteHash: []byte{7, 8}},
		"02-alloc-range": &AllocRange{Now: 1700000000001, NodeID: "n1", Size: 4096},
		"03-create-link": &CreateLink{Now: 1700000000002, Code: "abc1234", Custom: true, URL: "https://example.com/x?y=1",
			Owner: 7, ExpiresAt: exp, RedirectStatus: 301, Title: "Title", Tags: tags, IdemKey: "idem", BodyHash: []byte{9, 9}},
		"04-update-link": &UpdateLink{Now: 1700000000003, Code: "abc1234", Actor: 7, Admin: true, URL: s("https://e.org"),
			Title: s("T2"), Tags: &tags, ExpiresAt: &exp, RedirectStatus: &rs, Blocked: &yes},
		"05-delete-link": &DeleteLink{Now: 1700000000004, Code: "abc1234", Actor: 7, Admin: true},
		"06-set-member":  &SetMember{Now: 1700000000005, NodeID: "n2", HTTPAddr: "n2:8080"},
		"07-del-member":  &DelMember{Now: 1700000000006, NodeID: "n2"},
		"08-clicks": &Clicks{Now: 1700000000007, Source: "n1/00ff", Segment: 42,
			Retention: store.Retention{Minutes: 48 * time.Hour, Hours: 90 * 24 * time.Hour},
			Links: []store.LinkClicks{{Code: "abc1234", Minutes: []store.ClickBucket{{T: 28333333, N: 3}},
				Days: []store.DayClicks{{Day: 19675, Humans: 2, Bots: 1, Previews: 4, Scans: 5,
					Dims: []store.DimCount{{Dim: 1, Key: "example.org", N: 2}}, Visitors: []byte{0xaa, 0xbb}}}}},
			Orphans: []store.OrphanCount{{Day: 19675, Host: "sho.rt", N: 6}}},
		"09-set-salt":    &SetSalt{Now: 1700000000008, Day: 19675, Salt: []byte{1, 1, 2, 3, 5, 8}},
		"10-create-user": &CreateUser{Now: 1700000000009, Email: "a@b.test", PasswordHash: "$argon2id$x", Role: 1, InviteHash: []byte{4}},
		"11-update-user": &UpdateUser{Now: 1700000000010, ID: 2, Email: s("c@d.test"), PasswordHash: s("$argon2id$y"),
			Role: &role, Disabled: &yes},
		"12-delete-user": &DeleteUser{Header: Header{V: 1}, Now: 1700000000011, ID: 2}, // v2 in goldenV2Samples
		"13-create-api-key": &CreateAPIKey{Now: 1700000000012, Hash: []byte{3, 3}, ID: "key1", Name: "ci",
			Owner: 2, Scopes: []string{"links:read", "links:write"}, ExpiresAt: exp},
		"40-create-child-key": &CreateChildKey{CreateAPIKey: CreateAPIKey{Now: 1700000000040, Hash: []byte{4, 4}, ID: "key2",
			Name: "deploy", Owner: 2, Scopes: []string{"links:read"}, ExpiresAt: exp}, Parent: "key1"},
		"85-put-cert": &PutCert{Now: 1700000000085, Key: "certificates/ca/sho.rt/sho.rt.key", Value: []byte("-----BEGIN EC PRIVATE KEY-----"),
			MaxValue: 65536, MaxKeys: 1024},
		"86-delete-cert": &DeleteCert{Now: 1700000000086, Key: "certificates/ca/sho.rt"},
		"41-upload-image": &UploadImage{Now: 1700000000041, User: 2, ID: []byte{0xbe, 0xef}, MIME: "image/png", Width: 640,
			Height: 480, Data: []byte{0x89, 'P', 'N', 'G'}, Quota: 50 << 20},
		"14-delete-api-key": &DeleteAPIKey{Now: 1700000000013, Owner: 2, ID: "key1"},
		"15-create-session": &CreateSession{Now: 1700000000014, Hash: []byte{2, 2}, User: 2, ExpiresAt: exp},
		"16-delete-session": &DeleteSession{Now: 1700000000015, Hash: []byte{2, 2}},
		"17-create-invite":  &CreateInvite{Now: 1700000000016, Hash: []byte{6}, ID: "inv1", Role: 1, CreatedBy: 1, ExpiresAt: exp},
		"18-delete-invite":  &DeleteInvite{Now: 1700000000017, ID: "inv1"},
		"19-set-profile": &SetProfile{Now: 1700000000018, User: 2, Handle: "ann", DisplayName: "Ann", Bio: "hi",
			Avatar: "av", Theme: "mono",
			Custom: store.ThemeCustom{Background: "#000001", Text: "#000002", Button: "#000003", ButtonText: "#000004",
				Accent: "#000005", Gradient: "#000006", BackgroundImage: "bg", Font: "serif", Shape: "pill"},
			PageCode: "pg12345", PageURL: "https://sho.rt/@ann",
			Links: []store.ProfileLink{{Code: "l123456", Title: "Blog", URL: "https://blog.test", Thumbnail: "th",
				Enabled: true, StartsAt: 1, EndsAt: exp, Sensitive: true, Social: true}},
			NewCodes: []string{"l123456"}, RetireAt: exp},
		"20-put-image": &PutImage{Now: 1700000000019, ID: []byte{0xde, 0xad},
			Image: store.Image{Type: "image/png", Width: 640, Height: 480, Owner: 2, CreatedAt: 1700000000019, Data: []byte{0x89, 'P', 'N', 'G'}}},
	}
}

// goldenV2Samples are the commands whose newest version adds fields, with
// those fields set (goldenSamples holds them at version 1, as 47bad8b
// wrote them).
func goldenV2Samples() map[string]Command {
	prog := []byte{1, 0, 2, 60, 3, 'a', ':', 'b', 40, 3, 'c', ':', 'd'}
	pw, start, fb, maxv, yes, qp := "$argon2id$x", int64(1700000000100), "https://fallback.test", uint64(100), true, uint8(1)
	return map[string]Command{
		"03-create-link": &CreateLink{Now: 1700000000002, Code: "abc1234", Custom: true, URL: "https://example.com/x?y=1",
			Owner: 7, RedirectStatus: 302, Program: prog, PasswordHash: pw, StartsAt: start, FallbackURL: fb,
			MaxVisits: maxv, DropQuery: true, ForwardPath: true, QueryPrecedence: qp},
		"04-update-link": &UpdateLink{Now: 1700000000003, Code: "abc1234", Actor: 7, Program: &prog, PasswordHash: &pw,
			StartsAt: &start, FallbackURL: &fb, MaxVisits: &maxv, DropQuery: &yes, ForwardPath: &yes, QueryPrecedence: &qp},
		"08-clicks":      clicksV2(),
		"12-delete-user": &DeleteUser{Now: 1700000000011, ID: 2}, // v2: same fields, erases the outbox too
	}
}

// clicksV2 is the Clicks sample at version 2 (same fields, the per-day
// record layout).
func clicksV2() *Clicks {
	c := *goldenSamples()["08-clicks"].(*Clicks)
	c.V = 2
	return &c
}

// clicksV3Samples is the Clicks sample at version 3: a part of a segment
// with more to follow.
func clicksV3Samples() map[string]Command {
	c := clicksV2()
	c.V, c.More, c.Orphans = 3, true, nil
	return map[string]Command{"08-clicks": c}
}

// clicksV4Samples is a Clicks at version 4 (links and orphans packed):
// two links, one with minutes out of order (the packed minutes are signed
// deltas) and a day with neither dimensions nor visitors.
func clicksV4Samples() map[string]Command {
	c := clicksV2()
	c.V = 4
	c.Links = append(c.Links, store.LinkClicks{Code: "ex.test/zz",
		Minutes: []store.ClickBucket{{T: 28333340, N: 1}, {T: 28333339, N: 1 << 40}},
		Days:    []store.DayClicks{{Day: 19676, Previews: 1}, {Day: 19677, Humans: 1, Dims: []store.DimCount{{Dim: 3, Key: "mobile", N: 1}}}}})
	c.Orphans = append(c.Orphans, store.OrphanCount{Day: -1, Host: "", N: 1})
	return map[string]Command{"08-clicks": c}
}

// outboxSamples are the outbox commands (types 90–96).
func outboxSamples() map[string]Command {
	url := "https://hooks.test/v2"
	ev := uint32(0x7e)
	yes := true
	return map[string]Command{
		"90-create-webhook": &CreateWebhook{Now: 1700000000090, ID: 1 << 40, Owner: 7, All: true, URL: "https://hooks.test/in",
			Events: 0x7e, Secret: "whsec_c2VjcmV0"},
		"91-update-webhook": &UpdateWebhook{Now: 1700000000091, ID: 1 << 40, Actor: 7, Admin: true, URL: &url, Events: &ev, Enabled: &yes},
		"92-delete-webhook": &DeleteWebhook{Now: 1700000000092, ID: 1 << 40, Actor: 7, Admin: true},
		"93-webhook-attempt": &WebhookAttempt{Now: 1700000000093, Endpoint: 1 << 40, Index: 42, Seq: 3, OK: true, Status: 503,
			Error: "status 503", Disable: true, Reason: "failing for 24h"},
		"94-outbox-tick":     &OutboxTick{Now: 1700000000094},
		"95-purge-ack":       &PurgeAck{Now: 1700000000095, Index: 42, Seq: 3},
		"96-resend-delivery": &ResendDelivery{Now: 1700000000096, Endpoint: 1 << 40, Index: 42, Seq: 3, Actor: 7, Admin: true},
	}
}
