"""The import graph: no module of the package reads another module's private names.

Read with `ast` over ``src/filestack_async``. A module may import a package-private
module (``from . import _http``, ``from ._http import HTTPSession``); what it may not
do is use a ``_private`` name that lives in another module:

- ``from ._x import _y`` (a private function, class or constant of ``_x``);
- ``_x._y`` where ``_x`` names an imported module;
- ``Name._y`` where ``Name`` was imported from another module (a class's private
  attribute, read through the class);
- ``obj._y`` on any other object when ``_y`` is a private attribute that only other
  modules define (for instance ``chain._with_task(...)`` in a module that defines no
  ``_with_task``).

Also: ``_filelink``, ``_transform`` and ``_av`` import each other only at the top of
the module, one way (``_av`` → ``_filelink`` → ``_transform``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "filestack_async"
ROOT = "filestack_async"

#: (module, private name): reach-ins still there, each with the reason it stays for now.
ALLOWED: dict[tuple[str, str], str] = {
    # not a module of ours: httpx's transport has no public view of its pool (the
    # checker flags it because _aiohttp has a `_pool` of its own)
    ("filestack_async._http", "_pool"): "httpx's AsyncHTTPTransport._pool, third party",
}


@dataclass(frozen=True)
class Reach:
    module: str
    name: str
    line: int
    how: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.how} {self.name}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, ast.Module]:
    return {
        _module_name(path): ast.parse(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    """The absolute module an ``ImportFrom`` names."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _defined_private(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, assignments, ``self._x``."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            found.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)  # __slots__ entries, setattr(..., "_x", ...)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
    return {name for name in found if _is_private(name)}


def _reaches(modules: dict[str, ast.Module]) -> Iterator[Reach]:
    packages = {name for name in modules if (PACKAGE.parent / name.replace(".", "/")).is_dir()}
    defined = {name: _defined_private(tree) for name, tree in modules.items()}
    everywhere = set().union(*defined.values())
    for module, tree in modules.items():
        module_aliases: dict[str, str] = {}
        imported_names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith(ROOT):
                        module_aliases[alias.asname or alias.name.split(".")[0]] = alias.name
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(module, node, module in packages)
                if not source.startswith(ROOT):
                    continue
                for alias in node.names:
                    target = f"{source}.{alias.name}"
                    local = alias.asname or alias.name
                    if target in modules:
                        module_aliases[local] = target  # a module: importing it is fine
                    elif source != module and _is_private(alias.name):
                        yield Reach(module, alias.name, node.lineno, f"from {source} import")
                    else:
                        imported_names.add(local)
        own = defined[module]
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not _is_private(node.attr):
                continue
            base = node.value
            if isinstance(base, ast.Name) and base.id in module_aliases:
                yield Reach(module, node.attr, node.lineno, f"{module_aliases[base.id]}.")
            elif isinstance(base, ast.Name) and base.id in imported_names:
                if node.attr not in own:
                    yield Reach(module, node.attr, node.lineno, f"{base.id}.")
            elif isinstance(base, ast.Name) and base.id in ("self", "cls"):
                continue
            elif node.attr not in own and node.attr in everywhere:
                yield Reach(module, node.attr, node.lineno, "attribute defined elsewhere:")


def test_no_module_reads_another_modules_private_names() -> None:
    found = [r for r in _reaches(_modules()) if (r.module, r.name) not in ALLOWED]
    assert not found, "private names read across modules:\n" + "\n".join(map(str, found))


def test_every_allowed_reach_in_is_still_there() -> None:
    """An allow-list entry that no longer matches anything is removed, not kept."""
    seen = {(r.module, r.name) for r in _reaches(_modules())}
    stale = sorted(set(ALLOWED) - seen)
    assert not stale, f"allow-list entries with nothing left to allow: {stale}"


def test_the_checker_sees_each_kind_of_reach_in() -> None:
    modules = {
        "filestack_async._a": ast.parse("def _helper() -> None: ...\nclass A:\n    _x = 1\n"),
        "filestack_async._b": ast.parse(
            "from ._a import _helper\n"
            "from . import _a\n"
            "from ._a import A\n"
            "_a._helper()\n"
            "A._x\n"
            "def f(obj: object) -> None:\n"
            "    obj._helper\n"
        ),
    }
    found = {(r.name, r.line) for r in _reaches(modules)}
    assert found == {("_helper", 1), ("_helper", 4), ("_x", 5), ("_helper", 7)}


_CYCLE = ("filestack_async._filelink", "filestack_async._transform", "filestack_async._av")
#: who may import whom among the three (one way)
_DIRECTION = {
    "filestack_async._av": {"filestack_async._filelink", "filestack_async._transform"},
    "filestack_async._filelink": {"filestack_async._transform"},
    "filestack_async._transform": set(),
}


def _imports_of(module: str, tree: ast.Module, *, top_level: bool) -> set[str]:
    body = tree.body if top_level else list(ast.walk(tree))
    found: set[str] = set()
    for node in body:
        if isinstance(node, ast.ImportFrom):
            source = _resolve(module, node, False)
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & set(_CYCLE)


@pytest.mark.parametrize("module", _CYCLE)
def test_filelink_transform_av_import_one_way_at_top_level(module: str) -> None:
    tree = _modules()[module]
    runtime = set(tree.body)
    # TYPE_CHECKING blocks are for annotations only; drop them from the runtime imports
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            runtime.discard(node)
    top = _imports_of(module, ast.Module(body=list(runtime), type_ignores=[]), top_level=True)
    anywhere = _imports_of(module, ast.Module(body=list(runtime), type_ignores=[]), top_level=False)
    assert anywhere == top, f"{module} imports {sorted(anywhere - top)} inside a function"
    assert top <= _DIRECTION[module], f"{module} imports {sorted(top - _DIRECTION[module])}"


def test_a_chain_loaded_alone_still_makes_filelinks_and_conversions() -> None:
    """The package imports names on first use: `Transformation` may come without the others."""
    code = (
        "import sys\n"
        "from filestack_async import Transformation\n"
        "assert 'filestack_async._filelink' not in sys.modules\n"
        "from filestack_async._results import conversion_maker, filelink_maker\n"
        "made = (filelink_maker(), conversion_maker())\n"
        "from filestack_async._filelink import filelink_from_answer\n"
        "from filestack_async._av import AudioVisual\n"
        "assert made == (filelink_from_answer, AudioVisual)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
