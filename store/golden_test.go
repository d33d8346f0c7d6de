package store

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	goldenfile "github.com/linkd/linkd/internal/golden"
)

// -update rewrites testdata/golden/store from the current encoders. Only for
// a deliberate, compatible change; say why in the commit.
var update = flag.Bool("update", false, "rewrite testdata/golden/store from the current encoders")

const goldenDir = "../testdata/golden/store"

// golden compares b with the golden file name, or rewrites it with
// -update, and returns the golden bytes.
func golden(t *testing.T, name, comment string, b []byte) []byte {
	t.Helper()
	return goldenfile.Check(t, filepath.Join(goldenDir, name+".hex"), comment, b, *update)
}

// goldenRecord is one record type: a sample with every field set, its
// encoder and its decoder.
type goldenRecord struct {
	value     any
	marshal   func() []byte
	unmarshal func([]byte) (any, error)
}

func rec[T any](v T, m func(T) []byte, u func([]byte) (T, error)) goldenRecord {
	return goldenRecord{value: v, marshal: func() []byte { return m(v) },
		unmarshal: func(b []byte) (any, error) { return u(b) }}
}

func goldenRecords() map[string]goldenRecord {
	m := map[string]goldenRecord{
		"link.v1": rec(&Link{Code: "abc1234", URL: "https://example.com", Owner: 7, CreatedAt: 1700000000000,
			UpdatedAt: 1700000000001, ExpiresAt: 1700000000002, RedirectStatus: 308, Status: StatusBlocked,
			Custom: true, Title: "T", Tags: []string{"a", "b"}}, MarshalLink, UnmarshalLink),
		"link.v2": rec(&Link{Code: "abc1234", URL: "https://example.com", Owner: 7, CreatedAt: 1700000000000,
			UpdatedAt: 1700000000001, ExpiresAt: 1700000000002, RedirectStatus: 302, Status: StatusActive,
			Title: "T", Tags: []string{"a"}, LinkOptions: LinkOptions{Program: []byte{1, 0, 0}, PasswordHash: "$argon2id$x",
				StartsAt: 1700000000003, FallbackURL: "https://fallback.test", MaxVisits: 100, Exhausted: true,
				DropQuery: true, ForwardPath: true, QueryPrecedence: QueryVisitorWins}}, MarshalLink, UnmarshalLink),
		"link.v3": rec(&Link{Code: "abc1234", URL: "https://example.com", Owner: 7, CreatedAt: 1700000000000,
			UpdatedAt: 1700000000001, RedirectStatus: 302, Status: StatusHeld, Title: "T", Tags: []string{"a"}},
			MarshalLink, UnmarshalLink),
		"idem.v1":    rec(&Idem{BodyHash: []byte{1, 2}, Code: "abc1234", ExpiresAt: 1700000000003}, marshalIdem, unmarshalIdem),
		"api-key.v1": rec(&APIKey{ID: "k1", Name: "ci", Owner: 2, Scopes: []string{"admin"}, CreatedAt: 1, ExpiresAt: 2}, marshalAPIKey, unmarshalAPIKey),
		"api-key.v2": rec(&APIKey{ID: "k2", Name: "child", Owner: 2, Scopes: []string{"links:read"}, CreatedAt: 3, ExpiresAt: 4,
			Parent: "k1"}, marshalAPIKey, unmarshalAPIKey),
		"domain.v1": rec(&Domain{Host: "sho.rt", Kind: DomainBoth, RootURL: "https://root.test", NotFoundURL: "https://nf.test",
			Delegate: 2, HTTPSRedirect: true, HSTS: true, CreatedBy: 1, CreatedAt: 1700000000080, UpdatedAt: 1700000000081},
			MarshalDomain, UnmarshalDomain),
		"range.fixed": rec(Range{Start: 4096, End: 8192}, marshalRange, unmarshalRange),
		"member.v1":   rec(&Member{ID: "n1", HTTPAddr: "n1:8080"}, marshalMember, unmarshalMember),
		"user.v1": rec(&User{ID: 2, Email: "a@b.test", PasswordHash: "$argon2id$x", Role: RoleAdmin, Disabled: true,
			CreatedAt: 3, UpdatedAt: 4}, MarshalUser, UnmarshalUser),
		"session.v1": rec(&Session{User: 2, CreatedAt: 5, ExpiresAt: 6}, marshalSession, unmarshalSession),
		"invite.v1":  rec(&Invite{ID: "i1", Role: RoleAdmin, CreatedBy: 1, CreatedAt: 7, ExpiresAt: 8, Claims: 1}, marshalInvite, unmarshalInvite),
		"profile.v1": rec(&Profile{User: 2, Handle: "ann", DisplayName: "Ann", Bio: "hi", Avatar: "av", Theme: "mono",
			Custom: ThemeCustom{Background: "#000001", Text: "#000002", Button: "#000003", ButtonText: "#000004",
				Accent: "#000005", Gradient: "#000006", BackgroundImage: "bg", Font: "serif", Shape: "pill"},
			PageCode: "pg12345", Links: []ProfileLink{{Code: "l123456", Title: "Blog", URL: "https://blog.test",
				Thumbnail: "th", Enabled: true, StartsAt: 1, EndsAt: 2, Sensitive: true, Social: true}},
			UpdatedAt: 9}, MarshalProfile, UnmarshalProfile),
		"image.v1": rec(&Image{Type: "image/png", Width: 640, Height: 480, Owner: 2, CreatedAt: 10,
			Data: []byte{0x89, 'P', 'N', 'G'}}, marshalImage, unmarshalImage),
		"day-counts.v1": rec(DayCounts{Humans: 1, Bots: 2, Previews: 3, Scans: 4}, marshalDayCounts, unmarshalDayCounts),
		"day-agg.v1": rec(&DayAgg{DayCounts: DayCounts{Humans: 1, Bots: 2, Previews: 3, Scans: 4},
			Dims: []DimValues{{Dim: DimReferrer, Values: []KeyCount{{OtherValue, 5}, {"t.co", 300}}},
				{Dim: DimCountry, Values: []KeyCount{{"DE", 1}}}}, Visitors: []byte{0xaa, 0xbb}},
			marshalDayAgg, unmarshalDayAgg),
		"cert.v1": rec(&CertEntry{Value: []byte("-----BEGIN CERTIFICATE-----"), Modified: 1700000000011},
			marshalCert, unmarshalCert),
		"backup-info.v1": rec(&BackupInfo{ClusterID: "c0ffee", AppliedIndex: 42, CreatedAt: 1700000000000, NodeID: "n1"},
			marshalBackupInfo, unmarshalBackupInfo),
	}
	maps.Copy(m, outboxRecords())
	return m
}

