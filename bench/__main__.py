"""Run the benchmarks: ``python -m bench`` (what ``nox -s bench`` runs).

Every case of bench/upload_bench.py, in this process tree: emulator subprocesses and
one process per measured client. ``python -m bench --help`` lists the options
(``--quick``, ``--only CASE``, ``--net NET``, ``--runs N``). A full run writes
docs/performance-results.json and regenerates the figures in docs/performance.md and
docs/assets/performance.svg.
"""

from __future__ import annotations

import sys

from bench.upload_bench import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
