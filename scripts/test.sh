#!/usr/bin/env bash
# Every test of onemap, installing what the tests need first.
# Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Each step says how long the run has taken so far, so a slow step shows.
step() { echo; echo "==> [$(date -u +%H:%M:%S), ${SECONDS}s in] $*"; }
fail() { echo "error: $*" >&2; exit 1; }

command -v cargo >/dev/null || fail "cargo (Rust) is required"

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fmt --version >/dev/null || fail "rustfmt is missing and could not be installed"
cargo clippy --version >/dev/null || fail "clippy is missing and could not be installed"

step "python packages for the independent references (tile decoder, GEOS, H3)"
command -v python3 >/dev/null || fail "python3 is required (tiles are decoded by the mapbox-vector-tile package, H3 cells checked with the h3 package)"
# A virtual environment of our own: a system Python may refuse pip
# (PEP 668, as Debian's does), and nothing is installed into it.
PY_ENV="${CARGO_TARGET_DIR:-target}/python-env"
mkdir -p "$(dirname "$PY_ENV")"
PY_ENV="$(cd "$(dirname "$PY_ENV")" && pwd)/$(basename "$PY_ENV")"
if ! [ -x "$PY_ENV/bin/python" ]; then
  rm -rf "$PY_ENV"
  if ! python3 -m venv "$PY_ENV" >/dev/null 2>&1; then
    # Debian and Ubuntu ship the venv module on its own.
    rm -rf "$PY_ENV"
    command -v apt-get >/dev/null || fail "python3 -m venv failed and apt-get is not available to install python3-venv"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null \
      || fail "could not install python3-venv (needed for the tile decoder's environment)"
    python3 -m venv "$PY_ENV" || fail "python3 -m venv $PY_ENV failed"
  fi
fi
"$PY_ENV/bin/python" -m pip install --quiet --disable-pip-version-check mapbox-vector-tile shapely h3 openpyxl \
  || fail "could not install mapbox-vector-tile, shapely, h3 and openpyxl from PyPI into $PY_ENV"
# The oracle tests fail (they never skip) without these; say so here first.
"$PY_ENV/bin/python" -c 'import mapbox_vector_tile, shapely, h3, openpyxl; assert h3.__version__.startswith("4."), h3.__version__' \
  || fail "$PY_ENV lacks mapbox-vector-tile, shapely, openpyxl or h3 4.x (the tile decoder, GEOS, the XLSX reader and the H3 reference)"
# The tile tests run the decoder, and the H3 tests the reference, with $PYTHON.
export PYTHON="$PY_ENV/bin/python"
echo "PYTHON=$PYTHON"

# Everything started below is stopped and removed on exit, however we exit.
PG_DIR=""
TMP_CITY=""
BROWSER_CITY=""
SERVER_PID=""
cleanup() {
  # Every step may fail (the server may be gone already) without ending the cleanup.
  set +e
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; fi
  if [ -n "$PG_DIR" ]; then bash scripts/pg-test-cluster.sh stop "$PG_DIR"; fi
  rm -rf "$TMP_CITY" "$BROWSER_CITY"
}
trap cleanup EXIT

step "PostGIS: install postgresql-15-postgis-3 if missing, start a throwaway cluster"
bash scripts/pg-test-cluster.sh install \
  || fail "PostGIS is needed by the PostGIS tests and could not be installed (see above)"
PG_DIR="$(mktemp -d -t onemap-pg.XXXXXX)"
ONEMAP_TEST_POSTGRES="$(bash scripts/pg-test-cluster.sh start "$PG_DIR")" \
  || fail "could not start the throwaway PostGIS cluster in $PG_DIR"
export ONEMAP_TEST_POSTGRES
echo "ONEMAP_TEST_POSTGRES=$ONEMAP_TEST_POSTGRES"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "unit, property and end-to-end tests"
cargo test --workspace --locked

step "full-scale city: synth and validate (release)"
cargo build --release --locked --bin onemap
ONEMAP="${CARGO_TARGET_DIR:-target}/release/onemap"
TMP_CITY="$(mktemp -d)"
"$ONEMAP" synth --seed 1 --out "$TMP_CITY/putian"
"$ONEMAP" validate "$TMP_CITY/putian"

step "full-scale city: every polygon of every tile z0-14 OGC-valid (mapbox-vector-tile + GEOS)"
cargo run --release --locked -q -p onemap-tiles --example validity -- "$TMP_CITY/putian" 14 \
  || fail "tiles of the full city hold invalid polygons (or the check could not run; see above)"

