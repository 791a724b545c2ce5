#!/usr/bin/env bash
# The main job on the embedded default: set up, compile the catalog, and run
# PROC-BACKEND-000 against localhost (local connection) through ansible-runner.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/system-deps.sh
./scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
procc compile
procc run PROC-BACKEND-000
echo
echo "Runbooks: docs/backend/procedures/  Playbooks: playbooks/"