// Every record type has golden bytes: encoding the sample gives them, and
// decoding them gives the sample. Versioned records start with their
// version; "fixed" values are fixed-width big-endian fields whose layout
// belongs to their key table (a change needs a new table letter).
func TestGoldenRecords(t *testing.T) {
	records := goldenRecords()
	for name, r := range records {
		b := golden(t, name, fmt.Sprintf("store record %T", r.value), r.marshal())
		got, err := r.unmarshal(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, r.value) {
			t.Errorf("%s: golden bytes decode to %#v, want %#v", name, got, r.value)
		}
		// The newest version of each record refuses the one after it.
		base, _, versioned := strings.Cut(name, ".v")
		if _, newerKnown := records[fmt.Sprintf("%s.v%d", base, b[0]+1)]; versioned && !newerKnown {
			newer := append([]byte{b[0] + 1}, b[1:]...)
			if _, err := r.unmarshal(newer); !errors.Is(err, ErrNewerRecord) {
				t.Errorf("%s: version %d gives %v, want ErrNewerRecord", name, b[0]+1, err)
			}
		}
	}
}

// goldenStore is a small store with one record of most tables.
func goldenStore(t *testing.T) *Store {
	s := mustOpen(t, vfs.NewMem(), "/golden")
	txn := s.Begin()
	txn.Init([]byte{1, 2, 3}, []byte("c0ffee"))
	if _, err := txn.AllocRange("n1", 4096); err != nil {
		t.Fatal(err)
	}
	txn.CreateLink(testLink("abc1234", "https://example.com", 1700000000000))
	txn.PutIdem(IdemID(7, "k"), &Idem{BodyHash: []byte{1}, Code: "abc1234", ExpiresAt: 1700086400000})
	txn.CreateAPIKey(TokenHash("lk_x"), &APIKey{ID: "k1", Name: "ci", Owner: 1, Scopes: []string{"admin"}, CreatedAt: 1})
	txn.PutUser(nil, &User{ID: 1, Role: RoleAdmin, CreatedAt: 1, UpdatedAt: 1})
	txn.PutSession(TokenHash("sess"), &Session{User: 1, CreatedAt: 1, ExpiresAt: 1700086400000})
	txn.PutMember(&Member{ID: "n1", HTTPAddr: "n1:8080"})
	mustCommit(t, txn, 9)
	return s
}

