#!/usr/bin/env bash
# A drill of the deployment: the same PROC-BACKEND-001 (v1 -> v2) as the quick
# start, failing on purpose at step 2 (--fail-at 2). The rescue rolls back
# steps 2 and 1, the run ends "DRILL PASSED", and v1 is still serving /version.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/system-deps.sh
./scripts/bootstrap.sh
# shellcheck source=scripts/demo-env.sh
. scripts/demo-env.sh
procc compile >/dev/null
demo_v1
echo "before the drill: /version = $(served)"

echo "== PROC-BACKEND-001 drill: deploy v2, failing at step 2"
procc run PROC-BACKEND-001 --fail-at 2 -e release=v2 "${DEMO_PARAMS[@]}"
after=$(served)
echo
echo "after the drill: /version = $after"
if [ "$after" != v1 ]; then
  echo "drill: v1 is NOT serving /version" >&2
  exit 1
fi
echo "drill: the rollback restored v1 (releases: $(ls "$DEMO_DIR/releases" | tr '\n' ' '))"
