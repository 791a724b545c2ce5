#!/usr/bin/env bash
# A real, project-local PostgreSQL for the demo backend and the tests.
#
#   scripts/postgres.sh start  [DIR]   initdb (first time), start, create the demo role and
#                                      database, print the export lines
#   scripts/postgres.sh stop   [DIR]   fast shutdown (the data stays in DIR)
#   scripts/postgres.sh status [DIR]   exit 0 when running, 3 when not
#   scripts/postgres.sh env    [DIR]   print the export lines of a running server
#
# DIR defaults to <repo>/.procc/pg. Layout: DIR/data (cluster), DIR/run (unix
# socket), DIR/postgres.log, DIR/port (the port chosen at start).
# The server listens on 127.0.0.1 and on the unix socket in DIR/run, on a free
# port (PROCC_PG_PORT to choose one). Authentication is "trust" for local
# connections only: this is a disposable demo/test cluster, never a production one.
#
# PostgreSQL refuses to run as root: when run as root, the server runs as the
# distribution's `postgres` user if it exists, else as a system user
# `procc-pg` created on first use, and DIR is given to that user.
#
# Environment: PROCC_PG_USER (default procc), PROCC_PG_DB (default procc),
# PROCC_PG_PORT (default: a free port), PROCC_PG_BIN (default: newest
# /usr/lib/postgresql/*/bin).
#
# Usage in a shell:  eval "$(scripts/postgres.sh start)"
set -euo pipefail

cmd=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-$root/.procc/pg}
db_user=${PROCC_PG_USER:-procc}
db_name=${PROCC_PG_DB:-procc}
super=postgres

die() { echo "postgres.sh: $*" >&2; exit 1; }

case "$cmd" in
  start|stop|status|env) ;;
  *) die "usage: $0 start|stop|status|env [DIR]" ;;
esac

pg_bin=${PROCC_PG_BIN:-}
if [ -z "$pg_bin" ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] ||
  die "PostgreSQL server binaries not found (run scripts/system-deps.sh or set PROCC_PG_BIN)"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data
sock=$dir/run

# Run a server-side command as the unprivileged owner of the cluster.
as_owner=()
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  if id postgres >/dev/null 2>&1; then
    owner=postgres
  else
    owner=procc-pg
    if ! id "$owner" >/dev/null 2>&1; then
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$owner"
    fi
  fi
  as_owner=(runuser -u "$owner" --)
fi

run_owner() { "${as_owner[@]}" "$@"; }

pg_ctl() { run_owner "$pg_bin/pg_ctl" -D "$data" "$@"; }

is_running() { [ -f "$data/PG_VERSION" ] && pg_ctl status >/dev/null 2>&1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

print_env() {
  local port
  port=$(cat "$dir/port")
  echo "export PGHOST=127.0.0.1 PGPORT=$port PGUSER=$db_user PGDATABASE=$db_name"
  echo "export PROCC_PG_SOCKET_DIR=$sock PROCC_PG_DIR=$dir"
}

sql() { # run SQL as the cluster superuser over the unix socket
  "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -At -h "$sock" -p "$(cat "$dir/port")" -U "$super" -d postgres -c "$1"
}

case "$cmd" in
  status)
    if is_running; then echo "running on port $(cat "$dir/port") (data: $data)"; exit 0; fi
    echo "not running (data: $data)"
    exit 3
    ;;
  env)
    is_running || die "not running (start it with: $0 start $dir)"
    print_env
    exit 0
    ;;
  stop)
    if is_running; then pg_ctl -m fast -w stop >/dev/null; fi
    echo "stopped" >&2
    exit 0
    ;;
esac

# --- start -------------------------------------------------------------------
if is_running; then
  print_env
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  chown "$owner" "$dir"
  runuser -u "$owner" -- test -w "$dir" ||
    die "$owner cannot write $dir: every parent directory must be searchable by $owner"
fi
if [ ! -f "$data/PG_VERSION" ]; then
  run_owner mkdir -p "$data" "$sock"
  chmod 700 "$data"
  run_owner "$pg_bin/initdb" -D "$data" -U "$super" --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || die "initdb failed, see $dir/initdb.log"
  # A disposable local cluster: durability traded for speed (tests, demo).
  cat >>"$data/postgresql.conf" <<EOF

# --- procc demo cluster (scripts/postgres.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
fi
port=${PROCC_PG_PORT:-$(free_port)}
echo "$port" >"$dir/port"
pg_ctl -w -t 60 -l "$dir/postgres.log" -o "-p $port" start >/dev/null ||
  die "server did not start, see $dir/postgres.log"

# Demo role and database (idempotent).
if [ "$(sql "SELECT 1 FROM pg_roles WHERE rolname = '$db_user'")" != 1 ]; then
  sql "CREATE ROLE \"$db_user\" LOGIN CREATEDB" >/dev/null
fi
if [ "$(sql "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" != 1 ]; then
  sql "CREATE DATABASE \"$db_name\" OWNER \"$db_user\"" >/dev/null
fi
print_env
