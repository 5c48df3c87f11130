#!/usr/bin/env bash
# A soak under load and faults: two `onemap serve` processes on one PostGIS
# database take mixed traffic (examples/soak.rs) while the database is
# restarted and one server is killed (SIGKILL) and started again; then
# every acknowledged report must be in the database once and in both
# servers' live city, and no answer may have been a 5xx the API does not
# document. Server A's resident memory is sampled every second.
#
# Usage: bash scripts/soak.sh [SCALE] [SECONDS] [CONNECTIONS] [OUT_DIR]
#   defaults: 0.02 (a small city), 60 s, 32 connections, a temporary folder.
# The faults come at 1/3 (database restart) and 7/12 (server B killed) of
# the run. OUT_DIR keeps summary.json (the tallies), rss.csv (seconds, KiB),
# memory.csv (what server A's /metrics said each second: allocator bytes,
# snapshots held, tile cache, expensive requests running) and the servers'
# logs. Needs PostgreSQL 15 + PostGIS (installed by
# scripts/pg-test-cluster.sh) and a release build (made here).
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE="${1:-0.02}"
DURATION="${2:-60}"
CONNECTIONS="${3:-32}"
OUT="${4:-}"
fail() { echo "soak: error: $*" >&2; exit 1; }
say() { echo "soak: [$(date -u +%H:%M:%S)] $*"; }

[[ "$DURATION" =~ ^[0-9]+$ ]] && [ "$DURATION" -ge 12 ] || fail "SECONDS must be a whole number of at least 12, got '$DURATION'"
[[ "$CONNECTIONS" =~ ^[0-9]+$ ]] && [ "$CONNECTIONS" -ge 1 ] || fail "CONNECTIONS must be a positive whole number, got '$CONNECTIONS'"

WORK="$(mktemp -d)"
# The cluster runs as the postgres user, who must reach its folder.
chmod 755 "$WORK"
[ -n "$OUT" ] || OUT="$WORK/out"
mkdir -p "$OUT"
PG_DIR="$WORK/pg"
A_PID=""
B_PID=""
SAMPLER=""
cleanup() {
  for p in "$SAMPLER" "$A_PID" "$B_PID"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  bash scripts/pg-test-cluster.sh stop "$PG_DIR" >/dev/null 2>&1 || true
  rm -rf "$PG_DIR" "$WORK/city"
}
trap cleanup EXIT

say "building (release)"
cargo build --release --locked -q --bin onemap --example soak
ONEMAP="${CARGO_TARGET_DIR:-target}/release/onemap"
SOAK="${CARGO_TARGET_DIR:-target}/release/examples/soak"
PG_BIN=/usr/lib/postgresql/15/bin

say "a PostGIS cluster of its own (it is restarted during the run)"
URL="$(bash scripts/pg-test-cluster.sh start "$PG_DIR" 2>"$OUT/pg-start.log")" || fail "could not start PostgreSQL + PostGIS"
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$URL" -c 'CREATE DATABASE soak' >/dev/null
DB="${URL%/*}/soak"
psql_db() { "$PG_BIN/psql" -X -q -t -A -v ON_ERROR_STOP=1 "$DB" -c "$1"; }

say "city at scale $SCALE into the database"
"$ONEMAP" synth --seed 1 --scale "$SCALE" --out "$WORK/city" >/dev/null
"$ONEMAP" db migrate --postgres "$DB" >/dev/null 2>&1 || fail "onemap db migrate failed"
"$ONEMAP" import --postgres "$DB" "$WORK/city" >/dev/null 2>&1 || fail "onemap import failed"

# The place reports are made at, its unit and town, and their tokens.
LON=119.0
LAT=25.45
PLACE="$("$ONEMAP" query locate "$LON" "$LAT" --data "$WORK/city")"
read -r UNIT TOWN < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["unit"]["id"], d["town"]["id"])' "$PLACE") \
  || fail "($LON, $LAT) is not inside a unit of the city: $PLACE"
LEADER="$("$ONEMAP" token create --role unit_leader --scope "area:$UNIT" --name soak-leader --postgres "$DB" 2>/dev/null)"
OFFICE="$("$ONEMAP" token create --role town_office --scope "area:$TOWN" --name soak-office --postgres "$DB" 2>/dev/null)"

# Starts a server on port $2 (0: any), logging to $1; prints "PID ADDR".
start_server() {
  local log="$1" bind="127.0.0.1:$2"
  "$ONEMAP" serve --postgres "$DB" --bind "$bind" --reconnect-secs 1 >>"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 150); do
    local addr
    addr="$(sed -n 's/^listening on //p' "$log" | tail -n 1)"
    if [ -n "$addr" ] && [ "$(grep -c '^listening on ' "$log")" -ge "${3:-1}" ]; then
      echo "$pid ${addr#http://}"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.2
  done
  cat "$log" >&2
  return 1
}

