#!/usr/bin/env bash
# Mutation testing of the pure core with mutmut 3 (config: [tool.mutmut] in pyproject.toml).
#
#   scripts/mutation.sh                 every core module, one at a time; writes tests/MUTATION.md
#   scripts/mutation.sh markdown params only these modules (names under compiler/, dotted); writes tests/MUTATION.md
#   scripts/mutation.sh --report        only rewrite tests/MUTATION.md from the results kept in mutants/
#   scripts/mutation.sh --smoke         compiler/markdown.py against tests/unit/test_markdown.py only, in a scratch
#                                       copy (nothing in the tree changes); fails below the threshold (CI)
#   MUTATION_TESTS="tests/unit/test_playbook.py ..." scripts/mutation.sh playbook
#                                       only these tests against the module's mutants, in a scratch copy whose
#                                       results replace the module's in mutants/ (much faster for the playbook
#                                       and the runbook, whose full selection costs seconds per mutant)
#
# Each mutant runs only the fast tests (no layer marker) that cover the mutated function.
# MUTATION_CHILDREN (default 1) parallel mutants: the machine is shared. Exit status 1 when a
# module scores below MUTATION_THRESHOLD (default 85) %. Equivalent mutants: tests/mutation_equivalents.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY="$ROOT/.venv/bin/python"
MUTMUT="$ROOT/.venv/bin/mutmut"
CHILDREN=${MUTATION_CHILDREN:-1}
THRESHOLD=${MUTATION_THRESHOLD:-85}
ALL=(markdown templating params yamlout loader parse runbook lint.engine playbookexpr playbook)
[ -x "$MUTMUT" ] || { echo "procc: mutmut is missing: run scripts/bootstrap.sh (dev extras)" >&2; exit 2; }

if [ "${1:-}" = "--smoke" ]; then
  # A scratch copy, with the test selection narrowed to the module's own tests: a
  # fresh run (no cache), quick enough for every CI run.
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tar --exclude=./.venv --exclude=./mutants --exclude=./.git -cf - . | tar -xf - -C "$work"
  "$PY" - "$work/pyproject.toml" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
text, n = re.subn(r"pytest_add_cli_args_test_selection = \[.*?\n\]",
                  'pytest_add_cli_args_test_selection = ["tests/unit/test_markdown.py"]', text, flags=re.S)
assert n == 1, "pyproject.toml: [tool.mutmut] pytest_add_cli_args_test_selection not found"
open(path, "w").write(text)
PY
  cd "$work"
  start=$(date +%s)
  "$MUTMUT" run --max-children "$CHILDREN" "compiler.markdown.*" > mutmut.log 2>&1 \
    || { tail -40 mutmut.log; echo "procc: mutmut failed" >&2; exit 2; }
  status=0
  "$PY" "$ROOT/scripts/mutation_report.py" --threshold "$THRESHOLD" --title "Mutation smoke (markdown)" \
    markdown > report.md || status=$?
  sed -n '/^| module/,/^$/p' report.md
  echo "mutation smoke: $(( $(date +%s) - start )) s"
  exit "$status"
fi

if [ "${1:-}" = "--report" ]; then
  # Rewrite tests/MUTATION.md from the results in mutants/ (after an interrupted or partial run).
  exec "$PY" scripts/mutation_report.py --threshold "$THRESHOLD" --out tests/MUTATION.md "${ALL[@]}"
fi

modules=("$@")
[ ${#modules[@]} -gt 0 ] || modules=("${ALL[@]}")
mkdir -p mutants

if [ -n "${MUTATION_TESTS:-}" ]; then
  # A narrowed test selection changes mutmut's configuration, which would reset every
  # result kept in mutants/: run each module in a scratch copy instead and bring its
  # results (mutants/compiler/MODULE.py.meta) back.
  for module in "${modules[@]}"; do
    work=$(mktemp -d)
    tar --exclude=./.venv --exclude=./mutants --exclude=./.git -cf - . | tar -xf - -C "$work"
    "$PY" - "$work/pyproject.toml" $MUTATION_TESTS <<'PY'
import json, re, sys
path, tests = sys.argv[1], sys.argv[2:]
text = open(path).read()
text, n = re.subn(r"pytest_add_cli_args_test_selection = \[.*?\n\]",
                  "pytest_add_cli_args_test_selection = " + json.dumps(tests), text, flags=re.S)
assert n == 1, "pyproject.toml: [tool.mutmut] pytest_add_cli_args_test_selection not found"
open(path, "w").write(text)
PY
    echo "== mutmut compiler/${module//.//}.py against: $MUTATION_TESTS ($(date -u +%H:%M:%S))"
    start=$(date +%s)
    (cd "$work" && "$MUTMUT" run --max-children "$CHILDREN" "compiler.$module.*" > "$ROOT/mutants/mutmut-$module.log" 2>&1) \
      || { tail -40 "mutants/mutmut-$module.log"; rm -rf "$work"; echo "procc: mutmut failed on $module" >&2; exit 2; }
    meta="compiler/${module//.//}.py.meta"
    mkdir -p "mutants/$(dirname "$meta")"
    # The results and the mutated source (the report shows each survivor's diff from it).
    cp "$work/mutants/$meta" "$work/mutants/${meta%.meta}" "mutants/$(dirname "$meta")/"
    rm -rf "$work"
    echo "   $(( $(date +%s) - start )) s"
  done
  exec "$PY" scripts/mutation_report.py --threshold "$THRESHOLD" --out tests/MUTATION.md "${ALL[@]}"
fi

for module in "${modules[@]}"; do
  echo "== mutmut compiler/${module//.//}.py ($(date -u +%H:%M:%S))"
  "$MUTMUT" run --max-children "$CHILDREN" "compiler.$module.*" > "mutants/mutmut-$module.log" 2>&1 \
    || { tail -40 "mutants/mutmut-$module.log"; echo "procc: mutmut failed on $module" >&2; exit 2; }
  tail -4 "mutants/mutmut-$module.log" | grep -v '^$' || true
done
# The report always covers every module that has results, so a partial rerun keeps the others.
"$PY" scripts/mutation_report.py --threshold "$THRESHOLD" --out tests/MUTATION.md "${ALL[@]}"
