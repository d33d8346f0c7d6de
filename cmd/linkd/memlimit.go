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
