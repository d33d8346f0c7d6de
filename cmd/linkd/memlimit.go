package main

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// defaultMemoryLimitMiB is the memory linkd aims to stay within by default.
const defaultMemoryLimitMiB = 1024

// minGoMemoryLimit is the smallest Go heap limit set, whatever the flags:
// Pebble's block cache and memtables alone take 256 MiB of it by default,
// and a limit below what is live makes the collector run without pause
// (up to half the CPU) instead of bounding anything.
const minGoMemoryLimit = 512 << 20

// gcPercent is the collector's GOGC unless the environment sets one. In
// the shipped CGO_ENABLED=0 build most of a busy node's live heap is
// Pebble's block cache and memtables (store.DefaultBlockCacheBytes plus
// two 64 MiB memtables): long-lived blocks without pointers, which the
// collector marks for almost nothing and which need no headroom, yet
// GOGC=100 lets the heap grow by their size again before it collects. A
// 1M-link bulk load, 100 and 50 alternated twice: 474–482 → 353–357 MiB
// anonymous RSS, for 38.9–39.9 → 41.3–42.2 s of node CPU (+5%; the load
// allocates the most, redirects allocate almost nothing).
const gcPercent = 50

// applyGCPercent sets gcPercent unless GOGC is set; it returns the value
// in effect (-1: off).
func applyGCPercent() int {
	if os.Getenv("GOGC") != "" {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(gcPercent)
	return gcPercent
}

// applyMemoryLimit sets the Go runtime's soft memory limit so that the
// process stays near limitMiB: the limit covers the Go heap, which in a
// CGO_ENABLED=0 build (the Docker image, the README's build) includes
// Pebble's block cache and memtables; the hot set lives in memory fastcache
// maps itself, outside the Go heap, so its size is taken off. Without a
// limit the runtime lets the heap grow to twice what is live and is slow
// to return it: 1.74 GiB after a 10M-link bulk load against 670 MiB after
// a restart (bench/scale). GOMEMLIMIT, when set, wins; limitMiB <= 0 sets
// nothing. It returns the limit set (0: none).
func applyMemoryLimit(limitMiB, hotSetBytes int, log *slog.Logger) int64 {
	if limitMiB <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	limit := int64(limitMiB)<<20 - int64(hotSetBytes)
	if limit < minGoMemoryLimit {
		log.Warn("--memory-limit-mib leaves the Go heap less than its floor beside the hot set; using the floor",
			"memory_limit_mib", limitMiB, "hotset_bytes", hotSetBytes, "floor_bytes", minGoMemoryLimit)
		limit = minGoMemoryLimit
	}
	debug.SetMemoryLimit(limit)
	log.Debug("go memory limit", "bytes", limit, "memory_limit_mib", limitMiB, "hotset_bytes", hotSetBytes)
	return limit
}
