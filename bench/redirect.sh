#!/usr/bin/env bash
# Redirect throughput and server CPU per request: linkd with analytics on,
# linkd with analytics off (--analytics=false) and nginx's `return 302`, on
# this machine, in one run, rounds interleaved.
#
# Method: both servers get one core (taskset -c 0; linkd with GOMAXPROCS=1,
# nginx with one worker, access log off); wrk runs on the other core
# (taskset -c 1, one thread, $CONNS keep-alive connections, $DUR per round).
# Each round measures linkd then nginx back to back; CPU per request is the
# server process's utime+stime (from /proc/PID/stat) over the requests wrk
# completed. The machine is shared and noisy, so read the ratio, not the
# absolute numbers. linkd's redirect is a hot-set hit (the code is warm).
# The per-address redirect budget is off (--rate-redirects-per-ip off): all
# of wrk's requests come from one address. Its cost is in
# BenchmarkRedirectHit/analytics=off,ratelimit=on.
#
# Usage: bench/redirect.sh            (needs nginx and wrk: apt-get install nginx-light wrk)
#        DUR=10s CONNS=64 ROUNDS=3 bench/redirect.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-10s}
CONNS=${CONNS:-64}
ROUNDS=${ROUNDS:-3}
DEST='https://example.com/landing?utm_source=bench'
for tool in nginx wrk taskset; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install nginx-light wrk)" >&2; exit 1; }
done

OUT=$(mktemp -d)
cleanup() {
  kill $(cat "$OUT"/*.pid 2>/dev/null) 2>/dev/null || true
  sleep 0.2
  rm -rf "$OUT"
}
trap cleanup EXIT

go build -o "$OUT/linkd" ./cmd/linkd
TOKEN=lk_bench_token
# start_linkd PORT RAFTPORT EXTRA... -> prints the pid
start_linkd() {
  local port=$1 raft=$2; shift 2
  GOMAXPROCS=1 taskset -c 0 "$OUT/linkd" serve --data-dir "$OUT/data-$port" --http-addr 127.0.0.1:$port \
    --raft-addr 127.0.0.1:$raft --admin-token "$TOKEN" --log-level warn --rate-redirects-per-ip off "$@" >/dev/null 2>"$OUT/linkd-$port.log" &
  echo $! | tee "$OUT/linkd-$port.pid"
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/_/readyz >/dev/null && break; sleep 0.1; done
  curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"url\":\"$DEST\",\"alias\":\"bench\"}" http://127.0.0.1:$port/api/v1/links >/dev/null
  [ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://127.0.0.1:$port/bench)" = "302 $DEST" ]
}
LINKD_PID=$(start_linkd 18080 17000)
OFF_PID=$(start_linkd 18082 17002 --analytics=false)

cat >"$OUT/nginx.conf" <<CONF
worker_processes 1;
pid $OUT/nginx.pid;
error_log $OUT/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:18081;
    location / { return 302 '$DEST'; }
  }
}
CONF
taskset -c 0 nginx -c "$OUT/nginx.conf" -p "$OUT"
sleep 0.3
NGINX_WORKER=$(pgrep -P "$(cat "$OUT/nginx.pid")" | head -1)
[ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://127.0.0.1:18081/bench)" = "302 $DEST" ]

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# run NAME PID URL -> prints "rps cpu_us_per_req"
run() {
  local before after out reqs rps
  before=$(cpu_ticks "$2")
  out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"$DUR" "$3")
  after=$(cpu_ticks "$2")
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  if echo "$out" | grep -q 'Non-2xx or 3xx'; then :; fi
  awk -v r="$reqs" -v rps="$rps" -v t=$((after - before)) -v hz="$TICK" \
    'BEGIN { printf "%.0f %.2f\n", rps, (t / hz) * 1e6 / r }'
}

echo "round  linkd_rps  linkd_noanalytics_rps  nginx_rps  linkd/nginx  on/off   linkd_cpu_us/req  noanalytics_cpu_us/req  nginx_cpu_us/req"
for r in $(seq "$ROUNDS"); do
  read -r lr lc < <(run linkd "$LINKD_PID" http://127.0.0.1:18080/bench)
  read -r or oc < <(run linkd-off "$OFF_PID" http://127.0.0.1:18082/bench)
  read -r nr nc < <(run nginx "$NGINX_WORKER" http://127.0.0.1:18081/bench)
  awk -v r="$r" -v lr="$lr" -v or="$or" -v nr="$nr" -v lc="$lc" -v oc="$oc" -v nc="$nc" \
    'BEGIN { printf "%5d  %9d  %21d  %9d  %11.2f  %6.2f   %16.2f  %22.2f  %16.2f\n", r, lr, or, nr, lr/nr, lr/or, lc, oc, nc }'
done
echo "clicks recorded by the analytics node: $(curl -s http://127.0.0.1:18080/_/metrics | awk '/^linkd_clicks_written_total/ {print $2}'), dropped: $(curl -s http://127.0.0.1:18080/_/metrics | awk '/^linkd_clicks_dropped_total/ {print $2}')"
