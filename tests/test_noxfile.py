"""``nox -s tests`` installs Debian's chromium for the docs' browser test when it can,
and never fails the run when it cannot (the test then skips with its reason)."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from nox.command import CommandFailed

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def _noxfile() -> ModuleType:
    """The noxfile, imported once (nox refuses a session registered twice)."""
    spec = importlib.util.spec_from_file_location("noxfile", ROOT / "noxfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["noxfile"] = module
    spec.loader.exec_module(module)
    return module


class FakeSession:
    """Records what the session was asked to run; ``fail`` commands raise like nox."""

    def __init__(self, fail: tuple[str, ...] = ()) -> None:
        self.ran: list[tuple[str, ...]] = []
        self.logged: list[str] = []
        self._fail = fail

    def run(self, *args: str, **kwargs: Any) -> None:
        assert kwargs.get("external") is True
        self.ran.append(args)
        if " ".join(args) in self._fail:
            raise CommandFailed("apt-get failed")

    def log(self, message: str) -> None:
        self.logged.append(message)


INSTALL = ("apt-get", "install", "-y", "--no-install-recommends", "chromium")


def _machine(monkeypatch: pytest.MonkeyPatch, module: ModuleType, have: set[str], uid: int) -> None:
    monkeypatch.setattr(
        module.shutil, "which", lambda name: f"/usr/bin/{name}" if name in have else None
    )
    monkeypatch.setattr(module.os, "geteuid", lambda: uid)


def test_nothing_is_installed_when_chromium_is_there(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _noxfile()
    _machine(monkeypatch, module, {"chromium", "apt-get"}, 0)
    session = FakeSession()
    module.ensure_chromium(session)
    assert session.ran == []


def test_chromium_is_installed_with_apt_get_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _noxfile()
    _machine(monkeypatch, module, {"apt-get"}, 0)
    session = FakeSession()
    module.ensure_chromium(session)
    assert session.ran == [INSTALL]


def test_without_root_or_apt_get_it_only_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _noxfile()
    for have, uid in (({"apt-get"}, 1000), (set(), 0)):
        _machine(monkeypatch, module, have, uid)
        session = FakeSession()
        module.ensure_chromium(session)
        assert session.ran == [] and "browser test skips" in session.logged[0]


def test_a_failing_apt_get_never_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _noxfile()
    _machine(monkeypatch, module, {"apt-get"}, 0)
    session = FakeSession(fail=(" ".join(INSTALL), "apt-get update"))
    module.ensure_chromium(session)  # no exception
    assert session.ran == [INSTALL, ("apt-get", "update")]
    assert "browser test skips" in session.logged[-1]
    retried = FakeSession()
    calls = iter([True, False])

    def run(*args: str, **kwargs: Any) -> None:
        retried.ran.append(args)
        if args == INSTALL and next(calls):
            raise CommandFailed("stale package lists")

    monkeypatch.setattr(retried, "run", run)
    module.ensure_chromium(retried)
    assert retried.ran == [INSTALL, ("apt-get", "update"), INSTALL] and retried.logged == []
