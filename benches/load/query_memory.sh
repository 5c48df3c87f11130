#!/usr/bin/env bash
# What one heavy query holds while it is worked: each query of the list is
# asked 6 times by each of 2 clients (the default --max-queries on 2 cores),
# and the server's /metrics is read every 20 ms; printed is the most the
# allocator held above what it held before, and one answer's time.
# Usage: bash benches/load/query_memory.sh [URL] (a running `onemap serve`
# built with the workspace's jemalloc: /metrics has
# onemap_allocator_allocated_bytes). BENCHMARKS.md has the figures.
set -euo pipefail
URL="${1:-http://127.0.0.1:18080}"
allocated() { curl -sf "$URL/metrics" | awk '$1 == "onemap_allocator_allocated_bytes" { print $2 }'; }
[ -n "$(allocated)" ] || { echo "query_memory: $URL/metrics has no allocator figures" >&2; exit 1; }
QUERIES=(
  "/api/hotspots?place=h3:12&min_count=1&limit=10000"
  "/api/hotspots?place=h3:11&min_count=1&limit=10000"
  "/api/stats?by=grid"
  "/api/features/events?bbox=118.8,25.2,119.4,25.7&limit=10000"
  "/api/features/units?area=350304&limit=10000"
  "/api/nearest/events?lon=119.0&lat=25.45&k=10000"
  "/api/areas/search?q=%E6%9D%91&limit=10000"
)
for q in "${QUERIES[@]}"; do
  base="$(allocated)"
  for _ in 1 2; do
    ( for _ in 1 2 3 4 5 6; do curl -s -o /dev/null "$URL$q"; done ) &
  done
  max="$base"
  while [ -n "$(jobs -r)" ]; do
    a="$(allocated)"
    [ "$a" -gt "$max" ] && max="$a"
    sleep 0.02
  done
  wait
  t="$(curl -s -o /dev/null -w '%{time_total}' "$URL$q")"
  echo "$(( (max - base) >> 20 )) MiB  ${t} s  $q"
done
