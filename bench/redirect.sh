#!/usr/bin/env bash
# Redirect throughput and server CPU per redirect, with requests spread over
# many codes as real traffic is: linkd with analytics on, linkd with
# analytics off (--analytics=false) and nginx's `return 302` as the
# baseline, on this machine, in one run.
#
# Workloads: "uniform" picks each request's code uniformly from 1,000 codes;
# "zipf" from $ZIPF_N codes (default 1,000,000) with a Zipf distribution
# (exponent $ZIPF_S, default 1.0), so a few codes are hot and most are in
# the long tail (hot-set misses included). The codes are created once,
# through the API (bench/seed), in one data directory that both linkd modes
# then serve in turn. wrk draws codes with bench/codes.lua.
#
# Method: each server gets one core (taskset -c 0; linkd as shipped, which
# runs two scheduler Ps even on one core (cmd/linkd/procs.go), nginx with
# one worker, access log off); wrk runs on the other core
# (taskset -c 1, one thread, $CONNS keep-alive connections, $DUR per run).
# Before each run a short wrk pass warms the hot set, then the server is
# left to settle. CPU is the server's utime+stime from /proc/PID/stat:
#   during = CPU over the run / redirects completed;
#   after  = CPU from the end of the run until the click pipeline is done
#            (no click segment left on disk: sealed, folded, applied,
#            deleted) / the same redirects; nginx and analytics-off have
#            nothing to finish, and are given the same settle.
# Open loop: after the closed-loop runs of a workload, bench/loadgen sends
# redirects at a fixed rate, half of the highest req/s linkd (analytics on)
# reached in that workload, to nginx and to linkd in turn, for $OPEN_DUR;
# latency counts from each request's due time (no coordinated omission),
# reported as p50/p99 (Debian has no wrk2). loadgen is fasthttp's
# client on core 1; at high rates it is part of what is measured.
# The per-address redirect budget is off (--rate-redirects-per-ip off):
# all of wrk's requests come from one address. The machine is shared and
# noisy, so read the ratios, not the absolute numbers.
#
# Usage: bench/redirect.sh            (needs nginx and wrk: apt-get install -y nginx wrk)
#        DUR=10s CONNS=64 ROUNDS=2 ZIPF_N=1000000 bench/redirect.sh
#        ON_FLAGS=--analytics-day-records=false bench/redirect.sh   (extra flags of the analytics-on runs)
#        PORT=18080 NGINX_PORT=18081 RAFT_PORT=17000 (ports, to run beside another copy)
#        LINKD_BIN=/tmp/linkd-old SEED_BULK=0 bench/redirect.sh   (another build, e.g. an
#          earlier release: SEED_BULK=0 seeds one create per request, for a
#          release without the bulk API)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/nginx302.sh
DUR=${DUR:-10s}
WARM=${WARM:-3s}
CONNS=${CONNS:-64}
ROUNDS=${ROUNDS:-2}
UNIFORM_N=${UNIFORM_N:-1000}
ZIPF_N=${ZIPF_N:-1000000}
ZIPF_S=${ZIPF_S:-1.0}
SETTLE_MAX=${SETTLE_MAX:-120}
OPEN_DUR=${OPEN_DUR:-10s}
DEST='https://example.com/landing?utm_source=bench'
for tool in nginx wrk taskset curl go; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install -y nginx wrk)" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench: needs two cores (server and wrk pinned apart)" >&2; exit 1; }

OUT=$(mktemp -d)
cleanup() {
  for f in "$OUT"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  sleep 0.3
  rm -rf "$OUT"
}
trap cleanup EXIT

if [ -n "${LINKD_BIN:-}" ]; then cp "$LINKD_BIN" "$OUT/linkd"; else go build -o "$OUT/linkd" ./cmd/linkd; fi
go build -o "$OUT/seed" ./bench/seed
go build -o "$OUT/loadgen" ./bench/loadgen
TOKEN=lk_bench_token
PORT=${PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}
RAFT_PORT=${RAFT_PORT:-17000}
ON_FLAGS=${ON_FLAGS:-}
DATA="$OUT/data"

# start_linkd EXTRA... : starts linkd on $DATA pinned to core 0, waits for it.
start_linkd() {
  taskset -c 0 "$OUT/linkd" serve --data-dir "$DATA" --http-addr 127.0.0.1:$PORT \
    --raft-addr 127.0.0.1:$RAFT_PORT --admin-token "$TOKEN" --log-level warn --rate-redirects-per-ip off "$@" \
    >/dev/null 2>>"$OUT/linkd.log" &
  echo $! >"$OUT/linkd.pid"
  for _ in $(seq 300); do curl -sf http://127.0.0.1:$PORT/_/readyz >/dev/null && return 0; sleep 0.1; done
  echo "bench: linkd did not become ready; its log:" >&2; cat "$OUT/linkd.log" >&2; exit 1
}
stop_linkd() {
  kill "$(cat "$OUT/linkd.pid")"
  while kill -0 "$(cat "$OUT/linkd.pid")" 2>/dev/null; do sleep 0.1; done
  rm -f "$OUT/linkd.pid"
}

