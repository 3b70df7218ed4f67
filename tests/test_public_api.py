"""The public surface: __all__ is sorted and complete, and everything public is documented."""

from __future__ import annotations

import inspect

import filestack_async


def _public_names() -> set[str]:
    return {
        name
        for name, value in vars(filestack_async).items()
        if not name.startswith("_") and not inspect.ismodule(value)
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
