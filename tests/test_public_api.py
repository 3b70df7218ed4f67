"""The public surface: __all__ is sorted and complete, and everything public is documented."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import filestack_async


def _public_names() -> set[str]:
    return {
        name
        for name in dir(filestack_async)
        if not name.startswith("_") and not inspect.ismodule(getattr(filestack_async, name))
    } | {"__version__"}


def test_all_is_sorted_and_complete() -> None:
    assert filestack_async.__all__ == sorted(filestack_async.__all__)
    assert set(filestack_async.__all__) == _public_names()


def test_every_public_name_is_documented() -> None:
    missing = []
    for name in filestack_async.__all__:
        value = getattr(filestack_async, name)
        if name == "__version__":
            continue
        if not inspect.getdoc(value):
            missing.append(name)
        if inspect.isclass(value):
            for attr, member in vars(value).items():
                if attr.startswith("_"):
                    continue
                target = member.fget if isinstance(member, property) else member
                if callable(target) or isinstance(member, property):
                    if not inspect.getdoc(target):
                        missing.append(f"{name}.{attr}")
    assert missing == []


def test_importing_the_package_loads_no_public_module_until_a_name_is_used() -> None:
    code = (
        "import sys, filestack_async as f\n"
        "print(sorted(m for m in sys.modules if m.startswith(('httpx', 'anyio', 'filestack'))))\n"
        "f.Client\n"
        "print('httpx' in sys.modules, 'filestack_async._client' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["['filestack_async', 'filestack_async._version']", "True True"]


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Clinet'"):
        filestack_async.Clinet  # type: ignore[attr-defined]  # noqa: B018
