//go:build !measure

package fsm_test

const takedownLinks = 300
