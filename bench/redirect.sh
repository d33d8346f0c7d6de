#!/usr/bin/env bash
# Redirect throughput and server CPU per request: linkd against nginx's
# `return 302`, on this machine, in one run, rounds interleaved.
#
# Method: both servers get one core (taskset -c 0; linkd with GOMAXPROCS=1,
# nginx with one worker, access log off); wrk runs on the other core
# (taskset -c 1, one thread, $CONNS keep-alive connections, $DUR per round).
# Each round measures linkd then nginx back to back; CPU per request is the
# server process's utime+stime (from /proc/PID/stat) over the requests wrk
# completed. The machine is shared and noisy, so read the ratio, not the
# absolute numbers. linkd's redirect is a hot-set hit (the code is warm).
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
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null; rm -rf "$OUT"' EXIT

go build -o "$OUT/linkd" ./cmd/linkd
TOKEN=lk_bench_token
GOMAXPROCS=1 taskset -c 0 "$OUT/linkd" serve --data-dir "$OUT/data" --http-addr 127.0.0.1:18080 \
  --raft-addr 127.0.0.1:17000 --admin-token "$TOKEN" --log-level warn 2>"$OUT/linkd.log" &
LINKD_PID=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18080/_/readyz >/dev/null && break; sleep 0.1; done
curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"url\":\"$DEST\",\"alias\":\"bench\"}" http://127.0.0.1:18080/api/v1/links >/dev/null
[ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://127.0.0.1:18080/bench)" = "302 $DEST" ]

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

echo "round  linkd_rps  nginx_rps  ratio   linkd_cpu_us/req  nginx_cpu_us/req  cpu_ratio"
for r in $(seq "$ROUNDS"); do
  read -r lr lc < <(run linkd "$LINKD_PID" http://127.0.0.1:18080/bench)
  read -r nr nc < <(run nginx "$NGINX_WORKER" http://127.0.0.1:18081/bench)
  awk -v r="$r" -v lr="$lr" -v nr="$nr" -v lc="$lc" -v nc="$nc" \
    'BEGIN { printf "%5d  %9d  %9d  %5.2f   %16.2f  %16.2f  %9.2f\n", r, lr, nr, lr/nr, lc, nc, lc/nc }'
done