step "full-scale city through PostGIS: migrate, import, export, byte-identical files, the same ledgers"
PG_CITY="${ONEMAP_TEST_POSTGRES%/*}/onemap_full_city"
/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 "$ONEMAP_TEST_POSTGRES" -c 'CREATE DATABASE onemap_full_city' \
  || fail "could not create the database onemap_full_city"
"$ONEMAP" db migrate --postgres "$PG_CITY"
"$ONEMAP" import --postgres "$PG_CITY" "$TMP_CITY/putian"
"$ONEMAP" export --postgres "$PG_CITY" "$TMP_CITY/exported"
for f in "$TMP_CITY"/putian/*; do
  [ -f "$f" ] || continue  # ledgers/ is compared below
  cmp "$f" "$TMP_CITY/exported/$(basename "$f")" || fail "$(basename "$f") differs after import and export"
done
# The ledgers' Arrow files: the same rows, values, village batches and
# metadata (their bytes differ: the schema metadata's order is a hash map's).
[ -d "$TMP_CITY/putian/ledgers" ] || fail "the full city has no ledgers/ to carry through PostGIS"
"$ONEMAP" ledgers digest --data "$TMP_CITY/putian" >"$TMP_CITY/ledgers.digest"
"$ONEMAP" ledgers digest --data "$TMP_CITY/exported" | diff "$TMP_CITY/ledgers.digest" - \
  || fail "the ledgers differ after import and export"
cat "$TMP_CITY/ledgers.digest"

step "soak: two servers on PostGIS under mixed load, the database stopped and started, a server killed (60 s, small city)"
bash scripts/soak.sh 0.02 60 32 \
  || fail "the soak lost or doubled an acknowledged change, or answered outside the API (see above)"

step "browser tests: Chromium, the viewer's npm packages, a served small city"
if ! [ -x /usr/bin/chromium ]; then
  command -v apt-get >/dev/null || fail "Chromium is missing and apt-get is not available to install it"
  apt-get update -qq || fail "apt-get update failed (Chromium is needed for the browser tests)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null \
    || fail "could not install Debian's chromium (needed for the browser tests)"
fi
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing after installing it"
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null \
    || fail "could not install a Chinese font (fonts-wqy-microhei) for the map labels"
fi
command -v node >/dev/null || fail "node is required for the browser tests"
command -v npm >/dev/null || fail "npm is required for the browser tests"
(cd viewer && npm ci --no-audit --no-fund) || fail "npm ci in viewer/ failed"
# The ids test decodes tiles as MapLibre does, with @mapbox/vector-tile.
(cd viewer && node --input-type=module -e "await import('@mapbox/vector-tile'); await import('pbf')") \
  || fail "@mapbox/vector-tile or pbf is missing from viewer/node_modules (devDependencies of viewer/package.json)"
BROWSER_CITY="$(mktemp -d)"
SERVER_LOG="$BROWSER_CITY/serve.log"
"$ONEMAP" synth --scale 0.02 --out "$BROWSER_CITY/city" >/dev/null
"$ONEMAP" tiles export --format pmtiles --data "$BROWSER_CITY/city" "$BROWSER_CITY/city.pmtiles" 2>/dev/null \
  || fail "onemap tiles export failed"
ONEMAP_SHIP_TOKEN="$("$ONEMAP" token create --role ship_feed --scope city --name browser-test --data "$BROWSER_CITY/city")" \
  || fail "onemap token create failed"
export ONEMAP_SHIP_TOKEN
"$ONEMAP" serve --data "$BROWSER_CITY/city" --bind 127.0.0.1:0 >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$SERVER_LOG" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; fail "onemap serve exited early"; }
  sleep 0.2
done
ONEMAP_URL="$(sed -n 's/^listening on //p' "$SERVER_LOG" | head -n 1)"
[ -n "$ONEMAP_URL" ] || { cat "$SERVER_LOG" >&2; fail "onemap serve did not report its address"; }
# The event-loop test makes its own accounts with the binary in the served city.
ONEMAP_URL="$ONEMAP_URL" PMTILES_FILE="$BROWSER_CITY/city.pmtiles" \
  ONEMAP_BIN="$ONEMAP" ONEMAP_DATA="$BROWSER_CITY/city" \
  node --test --test-timeout=600000 viewer/tests/
kill "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true

echo
echo "all tests passed in ${SECONDS}s"