echo "seeding $UNIFORM_N + $ZIPF_N links through the API..."
start_linkd
"$OUT/seed" -server http://127.0.0.1:$PORT -token "$TOKEN" -prefix u -n "$UNIFORM_N" -url "$DEST"
"$OUT/seed" -server http://127.0.0.1:$PORT -token "$TOKEN" -prefix z -n "$ZIPF_N" -url "$DEST" -bulk "${SEED_BULK:-1000}" -c 4
[ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://127.0.0.1:$PORT/z0000000)" = "302 $DEST" ]
stop_linkd

NGINX_WORKER=$(nginx302_start "$OUT" "$NGINX_PORT" "$DEST")

TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# settle PID: waits until no click segment is left (the compactor is done)
# and the process has used no CPU for a second; prints the seconds waited.
settle() {
  local t=0 prev now
  prev=$(cpu_ticks "$1")
  while [ "$t" -lt "$SETTLE_MAX" ]; do
    sleep 1; t=$((t + 1))
    now=$(cpu_ticks "$1")
    if ! ls "$DATA/clicks" 2>/dev/null | grep -qE '[.](seg|open)$' && [ $((now - prev)) -le 1 ]; then
      echo "$t"; return 0
    fi
    prev=$now
  done
  echo "bench: server $1 still busy after ${SETTLE_MAX}s" >&2; echo "$t"
}

# wrk_run DUR URL DIST N PREFIX -> wrk's output
wrk_run() {
  DIST=$3 CODES=$4 PREFIX=$5 ZIPF_S=$ZIPF_S taskset -c 1 wrk -t1 -c"$CONNS" -d"$1" -s bench/codes.lua "$2"
}

# measure PID URL DIST N PREFIX -> "rps during_us after_us settle_s"
measure() {
  local t0 t1 t2 out reqs rps s
  wrk_run "$WARM" "$2" "$3" "$4" "$5" >/dev/null
  settle "$1" >/dev/null
  t0=$(cpu_ticks "$1")
  out=$(wrk_run "$DUR" "$2" "$3" "$4" "$5")
  t1=$(cpu_ticks "$1")
  s=$(settle "$1")
  t2=$(cpu_ticks "$1")
  if echo "$out" | grep -q 'Non-2xx or 3xx'; then
    echo "bench: non-3xx answers from $2:" >&2; echo "$out" >&2; exit 1
  fi
  reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  awk -v q="$reqs" -v r="$rps" -v d=$((t1 - t0)) -v a=$((t2 - t1)) -v hz="$TICK" -v st="$s" \
    'BEGIN { printf "%.0f %.2f %.2f %d\n", r, d / hz * 1e6 / q, a / hz * 1e6 / q, st }'
}

# open_loop URL DIST N PREFIX RATE -> "answered/s p50µs p99µs unexpected"
open_loop() {
  local z=0
  [ "$2" = zipf ] && z=$ZIPF_S
  taskset -c 1 "$OUT/loadgen" -server "${1%/}" -prefix "$4" -codes "$3" -zipf "$z" -rate "$5" -d "$OPEN_DUR" -brief
}

printf '%-8s %5s  %-14s %9s  %10s  %9s  %9s  %8s  %s\n' workload round server 'req/s' 'µs during' 'µs after' 'µs total' 'vs nginx' 'settle'
for r in $(seq "$ROUNDS"); do
  for w in uniform zipf; do
    if [ "$w" = uniform ]; then n=$UNIFORM_N; p=u; else n=$ZIPF_N; p=z; fi
    read -r nr nd na ns < <(measure "$NGINX_WORKER" "http://127.0.0.1:$NGINX_PORT/" "$w" "$n" "$p")
    [ -n "${ns:-}" ] || { echo "bench: nginx run failed" >&2; exit 1; }
    ntotal=$(awk -v d="$nd" -v a="$na" 'BEGIN { printf "%.2f", d + a }')
    printf '%-8s %5d  %-14s %9d  %10.2f  %9.2f  %9.2f  %8.2f  %ss\n' "$w" "$r" nginx "$nr" "$nd" "$na" "$ntotal" 1 "$ns"
    for mode in on off; do
      if [ $mode = on ]; then start_linkd --analytics=true $ON_FLAGS; else start_linkd --analytics=false; fi
      read -r lr ld la ls < <(measure "$(cat "$OUT/linkd.pid")" "http://127.0.0.1:$PORT/" "$w" "$n" "$p")
      [ -n "${ls:-}" ] || { echo "bench: linkd run failed" >&2; exit 1; }
      if [ $mode = on ]; then
        echo "         clicks written $(curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$PORT/_/metrics | awk '/^linkd_clicks_written_total/ { print $2 }'), dropped $(curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$PORT/_/metrics | awk '/^linkd_clicks_dropped_total/ { print $2 }') (since start)" >&2
        orate=$((lr / 2))
        read -r oa o50 o99 obad < <(open_loop "http://127.0.0.1:$PORT/" "$w" "$n" "$p" "$orate")
        open_linkd="linkd-analytics-on p50 ${o50} µs p99 ${o99} µs (${oa}/s answered, ${obad} unexpected)"
      fi
      stop_linkd
      awk -v w="$w" -v rd="$r" -v m="linkd-analytics-$mode" -v q="$lr" -v d="$ld" -v a="$la" -v nt="$ntotal" -v st="$ls" \
        'BEGIN { printf "%-8s %5d  %-14s %9d  %10.2f  %9.2f  %9.2f  %8.2f  %ss\n", w, rd, m, q, d, a, d + a, (d + a) / nt, st }'
    done
    read -r oa o50 o99 obad < <(open_loop "http://127.0.0.1:$NGINX_PORT/" "$w" "$n" "$p" "$orate")
    settle "$NGINX_WORKER" >/dev/null
    printf '%-8s %5d  open loop at %d/s: nginx p50 %d µs p99 %d µs (%s/s answered, %s unexpected); %s\n' \
      "$w" "$r" "$orate" "$o50" "$o99" "$oa" "$obad" "$open_linkd"
  done
done
