package store

import "encoding/binary"

// Per-user daily creation counts (issue 14, --user-daily-links):
//
//	G<user:8><day:8>   links the user created that UTC day (uint64)
//
// Only the current day's count matters: writing a day's count removes the
// user's earlier days, so the table holds at most one key per user.
const tDailyLinks = 'G'

func dailyLinksKey(user uint64, day int64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64([]byte{tDailyLinks}, user), uint64(day))
}

// DailyLinks returns how many links user created on day (days since the
// epoch, UTC) under a quota.
func (t *Txn) DailyLinks(user uint64, day int64) (uint64, error) {
	return getUint64(t.b, dailyLinksKey(user, day))
}

// SetDailyLinks stores user's count for day and drops earlier days'.
func (t *Txn) SetDailyLinks(user uint64, day int64, n uint64) error {
	var old [][]byte
	err := scan(t.b, dailyLinksKey(user, 0), dailyLinksKey(user, day), func(k, _ []byte) error {
		old = append(old, append([]byte(nil), k...))
		return nil
	})
	for _, k := range old {
		t.del(k)
	}
	t.setUint64(dailyLinksKey(user, day), n)
	return err
}
