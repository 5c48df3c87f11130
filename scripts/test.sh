#!/usr/bin/env bash
# Every test of onemap, installing what the tests need first.
# Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { echo; echo "==> $*"; }
fail() { echo "error: $*" >&2; exit 1; }

command -v cargo >/dev/null || fail "cargo (Rust) is required"

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fmt --version >/dev/null || fail "rustfmt is missing and could not be installed"
cargo clippy --version >/dev/null || fail "clippy is missing and could not be installed"

step "python packages for the independent tile decoder"
command -v python3 >/dev/null || fail "python3 is required (tiles are decoded by the mapbox-vector-tile package)"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore mapbox-vector-tile shapely \
  || fail "could not install mapbox-vector-tile and shapely from PyPI"

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
trap 'rm -rf "$TMP_CITY"' EXIT
"$ONEMAP" synth --seed 1 --out "$TMP_CITY/putian"
"$ONEMAP" validate "$TMP_CITY/putian"

echo
echo "all tests passed"
