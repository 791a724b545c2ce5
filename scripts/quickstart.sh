#!/usr/bin/env bash
# The main job on localhost (local connection, through ansible-runner):
#   1. set up: system packages, .venv with procc, the compiled catalog;
#   2. start a project-local PostgreSQL and the demo backend v1;
#   3. deploy v2 with PROC-BACKEND-001 (rolling, per-step rollback);
#   4. check the result with PROC-BACKEND-000;
#   5. point at the runbooks.
# Re-running it starts again from v1. scripts/drill.sh rehearses the rollback.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/system-deps.sh
./scripts/bootstrap.sh
# shellcheck source=scripts/demo-env.sh
. scripts/demo-env.sh
procc compile
procc check
demo_v1
echo "before: /version = $(served)"

echo "== PROC-BACKEND-001: deploy v2"
procc run PROC-BACKEND-001 -e release=v2 "${DEMO_PARAMS[@]}"
echo "== PROC-BACKEND-000: health check"
procc run PROC-BACKEND-000 -e "report_dir=$PWD/.procc" "${DEMO_PARAMS[@]}"
echo
echo "now serving: /version = $(served)   (http://127.0.0.1:$DEMO_PORT)"
echo "health report: .procc/procc-health-$DEMO_PORT.txt"
echo "runbooks (updated with these runs): docs/backend/procedures/PROC-BACKEND-00*.md"
echo "playbooks: playbooks/   rehearse the rollback: ./scripts/drill.sh"
echo "stop the demo: $DEMO_DIR/bin/demo-backend stop && scripts/postgres.sh stop $PG_DIR"
