"""PROC-BACKEND-011, the SQLite migration with captured row counts, run and drilled for real.

A seeded SQLite database at schema 2 (user_version 2, table orders) on
localhost. The real run migrates it (column status, index, user_version 3)
with the rows and their data unchanged; a drill at every step leaves the
database as it was (its schema, user_version and rows, read with Python's
sqlite3, and the file's bytes when only the read-only step ran); a failure of
the final validation (a row lost, seen by the metric that reads the captured
count) runs the full rollback, which restores the backup.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from compiler.parse import Source, parse_file, parse_text
from compiler.runner import RunRequest, RunResult, execute
from tests.catalog.conftest import explain, run_procedure, source_of
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

PROC = "PROC-BACKEND-011"
ROWS = [(1, "ana", 1250), (2, "luis", 990), (3, "{{ 7*7 }}", 5), (4, "o'brien; rm -rf /", 70000)]


def _seed(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, amount_cents INTEGER NOT NULL);"
            "PRAGMA user_version = 2;")
        db.executemany("INSERT INTO orders VALUES (?, ?, ?)", ROWS)
    db.close()


def _state(path: Path) -> tuple[int, list[str], list[tuple[object, ...]]]:
    """user_version, the schema (every table and index) and the rows of orders."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        schema = [r[0] for r in db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")]
        rows = db.execute("SELECT id, customer, amount_cents FROM orders ORDER BY id").fetchall()
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    return version, schema, rows


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _params(tmp_path: Path) -> dict[str, str]:
    db = tmp_path / "data" / "orders.db"
    db.parent.mkdir()
    _seed(db)
    return {"db_path": str(db), "backup_dir": str(tmp_path / "backups")}


def test_the_migration_adds_the_column_and_index_and_keeps_every_row(tmp_path: Path) -> None:
    params = _params(tmp_path)
    db = Path(params["db_path"])
    res = run_procedure(PROC, tmp_path, params)
    assert res.rc == 0, explain(res)
    version, schema, rows = _state(db)
    assert version == 3
    assert rows == ROWS
    assert any("status TEXT NOT NULL DEFAULT 'open'" in s for s in schema)
    assert any("orders_status_idx" in s for s in schema)
    # The backup is the database as it was, checked by its SHA256SUMS.
    backup = Path(params["backup_dir"]) / "pre-0003.db"
    assert _state(backup)[0] == 2 and _state(backup)[2] == ROWS
    assert (backup.parent / "SHA256SUMS").read_text(encoding="utf-8").startswith(_sha(backup))


@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_a_drill_at_every_step_leaves_the_database_as_it_was(tmp_path: Path, step: int) -> None:
    params = _params(tmp_path)
    db = Path(params["db_path"])
    before, sha_before = _state(db), _sha(db)
    res = run_procedure(PROC, tmp_path, params, fail_at=step)
    assert res.rc == 0 and res.drill_passed, explain(res)
    (result,) = res.results.values()
    assert [int(x) for x in result["rolled_back"]] == list(range(step, 0, -1))
    assert _state(db) == before
    if step == 1:
        # Only the read-only count ran: not a byte changed.
        assert _sha(db) == sha_before


def test_a_row_lost_fails_the_final_validation_and_the_full_rollback_restores_it(tmp_path: Path) -> None:
    params = _params(tmp_path)
    db = Path(params["db_path"])
    before = _state(db)
    path = source_of(PROC)
    text = path.read_text(encoding="utf-8").replace(
        "      CREATE INDEX orders_status_idx ON orders (status);\n",
        "      CREATE INDEX orders_status_idx ON orders (status);\n      DELETE FROM orders WHERE id = 4;\n")
    assert "DELETE FROM orders" in text
    src = Source(path, path.name, parse_text(text), parse_file(path).smap, "")
    res: RunResult = execute(RunRequest(source=src, root=ROOT, params=params, runs_dir=tmp_path / "runs"))
    assert res.rc != 0
    # The metric compared the rows now with the count captured in step 1.
    assert "metric filas_perdidas_orders = 1" in res.summary, explain(res)
    (result,) = res.results.values()
    assert result["outcome"] == "rolled-back", explain(res)
    assert _state(db) == before


def test_check_mode_captures_the_count_and_changes_nothing(tmp_path: Path) -> None:
    # Step 1 is read-only (changes: false): it runs for real and captures; the others would run.
    params = _params(tmp_path)
    db = Path(params["db_path"])
    sha_before = _sha(db)
    path = source_of(PROC)
    res = execute(RunRequest(source=parse_file(path, path.name), root=ROOT, params=params, check=True,
                             runs_dir=tmp_path / "runs"))
    assert res.rc == 0, explain(res)
    assert _sha(db) == sha_before
    assert not (Path(params["backup_dir"]) / "pre-0003.db").exists()
