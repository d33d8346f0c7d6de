#!/usr/bin/env bash
# Scale benchmark: N links (default 10,000,000) in one linkd node, loaded
# through the real write path (POST /api/v1/links/bulk, 1,000 links per raft
# entry), then:
#   - load rate (links/s) and the CPU the node spent per link;
#   - disk bytes (fsm = Pebble, raft = bolt log + snapshots) per link;
#   - RSS after the load and after a restart (default hot set), and its
#     anonymous and file-mapped parts;
#   - restart time (process start until /_/readyz answers);
#   - redirects over the whole key space, open loop (bench/loadgen -rate):
#     uniform over all N codes (nearly every request a hot-set miss) at
#     $RATE/s, and Zipf (s = 1.1) over all N codes at $RATE/s: p50/p99 and
#     server CPU per redirect (analytics on, as shipped); then the same two
#     runs against linkd --analytics=false and against nginx's `return 302`
#     (one worker, on the node's core) as baselines;
#   - listing and analytics query latency for the user who owns all N links
#     (the admin): first page, 100 pages deep by cursor, a search that
#     matches nothing (bounded scan), one link's analytics;
#   - a raft snapshot of the whole state (size, time) and a fresh second
#     node joining the cluster: time until it is ready (snapshot shipped,
#     installed, log caught up) and serves the last code;
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
. bench/nginx302.sh
for tool in nginx taskset curl go; do
  command -v "$tool" >/dev/null || { echo "scale: $tool is missing (apt-get install -y nginx)" >&2; exit 1; }
done
N=${N:-10000000}
RATE=${RATE:-2000}
DUR=${DUR:-20s}
CONC=${CONC:-4}
DIR=${DIR:-$(mktemp -d /var/tmp/linkd-scale.XXXXXX)}
PORT=${PORT:-18090}
RAFT=${RAFT:-17090}
NGINX_PORT=${NGINX_PORT:-18093}
TOKEN=lk_scale_bench_token
# The node runs with a cluster secret so a second node can join it later.
export LINKD_CLUSTER_SECRET=scale-bench-cluster-secret-0123456789abcdef
mkdir -p "$DIR"
BIN="$DIR/bin"
mkdir -p "$BIN"
# Built as shipped (the Docker image, the README): CGO_ENABLED=0, so
# Pebble's block cache and memtables are on the Go heap, under --memory-limit-mib.
CGO_ENABLED=0 go build -o "$BIN/linkd" ./cmd/linkd
go build -o "$BIN/seed" ./bench/seed
go build -o "$BIN/loadgen" ./bench/loadgen
DATA="$DIR/data"
cleanup() { for f in "$DIR"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done; }
trap cleanup EXIT

TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# rss_mib PID: resident MiB, split into anonymous memory (the Go heap, with
# Pebble's cache and memtables in a CGO_ENABLED=0 build; the hot set) and
# file pages mapped (bbolt maps the raft log file: page cache the kernel
# reclaims, not the process's own memory).
rss_mib() {
  awk '/^VmRSS/ { r = $2 } /^RssAnon/ { a = $2 } /^RssFile/ { f = $2 }
    END { printf "%.0f MiB (anonymous %.0f, file-mapped %.0f)", r / 1024, a / 1024, f / 1024 }' "/proc/$1/status"
}
now_ms() { date +%s%3N; }
# start_linkd DATA-DIR [FLAGS...] -> prints ms until ready. Node n1 on core
# 0; its log (info level: raft's snapshot lines are timed from it) goes to
# $DIR/linkd.log.
start_linkd() {
  local t0 data=$1; shift; t0=$(now_ms)
  taskset -c 0 "$BIN/linkd" serve --node-id n1 --data-dir "$data" --http-addr 127.0.0.1:$PORT --raft-addr 127.0.0.1:$RAFT \
    --admin-token "$TOKEN" --log-level info --rate-redirects-per-ip off "$@" >/dev/null 2>>"$DIR/linkd.log" &
  echo $! >"$DIR/linkd.pid"
  wait_ready $PORT "$DIR/linkd.log" "$t0"
}
wait_ready() { # PORT LOG T0 -> prints ms since T0 when /_/readyz answers 200
  for _ in $(seq 12000); do
    if curl -sf "http://127.0.0.1:$1/_/readyz" >/dev/null; then echo $(($(now_ms) - $3)); return 0; fi
    sleep 0.05
  done
  echo "scale: linkd did not become ready; its log:" >&2; tail -20 "$2" >&2; exit 1
}
stop_pid() { # PID-FILE (read once: nginx removes its own as it exits)
  local pid; pid=$(cat "$1")
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$1"
}
stop_linkd() { stop_pid "$DIR/linkd.pid"; }
# log_ms LOG PATTERN: the time of the last log line matching PATTERN, in ms
# since the epoch (slog text lines start with time=RFC 3339).
log_ms() {
  local t; t=$(grep -- "$2" "$1" | tail -1 | sed -E 's/^time=([^ ]+) .*/\1/')
  [ -n "$t" ] && date -d "$t" +%s%3N
}
# latency_ms PATH: one API request's time in ms (fails on a non-200 answer)
latency_ms() {
  curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$1" |
    awk '{ printf "%.1f", $1 * 1000 }'
}
du_bytes() { du -sb "$1" | awk '{ print $1 }'; }
# redirects NAME PORT PID LOADGEN-ARGS...: open-loop run against the server
# on PORT, prints the line and the CPU per redirect of process PID
redirects() {
  local name=$1 port=$2 pid=$3 c0 c1 out sent; shift 3
  taskset -c 1 "$BIN/loadgen" -server http://127.0.0.1:$port -prefix s -codes "$N" -d 5s "$@" >/dev/null # warm
  c0=$(cpu_ticks "$pid")
  out=$(taskset -c 1 "$BIN/loadgen" -server http://127.0.0.1:$port -prefix s -codes "$N" -d "$DUR" "$@")
  sleep 3 # let the click pipeline seal and apply what the run recorded
  c1=$(cpu_ticks "$pid")
  sent=$(echo "$out" | sed -E 's/.*: ([0-9]+) sent.*/\1/')
  echo "| $name | $out | $(awk -v d=$((c1 - c0)) -v hz="$TICK" -v q="$sent" 'BEGIN { printf "%.1f", d / hz * 1e6 / q }') |"
}
# both_workloads NAME PORT PID: the uniform and the Zipf run
both_workloads() {
  redirects "$1, uniform, $RATE/s" "$2" "$3" -rate "$RATE"
  redirects "$1, Zipf s=1.1, $RATE/s" "$2" "$3" -rate "$RATE" -zipf 1.1
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
echo "| server, workload | loadgen | server CPU µs/redirect |"
echo "|---|---|---|"
both_workloads "linkd" $PORT "$PID"
RSS_RUN=$(rss_mib "$PID")
echo
echo "## Queries for the user who owns all $N links"
echo
echo "| query | latency |"
echo "|---|---|"
echo "| first page, 100 links | $(latency_ms '/api/v1/links?limit=100') ms |"
# 100 pages deep by cursor: p50 and max of the pages
CUR=""; : >"$DIR/pages.txt"
for _ in $(seq 100); do
  q="/api/v1/links?limit=100${CUR:+&cursor=$CUR}"
  out=$(curl -sf -w '\n%{time_total}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$q")
  echo "$out" | tail -1 >>"$DIR/pages.txt"
  CUR=$(echo "$out" | head -n -1 | sed -nE 's/.*"nextCursor":"([^"]+)".*/\1/p')
  [ -n "$CUR" ] || break
done
sort -n "$DIR/pages.txt" | awk '{ v[NR] = $1 * 1000 } END { printf "| pages 1-%d by cursor (100 links each) | p50 %.1f ms, max %.1f ms |\n", NR, v[int((NR + 1) / 2)], v[NR] }'
echo "| search matching nothing (scans $(grep -o 'MaxListScan = [0-9]*' store/read.go | awk '{print $3}') links, answers a cursor) | $(latency_ms '/api/v1/links?limit=100&q=no-such-link') ms |"
echo "| one link's analytics, 30 days by day | $(latency_ms '/api/v1/links/s0000000/analytics?interval=day') ms |"
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
echo "| RSS after loading | $RSS_LOADED |"
echo "| RSS after the redirect runs | $RSS_RUN |"
echo "| restart until ready | $RESTART ms |"
echo "| RSS after restart | $RSS_RESTART |"
echo
# Baselines for the redirect runs, at the same rate over the same codes:
# linkd with --analytics=false, and nginx's `return 302` on the same core.
stop_linkd
start_linkd "$DATA" --analytics=false >/dev/null
echo "## Baselines for the redirect runs"
echo
echo "| server, workload | loadgen | server CPU µs/redirect |"
echo "|---|---|---|"
both_workloads "linkd --analytics=false" $PORT "$(cat "$DIR/linkd.pid")"
NGINX_WORKER=$(nginx302_start "$DIR" "$NGINX_PORT" https://example.com/)
both_workloads "nginx return 302" $NGINX_PORT "$NGINX_WORKER"
stop_pid "$DIR/nginx.pid"
echo
# A raft snapshot of the whole state, then a fresh node joining: restart n1
# with a low snapshot threshold so it snapshots everything within seconds,
# and trailing logs of 1 so a joining node can only catch up from it.
stop_linkd
: >"$DIR/linkd.log"
start_linkd "$DATA" --snapshot-threshold 16 --snapshot-interval 2s --raft-trailing-logs 1 >/dev/null
PID=$(cat "$DIR/linkd.pid")
for _ in $(seq 3000); do grep -q 'snapshot complete up to' "$DIR/linkd.log" && break; sleep 0.2; done
SNAP_MS=$(($(log_ms "$DIR/linkd.log" 'snapshot complete up to') - $(log_ms "$DIR/linkd.log" 'starting snapshot up to')))
SNAPB=$(du_bytes "$DATA/raft/snapshots")
PORT2=$((PORT + 1)); RAFT2=$((RAFT + 1))
rm -rf "$DIR/data2"; : >"$DIR/linkd2.log"
T0=$(now_ms)
taskset -c 1 "$BIN/linkd" serve --node-id n2 --data-dir "$DIR/data2" --http-addr 127.0.0.1:$PORT2 --raft-addr 127.0.0.1:$RAFT2 \
  --join 127.0.0.1:$RAFT --log-level info >/dev/null 2>>"$DIR/linkd2.log" &
echo $! >"$DIR/linkd2.pid"
JOIN_MS=$(wait_ready $PORT2 "$DIR/linkd2.log" "$T0")
[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT2/s$(printf %07d $((N - 1))))" = 302 ]
RSS_JOINED=$(rss_mib "$(cat "$DIR/linkd2.pid")")
INSTALL_MS=""
if a=$(log_ms "$DIR/linkd2.log" 'copied to local snapshot') && b=$(log_ms "$DIR/linkd2.log" 'Installed remote snapshot'); then
  INSTALL_MS=" (of which restoring the received snapshot: $((b - a)) ms)"
fi
# n1 alone is a majority again only once n2 is out of the configuration
curl -sf -X DELETE -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$PORT/api/v1/cluster/members/n2 >/dev/null
stop_pid "$DIR/linkd2.pid"
echo "## Snapshot and a joining node"
echo
echo "| | value |"
echo "|---|---|"
awk -v b="$SNAPB" -v n="$N" 'BEGIN { printf "| raft snapshot of the whole state | %.2f GiB, %.0f bytes/link |\n", b / 2^30, b / n }'
echo "| taking it (raft: starting → complete) | $SNAP_MS ms |"
echo "| fresh node: start until ready, having caught up from it | $JOIN_MS ms$INSTALL_MS |"
echo "| fresh node's RSS when ready | $RSS_JOINED |"
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
