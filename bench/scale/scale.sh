#!/usr/bin/env bash
# Scale benchmark: N links (default 10,000,000) in one linkd node, loaded
# through the real write path (POST /api/v1/links/bulk, 1,000 links per raft
# entry), then:
#   - load rate (links/s) and the CPU the node spent per link;
#   - disk bytes (fsm = Pebble, raft = bolt log + snapshots) per link;
#   - RSS after the load and after a restart (default hot set);
#   - restart time (process start until /_/readyz answers);
#   - redirects over the whole key space, open loop (bench/loadgen -rate):
#     uniform over all N codes (nearly every request a hot-set miss) at
#     $RATE/s, and Zipf (s = 1.1) over all N codes at $RATE/s: p50/p99 and
#     server CPU per redirect (analytics on, as shipped);
#   - backup (linkd backup: the snapshot stream over HTTP) size and time,
#     and restore (linkd restore into a new data directory) time.
# Not in CI: it takes a long time and several GB of disk. The node is pinned
# to core 0 (GOMAXPROCS=1 is not set: loading uses both cores' worth of
# raft/Pebble goroutines), the generators to core 1.
#
# Usage: bench/scale/scale.sh                      (N=10000000)
#        N=1000000 RATE=2000 DIR=/var/tmp/scale bench/scale/scale.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-10000000}
RATE=${RATE:-2000}
DUR=${DUR:-20s}
CONC=${CONC:-4}
DIR=${DIR:-$(mktemp -d /var/tmp/linkd-scale.XXXXXX)}
PORT=${PORT:-18090}
RAFT=${RAFT:-17090}
TOKEN=lk_scale_bench_token
mkdir -p "$DIR"
BIN="$DIR/bin"
mkdir -p "$BIN"
go build -o "$BIN/linkd" ./cmd/linkd
go build -o "$BIN/seed" ./bench/seed
go build -o "$BIN/loadgen" ./bench/loadgen
DATA="$DIR/data"
cleanup() { [ -f "$DIR/linkd.pid" ] && kill "$(cat "$DIR/linkd.pid")" 2>/dev/null || true; }
trap cleanup EXIT

TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_mib() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
now_ms() { date +%s%3N; }
start_linkd() { # DATA-DIR -> prints ms until ready
  local t0; t0=$(now_ms)
  taskset -c 0 "$BIN/linkd" serve --data-dir "$1" --http-addr 127.0.0.1:$PORT --raft-addr 127.0.0.1:$RAFT \
    --admin-token "$TOKEN" --log-level warn --rate-redirects-per-ip off >/dev/null 2>>"$DIR/linkd.log" &
  echo $! >"$DIR/linkd.pid"
  for _ in $(seq 6000); do
    if curl -sf http://127.0.0.1:$PORT/_/readyz >/dev/null; then echo $(($(now_ms) - t0)); return 0; fi
    sleep 0.05
  done
  echo "scale: linkd did not become ready; its log:" >&2; tail -20 "$DIR/linkd.log" >&2; exit 1
}
stop_linkd() {
  kill "$(cat "$DIR/linkd.pid")"
  while kill -0 "$(cat "$DIR/linkd.pid")" 2>/dev/null; do sleep 0.1; done
  rm -f "$DIR/linkd.pid"
}
du_bytes() { du -sb "$1" | awk '{ print $1 }'; }
# redirects NAME LOADGEN-ARGS...: open-loop run, prints the line and CPU/redirect
redirects() {
  local name=$1 pid c0 c1 out sent; shift
  pid=$(cat "$DIR/linkd.pid")
  taskset -c 1 "$BIN/loadgen" -server http://127.0.0.1:$PORT -prefix s -codes "$N" -d 5s "$@" >/dev/null # warm
  c0=$(cpu_ticks "$pid")
  out=$(taskset -c 1 "$BIN/loadgen" -server http://127.0.0.1:$PORT -prefix s -codes "$N" -d "$DUR" "$@")
  sleep 3 # let the click pipeline seal and apply what the run recorded
  c1=$(cpu_ticks "$pid")
  sent=$(echo "$out" | sed -E 's/.*: ([0-9]+) sent.*/\1/')
  echo "| $name | $out | $(awk -v d=$((c1 - c0)) -v hz="$TICK" -v q="$sent" 'BEGIN { printf "%.1f", d / hz * 1e6 / q }') |"
}

echo "# linkd scale benchmark: $N links"
echo
echo "- when: $(date -u '+%F %T UTC'); commit $(git rev-parse --short HEAD); $(nproc) cores; load at start: $(uptime | sed 's/.*load average: //')"
echo "- command: \`N=$N RATE=$RATE DUR=$DUR CONC=$CONC bench/scale/scale.sh\`"
echo
start_linkd "$DATA" >/dev/null
PID=$(cat "$DIR/linkd.pid")
C0=$(cpu_ticks "$PID"); T0=$(now_ms)
"$BIN/seed" -server http://127.0.0.1:$PORT -token "$TOKEN" -prefix s -n "$N" -bulk 1000 -c "$CONC" | tee "$DIR/seed.txt" >&2
T1=$(now_ms); C1=$(cpu_ticks "$PID")
[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/s0000000)" = 302 ]
echo "## Load (bulk API, 1,000 links per request, $CONC clients)"
echo
awk -v n="$N" -v ms=$((T1 - T0)) -v d=$((C1 - C0)) -v hz="$TICK" 'BEGIN {
  printf "| links | wall | links/s | node CPU per link |\n|---|---|---|---|\n| %d | %.1f s | %.0f | %.1f µs |\n", n, ms / 1000, n / (ms / 1000), d / hz * 1e6 / n }'
