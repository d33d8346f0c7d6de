//go:build measure

package feeds_test

// feedEntries for the measure build:
//
//	go test -tags measure -run TestLargeFeedOnCluster -v ./node/feeds/
const feedEntries = 100000
