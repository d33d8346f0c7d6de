// Package fsm is linkd's replicated state machine: the commands that change
// state, their encoding, and their deterministic application to the store.
//
// Apply is a pure function of the store's state and the command: it reads no
// clock, no randomness and no local configuration. Domain failures (an alias
// already taken, a missing link) are returned as values in a Result; a
// command that cannot be decoded or a store that cannot be written means the
// node can no longer be trusted, so the fsm panics. An entry written by a
// newer linkd (unknown type or version) is not corruption: the fsm halts
// without applying it and the node reports not ready (see DESIGN.md).
//
// Creates and deletes recognise their own replay (see Idempotent), which is
// what lets cluster re-propose them safely when leadership changes while
// they are in flight. Commands come in three files: links, ranges, members,
// clicks and salts (command.go, fsm.go); users, sessions, keys and invites
// (accounts.go); profiles and images (profiles.go). A command checks
// everything before it writes, because a failed command shares its batch
// with others and must leave no trace in it. Encodings are pinned by golden
// files (encoding.go, testdata/golden/fsm).
//
// The fsm applies each raft batch as one store Txn, committed together with
// the batch's last index. Entries at or below the applied index are skipped,
// which makes replay after a restart idempotent. It must never propose, talk
// to the network, or touch the hot set except through Txn.Commit.
package fsm
