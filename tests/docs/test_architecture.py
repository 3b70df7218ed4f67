"""docs/architecture.md's table from each module to its tests matches the tree.

Every module of the package has one row; every test path a row names exists. A module
added without a row, or a test file renamed under a row, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "filestack_async"
DOC = ROOT / "docs" / "architecture.md"
SECTION = "## Modules and their tests"


def _rows() -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text, f"docs/architecture.md has no {SECTION!r} section"
    body = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        modules = re.findall(r"`([^`]+)`", cells[0])
        tests = re.findall(r"`(tests/[^`]+)`", cells[1])
        for module in modules:
            assert module not in rows, f"{module} has two rows"
            rows[module] = tests
    return rows


def _modules() -> set[str]:
    return {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "__pycache__" not in path.parts
    }


def test_every_module_has_a_row_and_every_row_a_module() -> None:
    rows = _rows()
    assert sorted(_modules() - set(rows)) == [], "modules missing from the table"
    assert sorted(set(rows) - _modules()) == [], "rows for modules that do not exist"


def test_every_test_path_exists() -> None:
    missing = [
        f"{module}: {test}"
        for module, tests in _rows().items()
        for test in tests
        if not (ROOT / test.split("::")[0]).exists()
    ]
    assert missing == []
