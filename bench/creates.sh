#!/usr/bin/env bash
# Acknowledged creates on one node: throughput, latency and the node's CPU
# per create, for one or more linkd binaries alternated in one run (A/B).
#
# Method: each binary serves a fresh data directory (analytics on, as
# shipped); bench/loadgen runs $CONNS clients doing POST /api/v1/links for
# $DUR after a 2 s warm-up. CPU is the node's utime+stime over the run
# (/proc/PID/stat) divided by the acknowledged creates: on a shared machine
# throughput follows the CPU other work leaves, CPU per create much less.
#
# Usage: bench/creates.sh                           (this tree's linkd)
#        ROUNDS=3 bench/creates.sh /tmp/linkd-base /tmp/linkd-new
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-10s}
CONNS=${CONNS:-64}
ROUNDS=${ROUNDS:-1}
OUT=$(mktemp -d)
cleanup() { [ -f "$OUT/pid" ] && kill "$(cat "$OUT/pid")" 2>/dev/null || true; rm -rf "$OUT"; }
trap cleanup EXIT
go build -o "$OUT/loadgen" ./bench/loadgen
BINS=("$@")
if [ ${#BINS[@]} -eq 0 ]; then go build -o "$OUT/linkd" ./cmd/linkd; BINS=("$OUT/linkd"); fi
TOKEN=lk_creates_bench_token
TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
echo "load average at start: $(uptime | sed 's/.*load average: //')"
for r in $(seq "$ROUNDS"); do
  for b in "${BINS[@]}"; do
    rm -rf "$OUT/data"
    "$b" serve --data-dir "$OUT/data" --http-addr 127.0.0.1:18095 --raft-addr 127.0.0.1:17095 \
      --admin-token "$TOKEN" --log-level warn >/dev/null 2>>"$OUT/linkd.log" &
    echo $! >"$OUT/pid"
    for _ in $(seq 300); do curl -sf http://127.0.0.1:18095/_/readyz >/dev/null && break; sleep 0.1; done
    "$OUT/loadgen" -server http://127.0.0.1:18095 -token "$TOKEN" -c "$CONNS" -d 2s >/dev/null
    c0=$(cpu_ticks "$(cat "$OUT/pid")")
    res=$("$OUT/loadgen" -server http://127.0.0.1:18095 -token "$TOKEN" -c "$CONNS" -d "$DUR")
    c1=$(cpu_ticks "$(cat "$OUT/pid")")
    kill "$(cat "$OUT/pid")"; while kill -0 "$(cat "$OUT/pid")" 2>/dev/null; do sleep 0.1; done; rm -f "$OUT/pid"
    n=$(echo "$res" | awk '{ print $1 }')
    echo "round $r $b: $res; node CPU $(awk -v d=$((c1 - c0)) -v hz="$TICK" -v n="$n" 'BEGIN { printf "%.0f", d / hz * 1e6 / n }') µs/create"
  done
done
echo "load average at end: $(uptime | sed 's/.*load average: //')"
