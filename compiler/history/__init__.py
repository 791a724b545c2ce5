"""The run history: one append-only JSONL file per procedure.

``procedures/history/PROC-ID.jsonl`` sits beside the sources so it can be
committed; runbooks are rendered from it (:mod:`compiler.history.kpis`).
Every run appends a ``start`` record when it begins and an ``end`` record when
it finishes, each fsynced under a file lock: a run killed with SIGKILL leaves
a start without an end, which readers show as "did not finish".
"""

from compiler.history.store import HistoryProblem, Run, append, history_path, read

__all__ = ["HistoryProblem", "Run", "append", "history_path", "read"]
