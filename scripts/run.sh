#!/usr/bin/env bash
# The main job: build onemap, generate the demo city if it is missing, and
# serve it to the web viewer. Usage: bash scripts/run.sh   (DATA=dir, BIND=addr)
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

echo "==> serving the viewer on http://${BIND:-127.0.0.1:8080}/ (wall display at /wall; Ctrl-C stops)"
exec "$ONEMAP" serve --data "$DATA" --bind "${BIND:-127.0.0.1:8080}"
