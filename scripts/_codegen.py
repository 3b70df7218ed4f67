"""What the code generators in scripts/ share: formatting their output with the project's ruff."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class GenerationError(Exception):
    """The input uses something a generator does not know how to write."""


def _ruff(args: list[str], source: str, target: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(target), "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise GenerationError(f"ruff {' '.join(args)} failed:\n{done.stderr}{done.stdout}")
    return done.stdout


def formatted(source: str, target: Path) -> str:
    """``source`` import-sorted and formatted by ruff as the project configures it."""
    source = _ruff(["check", "--select", "I", "--fix", "--quiet", "--exit-zero"], source, target)
    return _ruff(["format", "--quiet"], source, target)


def write_or_check(target: Path, text: str, argv: list[str], command: str) -> int:
    """Write ``text`` to ``target``; with ``--check`` in ``argv``, exit 1 if it differs instead."""
    if "--check" in argv:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{target.relative_to(ROOT)} is out of date: run {command}")  # noqa: T201
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")  # noqa: T201
    return 0
