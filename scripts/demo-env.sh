# Sourced by quickstart.sh and drill.sh: a real PostgreSQL and the demo
# backend v1 on localhost, and the procc parameters that point at them.
#
#   PROCC_DEMO_DIR   base directory of the demo backend (default .procc/demo)
#   PROCC_DEMO_PORT  its HTTP port (default 8080, or a free port when 8080 is
#                    taken by something else; remembered in .procc/demo.port)
#   PROCC_PG_DIR     the PostgreSQL cluster (default .procc/pg; see below)
# shellcheck shell=bash

export PATH="$PWD/.venv/bin:$PATH"
mkdir -p "$PWD/.procc"
# PostgreSQL refuses to run as root: as root, the server runs as `postgres`,
# which must reach the data directory. A checkout under /root (mode 0700) is
# out of its reach, so the cluster then lives in /var/lib/procc-demo/pg.
PG_DIR=${PROCC_PG_DIR:-$PWD/.procc/pg}
if [ "$(id -u)" -eq 0 ] && [ -z "${PROCC_PG_DIR:-}" ] && id postgres >/dev/null 2>&1 &&
  ! runuser -u postgres -- test -x "$PWD/.procc" 2>/dev/null; then
  PG_DIR=/var/lib/procc-demo/pg
fi
eval "$(scripts/postgres.sh start "$PG_DIR")"

DEMO_DIR=${PROCC_DEMO_DIR:-$PWD/.procc/demo}
port_file=$PWD/.procc/demo.port
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -n "${PROCC_DEMO_PORT:-}" ]; then
  DEMO_PORT=$PROCC_DEMO_PORT
elif [ -f "$port_file" ]; then
  DEMO_PORT=$(cat "$port_file")
elif port_busy 8080; then
  DEMO_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
else
  DEMO_PORT=8080
fi
echo "$DEMO_PORT" >"$port_file"

# The parameters every catalog procedure takes for this demo.
DEMO_PARAMS=(-e "base_dir=$DEMO_DIR" -e "service_port=$DEMO_PORT" -e "db_host=$PGHOST" -e "db_port=$PGPORT"
  -e "db_user=$PGUSER" -e "db_name=$PGDATABASE")

# Release v1 installed, active and serving (the role restarts only when the
# active release changed); the database gets its items table on first use.
demo_v1() {
  echo "== demo backend v1 on http://127.0.0.1:$DEMO_PORT ($DEMO_DIR)"
  ANSIBLE_ROLES_PATH=$PWD/roles ANSIBLE_NOCOLOR=1 ansible-playbook -i localhost, -c local \
    -e "ansible_python_interpreter=$PWD/.venv/bin/python" \
    -e "demo_backend_base_dir=$DEMO_DIR" -e "demo_backend_port=$DEMO_PORT" -e demo_backend_release=v1 \
    scripts/demo-backend.yml | tail -n 3
}

served() { curl -fsS --max-time 5 "http://127.0.0.1:$DEMO_PORT/version"; }
