//go:build measure

package fsm_test

// takedownLinks is the figure: the time from a blocklist change
// to 451 on all three nodes for 10,000 matching links. Run with
//
//	go test -tags measure -run TestBlocklistBlocksOnEveryNode -v ./fsm/
const takedownLinks = 10000
