//go:build !measure

package feeds_test

// feedEntries is the size of TestLargeFeedOnCluster's feed; -tags measure
// uses 100,000.
const feedEntries = 20000
