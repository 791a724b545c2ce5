"""PROC-BACKEND-003 for real: the migration succeeds from a clean state, and any
failure (a drill at each step, or a real one) leaves every table byte-identical
in content to before (md5 of the rows of every table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalog.conftest import DB, Demo, explain, run_procedure

pytestmark = [pytest.mark.slow, pytest.mark.ansible, pytest.mark.postgres]


def _params(demo: Demo, tmp_path: Path) -> dict[str, str]:
    backups = tmp_path / "backups"
    backups.mkdir()
    return {**demo.params, "backup_root": str(backups)}


def test_migration_succeeds(demo: Demo, tmp_path: Path) -> None:
    res = run_procedure("PROC-BACKEND-003", tmp_path, _params(demo, tmp_path))
    assert res.rc == 0, explain(res)
    assert demo.pg.psql("SELECT version FROM schema_migrations", dbname=DB) == "0002_items_price"
    assert demo.pg.psql("SELECT sum(price) FROM items", dbname=DB) == "0.00"
    assert set(demo.checksums()) == {"public.items", "public.item_events", "public.schema_migrations"}
    assert (tmp_path / "backups" / "latest" / "db.dump").is_file()


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_drill_at_each_step_restores_the_database_exactly(demo: Demo, tmp_path: Path, k: int) -> None:
    before = demo.checksums()
    res = run_procedure("PROC-BACKEND-003", tmp_path, _params(demo, tmp_path), fail_at=k)
    assert res.rc == 0 and res.drill_passed, explain(res)
    assert demo.checksums() == before
    assert demo.pg.psql("SELECT count(*) FROM information_schema.columns "
                      "WHERE table_name = 'items' AND column_name = 'price'", dbname=DB) == "0"


def test_real_failure_restores_the_database_exactly(demo: Demo, tmp_path: Path) -> None:
    # Duplicate names: step 3 (the unique index) fails for real.
    demo.pg.psql("INSERT INTO items (id, name) VALUES (11, 'item-1')", dbname=DB)
    before = demo.checksums()
    res = run_procedure("PROC-BACKEND-003", tmp_path, _params(demo, tmp_path))
    assert res.rc != 0 and not res.drill_passed
    assert "FAILED at step 3" in res.summary, explain(res)
    assert "rolled back: 3, 2, 1" in res.summary
    assert demo.checksums() == before
