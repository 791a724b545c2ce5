#!/usr/bin/env bash
# The SSH test hosts of the pytest fleet (tests/support/sshhosts.py): procc-h1..procc-hN
# on 10.77.I.0/30, state in .procc/testhosts. The mechanism is the collection role's
# script, roles/testhosts/files/testhosts.sh (its header documents it); Molecule runs
# use the role (procc.ops.testhosts), which gives each run its own names and subnets.
#
#   scripts/testhosts.sh up N | down | inventory | status
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PROCC_TESTHOSTS_DIR=${PROCC_TESTHOSTS_DIR:-$ROOT/.procc/testhosts}
export PROCC_TESTHOSTS_PREFIX=${PROCC_TESTHOSTS_PREFIX:-procc-h}
export PROCC_TESTHOSTS_NET=${PROCC_TESTHOSTS_NET:-10.77}
if [ -z "${PROCC_TESTHOSTS_PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PROCC_TESTHOSTS_PYTHON=$ROOT/.venv/bin/python; else PROCC_TESTHOSTS_PYTHON=/usr/bin/python3; fi
  export PROCC_TESTHOSTS_PYTHON
fi
if [ "$(id -u)" -eq 0 ] && [ ! -x /usr/sbin/sshd ]; then "$ROOT/scripts/system-deps.sh"; fi
exec bash "$ROOT/roles/testhosts/files/testhosts.sh" "$@"
