"""procc's benchmarks as code (issue 14): ``python -m benchmarks all`` writes benchmarks/RESULTS.md.

Modules: :mod:`benchmarks.measure` (one command in a fresh subprocess: wall,
CPU, peak RSS), :mod:`benchmarks.catalog` (the generated procedures),
:mod:`benchmarks.figures` (the issue's table: every figure with its anchor
and goal), :mod:`benchmarks.report` (RESULTS.md), :mod:`benchmarks.fleet`
(the SSH fleet figure, outside ``all``). See benchmarks/README.md.
"""
