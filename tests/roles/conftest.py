"""Role tests: helpers live in tests/support (imported as ``support``); the
session-wide ``pg`` fixture (a real PostgreSQL) is in tests/conftest.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
