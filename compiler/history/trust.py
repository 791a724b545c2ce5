"""Telling history records procc wrote from lines anyone could have typed.

The history is a committed text file: anyone with write access to the
repository can add a line saying "succeeded in staging". Gates must count
only records that procc itself wrote, so every record procc appends carries
``sig``, an HMAC-SHA256 over the record's canonical JSON (sorted keys, no
``sig``), keyed by:

1. ``$PROCC_HISTORY_KEY`` when set (a team shares it through its secret
   store, so that a staging run on one machine counts on another); else
2. a per-user key file, ``$XDG_CONFIG_HOME/procc/history.key`` (default
   ``~/.config/procc/history.key``), created at first use with 32 random
   bytes, mode 0600, outside any repository.

A hand-written or edited line has no valid signature and does not count. The
signature proves "written by someone holding the key", nothing more: whoever
runs procc with the key can sign, so the key belongs to the operators and CI,
not to everyone who can push to the repository.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from compiler.errors import ProccError

SIG = "sig"
ENV_KEY = "PROCC_HISTORY_KEY"


class HistoryKeyError(ProccError):
    """The history key cannot be read or created safely."""


def key_file() -> Path:
    """Where the per-user key lives."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "procc" / "history.key"


def _read_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        # Written whole under a private name, then linked into place: a
        # concurrent first use never reads a half-written key.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        os.unlink(tmp)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise HistoryKeyError(f"procc: cannot read the history key {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or st.st_uid != os.getuid():
            raise HistoryKeyError(f"procc: the history key {path} must be yours and mode 0600 "
                                  f"(chmod 600 {path})")
        data = fh.read().strip()
    if len(data) < 32:
        raise HistoryKeyError(f"procc: the history key {path} is too short (at least 32 characters)")
    return data


def key() -> bytes:
    """The signing key: ``$PROCC_HISTORY_KEY``, else the per-user key file."""
    env = os.environ.get(ENV_KEY)
    if env:
        return env.encode("utf-8")
    return _read_or_create(key_file())


def _mac(record: dict[str, Any], k: bytes) -> str:
    body = {name: value for name, value in record.items() if name != SIG}
    canon = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hmac.new(k, canon.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its ``sig``."""
    return {**record, SIG: _mac(record, key())}


def verify(record: dict[str, Any] | None, k: bytes | None = None) -> bool:
    """Whether ``record`` carries a valid signature under the current key."""
    if not isinstance(record, dict) or not isinstance(record.get(SIG), str):
        return False
    try:
        k = key() if k is None else k
    except ProccError:
        return False
    return hmac.compare_digest(record[SIG], _mac(record, k))
