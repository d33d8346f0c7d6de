#!/usr/bin/env bash
# Public profile page serving: a 50-link profile on one node, read by wrk
# with Accept-Encoding: gzip (what browsers and CDNs send).
#
# Method: linkd (defaults: analytics on, so every view is also recorded)
# runs on core 0 with GOMAXPROCS=1; wrk runs on core 1 with one thread,
# $CONNS keep-alive connections, for $DUR after a 2 s warm-up, and reports
# throughput and its latency distribution (p50/p99 are the server's time
# plus one loopback round trip; the page is served from the rendered-page
# cache, as it is after the first view of each version). Bytes on the wire
# are the gzipped body curl receives. Also prints the cold render time
# (cache miss) from BenchmarkProfileRender for comparison.
#
# Usage: bench/profile.sh          (needs wrk: apt-get install wrk)
#        DUR=10s CONNS=32 bench/profile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-10s}
CONNS=${CONNS:-32}
for tool in wrk taskset curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install wrk)" >&2; exit 1; }
done
OUT=$(mktemp -d)
cleanup() { kill "$(cat "$OUT/pid" 2>/dev/null)" 2>/dev/null || true; sleep 0.2; rm -rf "$OUT"; }
trap cleanup EXIT
TOKEN=lk_bench_profile_token
go build -o "$OUT/linkd" ./cmd/linkd
GOMAXPROCS=1 taskset -c 0 "$OUT/linkd" serve --data-dir "$OUT/data" --http-addr 127.0.0.1:18480 \
  --raft-addr 127.0.0.1:17480 --admin-token "$TOKEN" --log-level warn >/dev/null 2>"$OUT/linkd.log" &
echo $! >"$OUT/pid"
for _ in $(seq 100); do curl -sf http://127.0.0.1:18480/_/readyz >/dev/null && break; sleep 0.1; done

hosts=(instagram.com youtube.com tiktok.com x.com github.com twitch.tv open.spotify.com soundcloud.com reddit.com example.com patreon.com linkedin.com)
links=""
for i in $(seq 0 49); do
  social=false; [ "$i" -lt 4 ] && social=true
  links+="{\"title\":\"My link number $i with a longer title\",\"url\":\"https://${hosts[$((i % 12))]}/someone/$i\",\"social\":$social},"
done
body="{\"handle\":\"bench\",\"displayName\":\"Ada Lovelace\",\"bio\":\"Mathematician. Writes about engines.\",\"theme\":\"midnight\",\"links\":[${links%,}]}"
curl -sf -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$body" \
  http://127.0.0.1:18480/api/v1/profile >/dev/null

URL=http://127.0.0.1:18480/@bench
echo "bytes on the wire (gzip): $(curl -s --compressed -o /dev/null -w '%{size_download}' "$URL")"
echo "bytes uncompressed:       $(curl -s -o /dev/null -w '%{size_download}' "$URL")"
taskset -c 1 wrk -t1 -c"$CONNS" -d2s -H 'Accept-Encoding: gzip' "$URL" >/dev/null
taskset -c 1 wrk -t1 -c"$CONNS" -d"$DUR" --latency -H 'Accept-Encoding: gzip' "$URL" |
  grep -E 'Requests/sec|Transfer/sec|^ +(50|75|90|99)%|Latency|requests in'
echo "cold render (cache miss):"
go test -run '^$' -bench BenchmarkProfileRender -benchtime 200x ./httpd/ | grep Benchmark
