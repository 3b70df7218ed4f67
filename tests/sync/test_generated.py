"""The generated sync twins cannot drift from the async classes.

* regenerating ``_sync_generated.py`` gives the committed file byte for byte;
* every public async member has a sync twin with the same parameters (names,
  kinds, defaults and annotations, resolved to the objects they name), and the
  same return annotation with async twins mapped to sync ones; coroutine methods
  become plain methods.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import filestack_async
from filestack_async import _sync_generated, sync
from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]
ASYNC_TO_SYNC: dict[Any, Any] = {
    filestack_async.Client: sync.Client,
    filestack_async.Filelink: sync.Filelink,
    filestack_async.Transformation: sync.Transformation,
    filestack_async.AudioVisual: sync.AudioVisual,
}
#: what each async type in a signature is in the sync one: the twins, and a stream (an
#: async context manager of an async iterable becomes a sync one of a sync iterable)
SYNC_TYPES: dict[Any, Any] = {
    **ASYNC_TO_SYNC,
    contextlib.AbstractAsyncContextManager: contextlib.AbstractContextManager,
    filestack_async.DownloadStream: sync.SyncDownloadStream,
}
#: async lifecycle members and their sync names
RENAMED = {"__aenter__": "__enter__", "__aexit__": "__exit__", "aclose": "close"}


def load_generator() -> ModuleType:
    return load_script("gen_sync")


def test_regenerating_gives_the_committed_file() -> None:
    generated = load_generator().generate()
    committed = (ROOT / "src" / "filestack_async" / "_sync_generated.py").read_text("utf-8")
    assert generated == committed, "run: python scripts/gen_sync.py"


# -- signatures --------------------------------------------------------------------------------


_NAMESPACES: dict[str, dict[str, Any]] = {}


def namespace_of(module: ModuleType) -> dict[str, Any]:
    """The module's names, including those it imports only under ``TYPE_CHECKING``."""
    if module.__name__ not in _NAMESPACES:
        _NAMESPACES[module.__name__] = {**_type_checking_names(module), **vars(module)}
    return _NAMESPACES[module.__name__]


def _type_checking_names(module: ModuleType) -> dict[str, Any]:
    scope: dict[str, Any] = {"__name__": module.__name__, "__package__": module.__package__}
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            exec(compile(ast.Module(body=node.body, type_ignores=[]), "<tc>", "exec"), scope)
    return scope


def resolved(annotation: object, fn: Callable[..., Any], mapping: dict[Any, Any]) -> str:
    """The annotation's structure with every name replaced by the identity of its object."""
    if not isinstance(annotation, str):
        return repr(annotation)
    namespace = namespace_of(sys.modules[fn.__module__])
    tree = ast.parse(annotation, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            obj = namespace[node.id] if node.id in namespace else getattr(builtins, node.id)
            obj = mapping.get(obj, obj)
            node.id = (
                f"{getattr(obj, '__module__', '')}:{getattr(obj, '__qualname__', '')}:{id(obj)}"
            )
    return ast.dump(tree)


def public_members(cls: type) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__[:-1]):
        for name, value in vars(klass).items():
            if not name.startswith("_") or name in RENAMED or name == "__init__":
                found[name] = value
    return found


CASES = [
    (async_cls, sync_cls, name)
    for async_cls, sync_cls in ASYNC_TO_SYNC.items()
    for name in public_members(async_cls)
]


@pytest.mark.parametrize(
    ("async_cls", "sync_cls", "name"), CASES, ids=[f"{a.__name__}.{n}" for a, _, n in CASES]
)
def test_every_public_member_has_a_sync_twin(async_cls: type, sync_cls: type, name: str) -> None:
    async_member = inspect.getattr_static(async_cls, name)
    sync_member = inspect.getattr_static(sync_cls, RENAMED.get(name, name))
    if inspect.ismemberdescriptor(async_member) or name in ("handle", "upload_response"):
        assert isinstance(sync_member, property)
        return
    if isinstance(async_member, property):
        assert isinstance(sync_member, property), name
        assert async_member.fget is not None and sync_member.fget is not None
        assert resolved(
            async_member.fget.__annotations__["return"], async_member.fget, ASYNC_TO_SYNC
        ) == resolved(sync_member.fget.__annotations__["return"], sync_member.fget, {})
        return
    assert inspect.isfunction(async_member) and inspect.isfunction(sync_member), name
    assert not inspect.iscoroutinefunction(sync_member)
    a_sig, s_sig = inspect.signature(async_member), inspect.signature(sync_member)
    assert list(a_sig.parameters) == list(s_sig.parameters)
    for a_param, s_param in zip(a_sig.parameters.values(), s_sig.parameters.values(), strict=True):
        assert a_param.kind == s_param.kind, a_param.name
        assert a_param.default == s_param.default, a_param.name
        if a_param.name == "self":
            continue
        assert resolved(a_param.annotation, async_member, SYNC_TYPES) == resolved(
            s_param.annotation, sync_member, {}
        ), a_param.name
    if name == "__aenter__":
        # typed with a self TypeVar in the lifecycle mixin; `with` returns the client itself
        # (test_client.py checks it at runtime)
        return
    assert resolved(a_sig.return_annotation, async_member, SYNC_TYPES) == resolved(
        s_sig.return_annotation, sync_member, {}
    )


def test_instance_attributes_are_properties() -> None:
    for name in ("url", "uuid", "timestamp", "last_payload"):
        assert isinstance(inspect.getattr_static(sync.AudioVisual, name), property)
    for name in ("handle", "upload_response"):
        assert isinstance(inspect.getattr_static(sync.Filelink, name), property)


def test_the_sync_classes_have_nothing_the_async_ones_lack() -> None:
    extra_allowed = {"close", "__enter__", "__exit__", "url", "uuid", "timestamp", "last_payload"}
    for async_cls, sync_cls in ASYNC_TO_SYNC.items():
        sync_names = {n for n in dir(sync_cls) if not n.startswith("_")}
        async_names = {n for n in dir(async_cls) if not n.startswith("_")}
        assert sync_names - async_names <= extra_allowed, sync_cls
        assert sync_names >= async_names - set(RENAMED), sync_cls


def test_generated_module_is_what_sync_exports() -> None:
    for name in ("Client", "Filelink", "Transformation", "AudioVisual"):
        assert getattr(sync, name) is getattr(_sync_generated, name)
