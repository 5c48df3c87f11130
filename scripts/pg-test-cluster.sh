#!/usr/bin/env bash
# A throwaway PostgreSQL 15 + PostGIS cluster for onemap's tests.
#
#   bash scripts/pg-test-cluster.sh install      # apt-get install PostGIS if it is missing
#   URL="$(bash scripts/pg-test-cluster.sh start DIR)"   # initdb into DIR, start, print the URL
#   bash scripts/pg-test-cluster.sh pause DIR    # stop the server (pg_ctl stop -m fast), keep DIR
#   bash scripts/pg-test-cluster.sh resume DIR   # start it again on the same port
#   bash scripts/pg-test-cluster.sh stop DIR     # stop the cluster and remove DIR
#
# For the tests:
#   export ONEMAP_TEST_POSTGRES="$(bash scripts/pg-test-cluster.sh start /tmp/onemap-pg)"
#   cargo test -p onemap-store --test postgres
#   bash scripts/pg-test-cluster.sh stop /tmp/onemap-pg
#
# The cluster listens on 127.0.0.1 on a free port (and a unix socket in DIR),
# trusts local connections, and has the postgis extension in template1, so
# every database a test creates has PostGIS. Run as root, the server runs as
# the `postgres` user (PostgreSQL refuses to run as root). Only the URL goes
# to stdout; progress and errors go to stderr.
#
# It also speaks TLS (ssl=on, a self-signed certificate for 127.0.0.1 and
# localhost made here with openssl: DIR/data/server.crt, its own CA), and
# the role `onemap_password`, if a test creates it, must give its password
# (scram-sha-256): the tests of `serve --postgres-tls require` and of the
# password kept off the command line. Plain-text clients are served as
# before.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
POSTGIS_PACKAGE="postgresql-15-postgis-3"

fail() { echo "pg-test-cluster: error: $*" >&2; exit 1; }
say() { echo "pg-test-cluster: $*" >&2; }

postgis_installed() {
  [ -f "$("$PG_BIN/pg_config" --sharedir)/extension/postgis.control" ]
}

install() {
  if [ -x "$PG_BIN/initdb" ] && postgis_installed; then
    return 0
  fi
  # The PostGIS package pulls in PostgreSQL 15 itself on a fresh machine.
  command -v apt-get >/dev/null || fail "PostgreSQL 15 + PostGIS are missing and apt-get is not available to install $POSTGIS_PACKAGE"
  [ "$(id -u)" = 0 ] || fail "PostgreSQL 15 + PostGIS are missing; install them as root: apt-get install -y $POSTGIS_PACKAGE"
  say "installing $POSTGIS_PACKAGE"
  apt-get update -qq >&2 || fail "apt-get update failed (needed to install $POSTGIS_PACKAGE)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$POSTGIS_PACKAGE" >&2 \
    || fail "could not install $POSTGIS_PACKAGE with apt-get"
  [ -x "$PG_BIN/initdb" ] || fail "$POSTGIS_PACKAGE is installed but $PG_BIN/initdb is still missing"
  postgis_installed || fail "$POSTGIS_PACKAGE is installed but postgis.control is still missing"
}

# openssl makes the cluster's certificate.
install_openssl() {
  command -v openssl >/dev/null && return 0
  command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] || fail "openssl is missing (apt-get install -y openssl)"
  say "installing openssl"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >&2 || fail "could not install openssl"
}

# Runs a command as the cluster's owner: `postgres` when we are root, else us.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the server of the cluster in $1 on port $2.
pg_start() {
  local dir="$1" port="$2"
  as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c ssl=on" \
    start >&2 || { cat "$dir/server.log" >&2; fail "pg_ctl start failed"; }
}

start() {
  local dir="$1"
  install
  [ -e "$dir/data" ] && fail "$dir/data already exists (stop the old cluster first: $0 stop $dir)"
  if [ "$(id -u)" = 0 ]; then
    getent passwd postgres >/dev/null || fail "running as root needs a 'postgres' user to run the server"
  fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; fail "initdb failed"; }
  install_openssl
  as_owner openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$dir/data/server.key" -out "$dir/data/server.crt" >"$dir/openssl.log" 2>&1 \
    || { cat "$dir/openssl.log" >&2; fail "openssl could not make the server's certificate"; }
  chmod 600 "$dir/data/server.key"
  # Everyone is trusted but onemap_password, who must give a password.
  as_owner tee "$dir/data/pg_hba.conf" >/dev/null <<'HBA'
local all all trust
host all onemap_password 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
HBA
  local port
  port="$(free_port)"
  # Kept for `resume`, which starts the server again on the same port.
  echo "$port" >"$dir/port"
  pg_start "$dir" "$port"
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d template1 \
    -c 'CREATE EXTENSION IF NOT EXISTS postgis' >&2 \
    || fail "CREATE EXTENSION postgis failed"
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c 'CREATE EXTENSION IF NOT EXISTS postgis' >&2 \
    || fail "CREATE EXTENSION postgis failed"
  say "PostGIS cluster in $dir on port $port"
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

pause() {
  local dir="$1"
  [ -f "$dir/data/postmaster.pid" ] || fail "no running cluster in $dir"
  as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2 || fail "pg_ctl stop failed"
  say "paused the cluster in $dir (resume: $0 resume $dir)"
}

resume() {
  local dir="$1"
  [ -f "$dir/port" ] || fail "no cluster in $dir (no $dir/port)"
  [ -f "$dir/data/postmaster.pid" ] && fail "the cluster in $dir is running already"
  local port
  port="$(cat "$dir/port")"
  pg_start "$dir" "$port"
  say "resumed the cluster in $dir on port $port"
}

stop() {
  local dir="$1"
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || say "pg_ctl stop failed"
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  install) install ;;
  start) [ $# = 2 ] || fail "usage: $0 start DIR"; start "$2" ;;
  pause) [ $# = 2 ] || fail "usage: $0 pause DIR"; pause "$2" ;;
  resume) [ $# = 2 ] || fail "usage: $0 resume DIR"; resume "$2" ;;
  stop) [ $# = 2 ] || fail "usage: $0 stop DIR"; stop "$2" ;;
  *) fail "usage: $0 install | start DIR | pause DIR | resume DIR | stop DIR" ;;
esac
