package store

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"testing"
)

// moderationRecords are the trust and safety records (tables B, F, A, R, L),
// every field set.
func moderationRecords() map[string]goldenRecord {
	return map[string]goldenRecord{
		"block.v1": rec(&BlockEntry{ID: 9, Kind: BlockDomain, Value: "evil.test", Reason: "phishing", CreatedBy: 1,
			CreatedAt: 1700000000060, Source: "feed"}, marshalBlock, unmarshalBlock),
		"takedown.v1": rec(&Takedown{Code: "abc1234", Reason: "malware", By: 1, At: 1700000000061, BlockID: 9,
			DestKey: "evil.test/x", Appeal: "mine", AppealAt: 1700000000062}, marshalTakedown, unmarshalTakedown),
		"takedown-feed.v1": rec(&Takedown{Code: "abc1234", Reason: "feed", By: 1, At: 1700000000061,
			DestKey: "evil.test/x", Appeal: "mine", AppealAt: 1700000000062, Feed: 12}, marshalTakedown, unmarshalTakedown),
		"feed.v1": rec(&Feed{ID: 12, Name: "urlhaus", URL: "https://feeds.test/u.csv", Format: FeedURLhaus,
			Every: 3600000, Reason: "malware", CreatedBy: 1, CreatedAt: 1700000000100, Version: 1700000000200,
			Entries: 3, Hash: []byte{1, 2}, UpdatedAt: 1700000000200, CheckedAt: 1700000000300, Error: "HTTP 503",
			Staging: 1700000000301, StageSeq: 2, Staged: 5000}, marshalFeed, unmarshalFeed),
		"audit.v1": rec(&AuditEntry{Seq: 3, At: 1700000000063, Actor: 1, Action: "link.block", Target: "abc1234",
			Detail: "why"}, marshalAudit, unmarshalAudit),
		"report.v1": rec(&Report{ID: 77, Code: "abc1234", Reason: "spam", Note: "n", AddrHash: []byte{1, 2},
			At: 1700000000064, Status: ReportActioned, ClosedBy: 1, ClosedAt: 1700000000065, Action: "block-link"},
			marshalReport, unmarshalReport),
		"user-trust.v1": rec(&UserTrust{User: 5, Quota: QuotaLimit, DailyLinks: 20, Approved: true, By: 1,
			At: 1700000000066}, MarshalUserTrust, UnmarshalUserTrust),
	}
}

func TestGoldenModerationRecords(t *testing.T) {
	records := moderationRecords()
	maps.Copy(records, importedRecords())
	for name, r := range records {
		b := golden(t, name, fmt.Sprintf("store record %T", r.value), r.marshal())
		got, err := r.unmarshal(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, r.value) {
			t.Errorf("%s: golden bytes decode to %#v, want %#v", name, got, r.value)
		}
		if _, err := r.unmarshal(append([]byte{b[0] + 1}, b[1:]...)); !errors.Is(err, ErrNewerRecord) {
			t.Errorf("%s: version %d gives %v, want ErrNewerRecord", name, b[0]+1, err)
		}
	}
}

// importedRecords are the import records (table t), every field set.
func importedRecords() map[string]goldenRecord {
	return map[string]goldenRecord{
		"imported-clicks.v1": rec(&ImportedClicks{Source: "bitly", Clicks: 12345, At: 1700000000070}, marshalImported, unmarshalImported),
	}
}