say "two servers on the database"
: >"$OUT/server-a.log"
: >"$OUT/server-b.log"
read -r A_PID A_ADDR < <(start_server "$OUT/server-a.log" 0) || fail "server A did not start"
read -r B_PID B_ADDR < <(start_server "$OUT/server-b.log" 0) || fail "server B did not start"
say "A $A_ADDR (pid $A_PID), B $B_ADDR (pid $B_PID)"

# Server A's resident memory every second, and what its /metrics says
# holds it: the allocator's live bytes and resident pages, the snapshots
# requests still hold, the tile cache.
echo "seconds,rss_kib" >"$OUT/rss.csv"
echo "seconds,allocated,resident,snapshots,tile_cache,expensive" >"$OUT/memory.csv"
(
  t0=$SECONDS
  while kill -0 "$A_PID" 2>/dev/null; do
    rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$A_PID/status" 2>/dev/null || true)"
    [ -n "$rss" ] && echo "$((SECONDS - t0)),$rss" >>"$OUT/rss.csv"
    curl -s -m 1 "http://$A_ADDR/metrics" 2>/dev/null | awk -v t=$((SECONDS - t0)) '
      $1 == "onemap_allocator_allocated_bytes" { a = $2 }
      $1 == "onemap_allocator_resident_bytes" { r = $2 }
      $1 == "onemap_snapshots_alive" { s = $2 }
      $1 == "onemap_tile_cache_bytes" { c = $2 }
      $1 == "onemap_http_expensive_requests" { e = $2 }
      END { if (a != "") print t "," a "," r "," s "," c "," e }' >>"$OUT/memory.csv" || true
    sleep 1
  done
) &
SAMPLER=$!

say "load: $CONNECTIONS connections for ${DURATION}s"
"$SOAK" --url "$A_ADDR" --url2 "$B_ADDR" --leader "$LEADER" --office "$OFFICE" \
  --lon "$LON" --lat "$LAT" --connections "$CONNECTIONS" --seconds "$DURATION" \
  --summary "$OUT/summary.json" &
LOAD=$!

sleep $((DURATION / 3))
say "fault: the database stops (fast shutdown) for 3 s, then starts again"
bash scripts/pg-test-cluster.sh pause "$PG_DIR" >/dev/null 2>&1 || fail "could not stop the database"
sleep 3
bash scripts/pg-test-cluster.sh resume "$PG_DIR" >/dev/null 2>&1 || fail "could not start the database again"
sleep $((DURATION * 7 / 12 - DURATION / 3))
say "fault: server B killed (SIGKILL) and started again on ${B_ADDR##*:}"
kill -9 "$B_PID"
wait "$B_PID" 2>/dev/null || true
read -r B_PID _ < <(start_server "$OUT/server-b.log" "${B_ADDR##*:}" 2) || fail "server B did not start again"

LOAD_STATUS=0
wait "$LOAD" || LOAD_STATUS=$?
cat "$OUT/summary.json" 2>/dev/null || true
[ "$LOAD_STATUS" -eq 0 ] || fail "the load found answers outside the API or acknowledged changes lost (see the summary above; logs in $OUT)"

# In the database: every acknowledged report once, and as many events in
# each server's live city as in the database.
ACKED="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reports_acknowledged"])' "$OUT/summary.json")"
IN_DB="$(psql_db "SELECT count(*) FROM event_reports WHERE idempotency_key LIKE 'soak-%'")"
TOTAL_DB="$(psql_db "SELECT count(*) FROM events")"
say "reports acknowledged $ACKED, soak reports in the database $IN_DB, events in the database $TOTAL_DB"
[ "$ACKED" -gt 0 ] || fail "no report was acknowledged: the load did not reach the event loop"
# More in the database than acknowledged is a report whose answer was lost
# on every try; fewer would be a lost change.
[ "$IN_DB" -ge "$ACKED" ] || fail "$ACKED reports acknowledged but only $IN_DB in the database"
for addr in "$A_ADDR" "$B_ADDR"; do
  live="$(curl -sf "http://$addr/api/stats?by=district" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["overall"]["total"])')" \
    || fail "cannot read the stats of $addr"
  [ "$live" -eq "$TOTAL_DB" ] || fail "$addr's live city holds $live events, the database $TOTAL_DB"
done
say "ok: nothing acknowledged lost or doubled, both live cities hold the database's $TOTAL_DB events; peak RSS of A $(sort -t, -k2 -n "$OUT/rss.csv" | tail -n 1 | cut -d, -f2) KiB"