// The snapshot stream (raft snapshots and backups carry it) and the backup
// framing are pinned too: the golden stream restores, and the golden backup
// verifies, restores and reports its header.
func TestGoldenSnapshotAndBackup(t *testing.T) {
	s := goldenStore(t)
	defer s.Close()
	sn := s.Snapshot()
	var snap, bak bytes.Buffer
	if _, err := sn.WriteTo(&snap); err != nil {
		t.Fatal(err)
	}
	if _, err := sn.WriteBackup(&bak, 1700000000000, "n1"); err != nil {
		t.Fatal(err)
	}
	sn.Close()
	snapGolden := golden(t, "snapshot.v1", "store snapshot stream of goldenStore", snap.Bytes())
	bakGolden := golden(t, "backup.v1", "backup of goldenStore, created 1700000000000 by n1", bak.Bytes())

	r := mustOpen(t, vfs.NewMem(), "/r")
	defer r.Close()
	if err := r.Restore(bytes.NewReader(snapGolden)); err != nil {
		t.Fatal(err)
	}
	if l, err := r.Link("abc1234"); err != nil || l.URL != "https://example.com" {
		t.Fatalf("restored link: %+v, %v", l, err)
	}
	info, n, err := VerifyBackup(bytes.NewReader(bakGolden))
	want := &BackupInfo{ClusterID: "c0ffee", AppliedIndex: 9, CreatedAt: 1700000000000, NodeID: "n1"}
	if err != nil || n != int64(len(bakGolden)) || !reflect.DeepEqual(info, want) {
		t.Fatalf("VerifyBackup = %+v, %d, %v", info, n, err)
	}
}

// A backup damaged anywhere, or cut short, is refused.
func TestVerifyBackupRefusesDamage(t *testing.T) {
	s := goldenStore(t)
	defer s.Close()
	sn := s.Snapshot()
	var bak bytes.Buffer
	if _, err := sn.WriteBackup(&bak, 1, "n1"); err != nil {
		t.Fatal(err)
	}
	sn.Close()
	good := bak.Bytes()
	for i := 0; i < len(good); i++ {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x01
		if _, _, err := VerifyBackup(bytes.NewReader(bad)); err == nil {
			t.Fatalf("a flipped bit at byte %d of %d was not noticed", i, len(good))
		}
	}
	for _, n := range []int{0, 5, len(good) / 2, len(good) - 1} {
		if _, _, err := VerifyBackup(bytes.NewReader(good[:n])); err == nil {
			t.Fatalf("a backup cut to %d bytes verified", n)
		}
	}
	if _, _, err := VerifyBackup(bytes.NewReader(append(append([]byte(nil), good...), 0))); err == nil {
		t.Fatal("a backup with a trailing byte verified")
	}
}
