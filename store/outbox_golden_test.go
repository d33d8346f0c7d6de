package store

// outboxRecords are the outbox records (tables q, w, g), every field set.
func outboxRecords() map[string]goldenRecord {
	c := Change{Kind: ChangeLinkUpdated, At: 1700000000070, Owner: 7, Code: "abc1234", URL: "https://example.com",
		Title: "T", Tags: []string{"a", "b"}, Status: StatusBlocked, ExpiresAt: 1700000000071, Handle: "ann",
		OldHandle: "anne", Minute: 1700000000040, Clicks: 12, Reason: "why"}
	return map[string]goldenRecord{
		"change.v1": rec(&c, MarshalChange, UnmarshalChange),
		"change.v2": rec(&Change{Kind: ChangeDomain, At: 1700000000078, Owner: 1, Host: "go.example"},
			MarshalChange, UnmarshalChange),
		"endpoint.v1": rec(&Endpoint{ID: 1 << 40, Owner: 7, All: true, URL: "https://hooks.test/in", Events: 0x7e,
			Secret: "whsec_c2VjcmV0", CreatedAt: 1700000000072, UpdatedAt: 1700000000073, Disabled: true,
			DisabledReason: "failing for 24h", DisabledAt: 1700000000074, Pending: 3, Done: 100, Dropped: 5},
			MarshalEndpoint, UnmarshalEndpoint),
		"delivery.v1": rec(&Delivery{Pos: Pos{Index: 42, Seq: 3}, Change: c, Attempts: 4, FirstAttempt: 1700000000075,
			LastAttempt: 1700000000076, Status: 503, Error: "status 503", DeliveredAt: 1700000000077},
			MarshalDelivery, UnmarshalDelivery),
		"outbox-head.v1": rec(&OutboxHead{Purges: 9, PurgesDropped: 2, Endpoints: 4, ClickHooks: 1}, marshalHead, unmarshalHead),
	}
}
