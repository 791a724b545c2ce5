#!/usr/bin/env bash
# The test suite.
#
#   scripts/test.sh            what CI runs, from a fresh machine: system packages, the venv,
#                              freshness of the committed outputs, procc lint, ruff,
#                              import-linter, mypy, the whole pytest suite (pytest-xdist),
#                              a mutation smoke run, the benchmarks smoke run, Molecule (scripts/molecule.sh: every
#                              scenario, then "faults survived: X of Y"). Extra arguments go to pytest.
#   scripts/test.sh --fast     the developer's loop: ruff and the unit layer only (the tests
#                              with none of the layer markers slow, ansible, postgres, ssh,
#                              molecule, browser): no apt, no services, no Ansible run; the
#                              venv is only created when missing. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
FAST_LAYER='not (slow or ansible or postgres or ssh or molecule or browser)'

if [ "${1:-}" = "--fast" ]; then
  shift
  # No apt, no pip: a venv that exists is used as it is (bootstrap.sh
  # only when it is missing or older than pyproject.toml, as its own stamp says).
  if [ ! -x .venv/bin/pytest ] || [ pyproject.toml -nt .venv/.procc-installed ]; then
    ./scripts/bootstrap.sh
  fi
  export PATH="$PWD/.venv/bin:$PATH"
  echo "== ruff"
  ruff check compiler tests benchmarks
  echo "== pytest (unit layer: -m '$FAST_LAYER')"
  # Two workers: the unit layer is mostly CPU and short subprocesses.
  exec pytest -q -p no:cacheprovider -n 2 -m "$FAST_LAYER" "$@"
fi

./scripts/system-deps.sh
./scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
# Hypothesis derandomized: a red CI is reproducible from its log.
export HYPOTHESIS_PROFILE=ci
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
# -n auto --dist loadgroup: every postgres test in one worker, every ssh test in
# one worker (tests/conftest.py), the rest spread over the cores.
pytest -q -p no:cacheprovider --durations=15 -n auto --dist loadgroup "$@"
echo "== mutation smoke run (compiler/markdown.py; the whole core: scripts/mutation.sh, tests/MUTATION.md)"
./scripts/mutation.sh --smoke
echo "== benchmarks smoke run (python -m benchmarks all --smoke: tiny sizes, checks the commands, never a time)"
python -m benchmarks all --smoke
echo "== molecule (every scenario on real SSH hosts: scripts/molecule.sh, then \"faults survived: X of Y\")"
# The catalog (molecule/default: a drill at every step of every catalog
# procedure, its real runs and real failures), the generated scenario and the
# three role scenarios; see molecule/README.md, Time.
./scripts/molecule.sh
