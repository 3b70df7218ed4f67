"""Run every benchmark: ``python -m bench`` (what ``nox -s bench`` runs).

Each benchmark script is run in its own process, one after another; their figures
are printed and recorded in docs/performance.md by hand from that output.
Arguments after ``--`` are passed to every script (for example ``-- --quick``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(p for p in HERE.glob("*_bench.py"))
    failed = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        result = subprocess.run([sys.executable, str(script), *argv], check=False)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
