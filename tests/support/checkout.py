"""A clean copy of the working tree and an environment without procc's or Ansible's variables.

What a new user gets from ``git clone``: the files git tracks plus the new
files it would track (``git ls-files --cached --others --exclude-standard``),
symlinks kept as links, nothing ignored (.venv, .procc, caches). Uncommitted
edits are included, so the tests see the tree under test, not the last commit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def clean_copy(dest: Path) -> Path:
    """Copy the working tree's versioned files to ``dest`` (created) and return it."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = REPO / rel
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree, not yet committed
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, target)
    return dest


def plain_env(**extra: str) -> dict[str, str]:
    """os.environ without any PROCC_* or ANSIBLE_* variable; the venv's tools first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROCC_", "ANSIBLE_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env
