#!/usr/bin/env bash
# The whole test suite, from a fresh machine: system packages, the venv,
# freshness of the committed outputs, ruff, mypy, pytest, Molecule.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/system-deps.sh
./scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "== procc check (committed runbooks and playbooks are fresh)"
procc check
echo "== procc lint --strict (the four-perspective review of every procedure)"
procc lint --strict
echo "== ruff"
ruff check compiler tests benchmarks
echo "== import-linter (compiling and linting never import Ansible)"
lint-imports
echo "== mypy --strict compiler"
mypy compiler
echo "== pytest"
pytest -q -p no:cacheprovider --durations=15 "$@"
if [ -d molecule ] && ls molecule/*/molecule.yml >/dev/null 2>&1; then
  echo "== molecule (drills as converges)"
  for scenario in molecule/*/; do
    name=$(basename "$scenario")
    molecule test -s "$name"
  done
fi
