#!/usr/bin/env bash
# The main job: build onemap, generate the demo city if it is missing, and
# serve it to the web viewer with the demo fleet moving and the day's
# events going through the loop.
# Usage: bash scripts/run.sh   (DATA=dir, BIND=addr, SIMULATE=0 for a still
# city, UNTIL=YYYY-MM-DD for the last day of a new city's history: yesterday
# by default)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DATA:-data/generated/putian}"

command -v cargo >/dev/null || { echo "error: cargo (Rust) is required: https://rustup.rs" >&2; exit 1; }

echo "==> building onemap (release)"
cargo build --release --locked --bin onemap
ONEMAP="${CARGO_TARGET_DIR:-target}/release/onemap"

if [ ! -f "$DATA/city.json" ]; then
  # The history ends yesterday (China time): the same seed and day give the
  # same bytes, and city.json records the day.
  UNTIL="${UNTIL:-$(TZ=Asia/Shanghai date -d yesterday +%F)}"
  echo "==> generating the demo city into $DATA (full scale: 130,000 units, 1,000,000 events, history through $UNTIL)"
  "$ONEMAP" synth --seed 1 --until "$UNTIL" --out "$DATA"
  echo "==> checking the new city"
  "$ONEMAP" validate "$DATA"
else
  echo "==> demo city already present in $DATA (onemap validate $DATA checks it)"
fi
if [ ! -f "$DATA/ledgers/homesteads.arrow" ]; then
  # A city written before the one table (or before its places' ledgers):
  # its ledgers, from its own seed.
  echo "==> generating the one table's ledgers into $DATA/ledgers (3.27 million synthetic people)"
  "$ONEMAP" ledgers build --data "$DATA"
fi

echo "==> installing the viewer's assets (MapLibre GL JS from npm)"
command -v npm >/dev/null || { echo "error: npm (Node.js) is required for the web viewer" >&2; exit 1; }
(cd viewer && npm ci --no-audit --no-fund)

BIND="${BIND:-127.0.0.1:8080}"
# The demo fleet's feed: one ship_feed token, made once and kept beside the
# city (only its hash is in the store).
TOKEN_FILE="$DATA/.demo-ship-feed-token"
if [ ! -s "$TOKEN_FILE" ]; then
  (umask 077 && "$ONEMAP" token create --role ship_feed --scope city --name "demo fleet simulator" \
    --data "$DATA" 2>/dev/null >"$TOKEN_FILE.tmp") && mv "$TOKEN_FILE.tmp" "$TOKEN_FILE"
fi

# Demo accounts to sign in with (登录), made once per city with a random
# password kept beside it: a unit leader of the grid at the city's middle,
# the office of its town, and a department events are routed to.
ACCOUNTS="$DATA/.demo-accounts"
LOOP_TOKENS="$DATA/.demo-loop-tokens.json"
GRID="" TOWN=""
if [ ! -s "$ACCOUNTS" ] || [ ! -s "$LOOP_TOKENS" ]; then
  PLACE="$("$ONEMAP" query locate 119.0 25.45 --data "$DATA" | tr -d ' \n')"
  GRID="$(grep -o '"grid":{"id":[0-9]*' <<<"$PLACE" | grep -o '[0-9]*$' || true)"
  TOWN="$(grep -o '"town":{"id":[0-9]*' <<<"$PLACE" | grep -o '[0-9]*$' || true)"
fi
if [ ! -s "$ACCOUNTS" ]; then
  if [ -n "$GRID" ] && [ -n "$TOWN" ]; then
    PW="$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 14)"
    account() { # name, display name, role, scope
      ONEMAP_PASSWORD="$PW" "$ONEMAP" user create --name "$1" --display-name "$2" --role "$3" \
        --scope "$4" --data "$DATA" 2>/dev/null \
        || ONEMAP_PASSWORD="$PW" "$ONEMAP" user passwd "$1" --data "$DATA" 2>/dev/null
    }
    account leader 演示单元长 unit_leader "area:$GRID" \
      && account office 演示镇街 town_office "area:$TOWN" \
      && account water 演示水务局 department "department:水务局" \
      && (umask 077 && printf 'leader, office, water: password %s\n' "$PW" >"$ACCOUNTS")
  fi
fi
# The loop simulator's tokens (only their hashes are in the store): the
# demo unit leader's grid, its town's office, and the departments.
if [ ! -s "$LOOP_TOKENS" ] && [ -n "$GRID" ] && [ -n "$TOWN" ]; then
  tok() { "$ONEMAP" token create --role "$1" --scope "$2" --name "$3" --data "$DATA" 2>/dev/null; }
  {
    printf '{"leader": {"token": "%s", "area": "%s"},\n' "$(tok unit_leader "area:$GRID" "演示单元长（模拟）")" "$GRID"
    printf ' "office": {"token": "%s"},\n "departments": {' "$(tok town_office "area:$TOWN" "演示镇街（模拟）")"
    sep=""
    for d in 水务局 住建局 交通局 城管局 环保局; do
      printf '%s"%s": "%s"' "$sep" "$d" "$(tok department "department:$d" "$d（模拟）")"; sep=", "
    done
    printf '}}\n'
  } >"$LOOP_TOKENS.tmp"
  # A token that could not be made leaves the loop still (and is tried again next time).
  if grep -q '""' "$LOOP_TOKENS.tmp"; then rm -f "$LOOP_TOKENS.tmp"; else chmod 600 "$LOOP_TOKENS.tmp" && mv "$LOOP_TOKENS.tmp" "$LOOP_TOKENS"; fi
fi

[ -s "$ACCOUNTS" ] && echo "==> demo accounts (sign in with 登录): $(cat "$ACCOUNTS") — kept in $ACCOUNTS"

echo "==> serving the viewer on http://$BIND/ (wall display at /wall; Ctrl-C stops)"
"$ONEMAP" serve --data "$DATA" --bind "$BIND" --deadlines config/deadlines.toml &
SERVER=$!
SIM=""
LOOP=""
trap 'kill $SIM $LOOP $SERVER 2>/dev/null || true' EXIT INT TERM
# The fleet starts moving once the server answers (SIMULATE=0 leaves it still).
if [ "${SIMULATE:-1}" != 0 ]; then
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/${BIND%:*}/${BIND##*:}") 2>/dev/null && break
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.2
  done
  echo "==> the demo fleet moves (onemap simulate ships; SIMULATE=0 turns it off)"
  "$ONEMAP" simulate ships --url "http://$BIND" --token "$(cat "$TOKEN_FILE")" --rate 1 &
  SIM=$!
  if [ -s "$LOOP_TOKENS" ]; then
    echo "==> the day's events go through the loop (onemap simulate events; SIMULATE=0 turns it off)"
    "$ONEMAP" simulate events --url "http://$BIND" --tokens "$LOOP_TOKENS" >/dev/null &
    LOOP=$!
  fi
fi
wait "$SERVER"
