"""Fixtures for the sync facade tests: a fake service, and a check that no loop thread leaks."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from filestack_async import _portal
from filestack_async.sync import Client

from ._fake import BASE, FakeFilestack


def portal_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "portal" in t.name and t.is_alive()]


@pytest.fixture(autouse=True)
def _no_loop_thread_left(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts with the running-loop warning unshown and leaves no loop thread."""
    monkeypatch.setattr(_portal, "_warned_running_loop", False)
    before = set(portal_threads())
    yield
    left = [t for t in portal_threads() if t not in before]
    assert not left, f"loop threads still running after the test: {left}"


@pytest.fixture
def fake() -> FakeFilestack:
    return FakeFilestack()


@pytest.fixture
def client(fake: FakeFilestack) -> Iterator[Client]:
    with Client("APIKEY", base_url=BASE, transport=fake.transport()) as c:
        yield c
