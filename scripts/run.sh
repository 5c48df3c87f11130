#!/usr/bin/env bash
# The main job: build onemap, generate the demo city if it is missing, and
# serve it to the web viewer with the demo fleet moving.
# Usage: bash scripts/run.sh   (DATA=dir, BIND=addr, SIMULATE=0 for no fleet)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DATA:-data/generated/putian}"

command -v cargo >/dev/null || { echo "error: cargo (Rust) is required: https://rustup.rs" >&2; exit 1; }

echo "==> building onemap (release)"
cargo build --release --locked --bin onemap
ONEMAP="${CARGO_TARGET_DIR:-target}/release/onemap"

if [ ! -f "$DATA/city.json" ]; then
  echo "==> generating the demo city into $DATA (full scale: 130,000 units, 1,000,000 events)"
  "$ONEMAP" synth --seed 1 --out "$DATA"
  echo "==> checking the new city"
  "$ONEMAP" validate "$DATA"
else
  echo "==> demo city already present in $DATA (onemap validate $DATA checks it)"
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

echo "==> serving the viewer on http://$BIND/ (wall display at /wall; Ctrl-C stops)"
"$ONEMAP" serve --data "$DATA" --bind "$BIND" &
SERVER=$!
SIM=""
trap 'kill $SIM $SERVER 2>/dev/null || true' EXIT INT TERM
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
fi
wait "$SERVER"
