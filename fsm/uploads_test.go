package fsm

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/linkd/linkd/store"
)

func upload(now int64, user uint64, data string, quota int64) *UploadImage {
	sum := sha256.Sum256([]byte(data))
	return &UploadImage{Now: now, User: user, ID: sum[:], MIME: "image/png", Width: 1, Height: 1, Data: []byte(data), Quota: quota}
}

func imageID(data string) []byte { s := sha256.Sum256([]byte(data)); return s[:] }

// TestUploadQuotaAndCollection: the quota is decided in Apply; old
// uploads no profile shows are collected on the next upload; an image two
// users uploaded stays while either holds it; deleting a user deletes the
// images only they held, referenced or not.
func TestUploadQuotaAndCollection(t *testing.T) {
	f, st := mustFSM(t, nil, t.TempDir())
	day := UploadGrace.Milliseconds()
	avatar := hex.EncodeToString(imageID("avatar"))
	cmds := []Command{
		workload()[0],
		&CreateUser{Now: 400, Email: "ann@x.test", PasswordHash: "h1", Role: uint8(store.RoleUser)}, // 2
		&CreateUser{Now: 401, Email: "bob@x.test", PasswordHash: "h2", Role: uint8(store.RoleUser)}, // 3
		upload(1000, 2, "avatar", 20),     // 3: ann 6 bytes
		upload(1001, 2, "old-unused", 20), // 4: ann 6+10 bytes
		upload(1002, 2, "too-big", 20),    // 5: 16+7 > 20: refused
		upload(1003, 3, "old-unused", 20), // 6: bob shares ann's bytes
		upload(1004, 2, "avatar", 20),     // 7: held already: no charge
		&SetProfile{Now: 1005, User: 2, Handle: "ann", Theme: "mono", Avatar: avatar, PageCode: "pgann01", PageURL: "https://sho.rt/@ann", NewCodes: []string{"pgann01"}},
		upload(2000+day, 2, "next-day", 20), // 9: old-unused collected from ann (bob keeps the bytes), then 6+8 fits
		upload(2001+day, 3, "bob-own", 20),  // 10: bob's old-unused is a day old and unreferenced: collected, image deleted
	}
	res := f.ApplyBatch(logsFor(t, 1, cmds...))
	want := map[int]error{5: ErrUploadQuota}
	for i, r := range res {
		if got := r.(*Result).Err; !errors.Is(got, want[i]) || (got == nil) != (want[i] == nil) {
			t.Errorf("command %d (%T): %v, want %v", i, cmds[i], got, want[i])
		}
	}
	has := func(data string) bool {
		_, err := st.Image(imageID(data))
		return err == nil
	}
	ids := func(user uint64) map[string]bool {
		us, err := st.Uploads(user)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, u := range us {
			out[hex.EncodeToString(u.ID)] = true
		}
		return out
	}
	if has("too-big") || has("old-unused") || !has("avatar") || !has("next-day") || !has("bob-own") {
		t.Fatalf("images: too-big %v old-unused %v avatar %v next-day %v bob-own %v",
			has("too-big"), has("old-unused"), has("avatar"), has("next-day"), has("bob-own"))
	}
	if a := ids(2); len(a) != 2 || !a[avatar] {
		t.Fatalf("ann's uploads: %v", a)
	}
	// Bob uploads ann's avatar too, then ann's account goes: the shared
	// image stays for bob, ann's own images go, referenced or not.
	res = f.ApplyBatch(logsFor(t, uint64(len(cmds)+1),
		upload(3000+day, 3, "avatar", 20),
		&DeleteUser{Now: 3001 + day, ID: 2},
	))
	for i, r := range res {
		if err := r.(*Result).Err; err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
	}
	if !has("avatar") || has("next-day") {
		t.Fatalf("after ann's deletion: avatar (bob holds it) %v, next-day (ann's only) %v", has("avatar"), has("next-day"))
	}
	if a := ids(2); len(a) != 0 {
		t.Fatalf("a deleted user still holds %v", a)
	}
}