echo
echo "load average after loading: $(uptime | sed 's/.*load average: //')"
echo
RSS_LOADED=$(rss_mib "$PID")
echo "## Redirects over all $N codes (open loop, analytics on)"
echo
echo "| workload | loadgen | node CPU µs/redirect |"
echo "|---|---|---|"
redirects "uniform, $RATE/s" -rate "$RATE"
redirects "Zipf s=1.1, $RATE/s" -rate "$RATE" -zipf 1.1
RSS_RUN=$(rss_mib "$PID")
echo
stop_linkd
FSM=$(du_bytes "$DATA/fsm"); RAFTB=$(du_bytes "$DATA/raft")
RESTART=$(start_linkd "$DATA")
PID=$(cat "$DIR/linkd.pid")
RSS_RESTART=$(rss_mib "$PID")
echo "## Disk, memory, restart"
echo
echo "| | value |"
echo "|---|---|"
awk -v f="$FSM" -v r="$RAFTB" -v n="$N" 'BEGIN {
  printf "| fsm (Pebble) | %.2f GiB, %.0f bytes/link |\n| raft (bolt log + snapshots) | %.2f GiB, %.0f bytes/link |\n", f / 2^30, f / n, r / 2^30, r / n }'
echo "| RSS after loading | $RSS_LOADED MiB |"
echo "| RSS after the redirect runs | $RSS_RUN MiB |"
echo "| restart until ready | $RESTART ms |"
echo "| RSS after restart | $RSS_RESTART MiB |"
echo
T0=$(now_ms)
"$BIN/linkd" backup --server http://127.0.0.1:$PORT --token "$TOKEN" -o "$DIR/scale.backup" >/dev/null
T1=$(now_ms)
stop_linkd
rm -rf "$DIR/restored"
T2=$(now_ms)
"$BIN/linkd" restore "$DIR/scale.backup" --data-dir "$DIR/restored" >/dev/null
T3=$(now_ms)
RESTORED_START=$(start_linkd "$DIR/restored")
[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/s$(printf %07d $((N - 1))))" = 302 ]
stop_linkd
echo "## Backup and restore"
echo
echo "| | value |"
echo "|---|---|"
awk -v b="$(du_bytes "$DIR/scale.backup")" -v n="$N" 'BEGIN { printf "| backup size | %.2f GiB, %.0f bytes/link |\n", b / 2^30, b / n }'
echo "| backup (GET /api/v1/backup to a file) | $((T1 - T0)) ms |"
echo "| restore (linkd restore into an empty data dir) | $((T3 - T2)) ms |"
echo "| restored node start until ready | $RESTORED_START ms |"
echo
echo "load average at the end: $(uptime | sed 's/.*load average: //')"
