#!/usr/bin/env bash
# Every Molecule scenario (molecule/*/molecule.yml), one at a time, then the count:
#
#   faults survived: X of Y
#
# Y counts every step of every catalog procedure (procedures/*.yml: one drill each,
# recorded by molecule/default), the catalog scenario's real failures (not drills),
# one result per scenario (its `molecule test` passed) and one per scenario whose
# test_sequence runs idempotence (the idempotence action passed). A result that was
# never recorded counts as not survived. Exit 1 when X != Y.
#
#   scripts/molecule.sh [SCENARIO ...]     default: every scenario
# Results: .procc/molecule/faults.jsonl (JSON lines: scenario, kind, id, ok, detail),
# each scenario's log next to it. Needs root (procc.ops.testhosts).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
out=$PWD/.procc/molecule
rm -rf "$out"
mkdir -p "$out"
export PROCC_FAULTS_FILE=$out/faults.jsonl
: >"$PROCC_FAULTS_FILE"
# The catalog scenario's real failures (molecule/default/converge.yml).
CHECKS='PROC-BACKEND-000 error rate above 1% on backend2
PROC-BACKEND-001 step 4 fails on backend2 only'

if [ "$#" -gt 0 ]; then scenarios=("$@"); else
  scenarios=()
  for f in molecule/*/molecule.yml; do scenarios+=("$(basename "$(dirname "$f")")"); done
fi
start=$(date +%s)
for name in "${scenarios[@]}"; do
  echo "== molecule test -s $name"
  t0=$(date +%s)
  molecule test -s "$name" 2>&1 | tee "$out/$name.log"
  rc=${PIPESTATUS[0]}
  echo "== $name: rc $rc in $(( $(date +%s) - t0 )) s"
  SCENARIO=$name RC=$rc LOG=$out/$name.log python3 - <<'PY'
import json, os, re
name, rc, log = os.environ["SCENARIO"], int(os.environ["RC"]), os.environ["LOG"]
text = re.sub(r"\x1b\[[0-9;]*m", "", open(log, encoding="utf-8", errors="replace").read())
records = [{"scenario": name, "kind": "scenario", "id": name, "ok": rc == 0}]
seq = open(f"molecule/{name}/molecule.yml", encoding="utf-8").read()
if re.search(r"^\s*-\s*idempotence\s*$", seq, re.M):
    ok = re.search(r"idempotence: Executed: Successful", text) is not None
    records.append({"scenario": name, "kind": "idempotence", "id": name, "ok": ok})
with open(os.environ["PROCC_FAULTS_FILE"], "a", encoding="utf-8") as fh:
    for r in records:
        fh.write(json.dumps(r) + "\n")
PY
done
CATALOG=$([[ " ${scenarios[*]} " == *" default "* ]] && echo 1 || echo 0) CHECKS=$CHECKS python3 - <<'PY'
import glob, json, os, yaml

results: dict[tuple[str, str], dict] = {}
for line in open(os.environ["PROCC_FAULTS_FILE"], encoding="utf-8"):
    if line.strip():
        r = json.loads(line)
        results[(r["kind"], r["id"])] = r  # the last record of an id wins
expected = set()
if os.environ["CATALOG"] == "1":  # the catalog scenario ran: every step of every procedure is owed a drill
    for path in sorted(glob.glob("procedures/*.yml")):
        proc = yaml.safe_load(open(path, encoding="utf-8"))
        expected |= {("drill", f"{proc['id']} step {k}") for k in range(1, len(proc["steps"]) + 1)}
    expected |= {("failure", c) for c in os.environ["CHECKS"].splitlines() if c}
everything = expected | set(results)
survived = {key for key in everything if results.get(key, {}).get("ok") is True}
for key in sorted(everything - survived):
    r = results.get(key)
    print(f"NOT SURVIVED: {key[0]} {key[1]}: {'never recorded' if r is None else json.dumps(r.get('detail', ''))[:1500]}")
print(f"faults survived: {len(survived)} of {len(everything)}")
raise SystemExit(0 if survived == everything else 1)
PY
rc=$?
echo "== molecule: $(( $(date +%s) - start )) s wall"
exit $rc
