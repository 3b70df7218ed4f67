"""The ``av_convert`` package: one module per job, importing each other one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from filestack_async.emulator import av_convert

PACKAGE = Path(av_convert.__file__).parent

#: the package's modules each may import (at any depth, TYPE_CHECKING included)
ALLOWED = {
    "presets": set(),
    "transcode": {"presets"},
    "request": {"presets"},
    "jobs": {"presets", "transcode"},
    "route": {"jobs", "request"},
    "__init__": {"jobs", "presets", "route", "transcode"},
}


def _siblings_imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_every_module_is_listed() -> None:
    assert {path.stem for path in PACKAGE.glob("*.py")} == set(ALLOWED)


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_imports_point_one_way(module: str) -> None:
    assert _siblings_imported(PACKAGE / f"{module}.py") == ALLOWED[module]
