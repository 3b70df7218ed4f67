"""pytest fixtures for testing your own code against the local Filestack emulator.

Opt in from your ``conftest.py``::

    pytest_plugins = ["filestack_async.testing"]

Then use the fixtures. They are plain (not async) fixtures, so they work in
pytest-asyncio's strict mode (its default: mark async tests ``@pytest.mark.asyncio``)
and auto mode (no mark needed), and with anyio's plugin (``@pytest.mark.anyio``)::

    @pytest.mark.asyncio
    async def test_avatar_upload(filestack_client):
        link = await my_app.save_avatar(filestack_client, b"...")
        assert await link.get_content() == b"..."

Fixtures:

* ``filestack_emulator``: an in-process `Emulator` with its own data folder.
* ``filestack_client``: an async `Client` bound to ``filestack_emulator`` (no socket).
* ``filestack_emulator_server``: an `EmulatorServer` on a free loopback port
  (``.url`` for ``base_url=``), for code that needs a real socket.
* ``filestack_emulator_factory``: call it with `EmulatorConfig` fields
  (``secret=``, ``strict=``, ``faults=Faults(...)``, ``webhooks=(url,)``,
  ``seed=path``) for more emulators.
* ``filestack_emulator_server_factory``: the same fields (and ``host=``,
  ``allow_open=``) for more emulators on loopback ports.
* ``filestack_webhook_receiver``: a `WebhookReceiver` on a loopback port that keeps
  the webhooks it is sent; give its ``.url`` to ``emulator.webhooks.add(...)``.

`assert_faults_injected` checks the fault counters (``emulator.faults.injected``):
``assert_faults_injected(emulator, {"put:503": 2})``.

Every emulator keeps a request journal, ``emulator.journal``, to assert what your
code sent::

    assert emulator.journal.counts(route=("start", "put", "complete")) == {
        "start": 1, "put": 3, "complete": 1}

An emulator with a ``secret`` guards its control plane (``/_emulator/reset``,
``files``, ``faults``, ``violations``) with it: send ``emulator.control_headers``
(or ``server.control_headers``) with those requests; without a secret they are
empty and the control plane is open.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest

from . import Client
from .emulator import Emulator, EmulatorConfig, EmulatorServer
from .emulator.config import ROUTES
from .emulator.receiver import WebhookReceiver

__all__ = [
    "EmulatorFactory",
    "EmulatorServerFactory",
    "assert_faults_injected",
    "filestack_client",
    "filestack_emulator",
    "filestack_emulator_factory",
    "filestack_emulator_server",
    "filestack_emulator_server_factory",
    "filestack_webhook_receiver",
]

EmulatorFactory = Callable[..., Emulator]
EmulatorServerFactory = Callable[..., EmulatorServer]

#: what a counter of ``emulator.faults.injected`` counts, after its ``route:``
_FAULT_KINDS = re.compile(r"reset|delay|too-big|202|[45][0-9][0-9](\+retry-after)?")


@pytest.fixture
def filestack_emulator_factory(tmp_path: Path) -> Iterator[EmulatorFactory]:
    """Make emulators with given settings; each is closed after the test."""
    made: list[Emulator] = []

    def make(**settings: Any) -> Emulator:
        settings.setdefault("data_dir", tmp_path / f"filestack-emulator-{len(made)}")
        emulator = Emulator(EmulatorConfig(**settings))
        made.append(emulator)
        return emulator

    yield make
    for emulator in made:
        emulator.close()


@pytest.fixture
def filestack_emulator(filestack_emulator_factory: EmulatorFactory) -> Emulator:
    """A fresh in-process emulator (lenient, no secret)."""
    return filestack_emulator_factory()


@pytest.fixture
def filestack_client(filestack_emulator: Emulator) -> Iterator[Client]:
    """An async `Client` talking to ``filestack_emulator`` in-process.

    A plain fixture (the client needs no event loop until it is used), so it serves
    tests in pytest-asyncio's strict and auto modes and anyio's (asyncio or trio).
    """
    client = filestack_emulator.client()
    yield client
    if not client.is_closed:
        anyio.run(client.aclose)  # in-process: nothing to flush, no socket


@pytest.fixture
def filestack_emulator_server_factory(tmp_path: Path) -> Iterator[EmulatorServerFactory]:
    """Start emulators on free loopback ports; each is stopped after the test.

    Takes what ``filestack_emulator_factory`` takes (`EmulatorConfig` fields:
    ``secret=``, ``strict=``, ``faults=Faults(..., network=NetworkProfile(...))``,
    ``data_dir=``, ``apikeys=``...) and `EmulatorServer`'s ``host=`` and ``allow_open=``.
    """
    started: list[EmulatorServer] = []

    def make(**settings: Any) -> EmulatorServer:
        settings.setdefault("data_dir", tmp_path / f"filestack-emulator-server-{len(started)}")
        server = EmulatorServer(**settings)
        started.append(server)
        return server.start()

    yield make
    for server in reversed(started):
        server.stop()


@pytest.fixture
def filestack_emulator_server(
    filestack_emulator_server_factory: EmulatorServerFactory,
) -> EmulatorServer:
    """The emulator on a free loopback port (lenient, no secret); ``.url`` is its base URL."""
    return filestack_emulator_server_factory()


def assert_faults_injected(
    emulator: Emulator | EmulatorServer, expected: Mapping[str, int], *, exact: bool = True
) -> None:
    """Assert how many faults the emulator injected, by counter (``"route:kind"``).

    ``assert_faults_injected(emulator, {"put:503": 2, "complete:202": 1})`` passes
    when exactly two part PUTs were answered 503 and one complete 202 (``exact=False``:
    at least that many). Counters not named are not checked; ``{"put:reset": 0}``
    asserts none. Kinds: ``reset``, ``delay``, a status (``503``; those sent with a
    ``Retry-After`` are also counted as ``503+retry-after``), and ``put:too-big`` and
    ``complete:202`` for `Faults`'s ``max_chunk_size`` and ``complete_202``.

    Raises:
        AssertionError: a counter differs; the message lists every counter.
        ValueError: a key that names no route or kind (a typo would always pass).
    """
    target = emulator.emulator if isinstance(emulator, EmulatorServer) else emulator
    for key in expected:
        route, colon, kind = key.partition(":")
        if not colon or route not in ROUTES or not _FAULT_KINDS.fullmatch(kind):
            raise ValueError(
                f"{key!r} is not a fault counter: use 'route:kind' with a route of "
                f"{', '.join(ROUTES)} and a kind such as reset, delay, 503, too-big or 202"
            )
    counts = target.faults.injected
    wrong = {
        key: counts[key]
        for key, count in expected.items()
        if (counts[key] != count if exact else counts[key] < count)
    }
    if wrong:
        want = "" if exact else "at least "
        details = ", ".join(
            f"{key}: {want}{expected[key]} expected, {n} seen" for key, n in wrong.items()
        )
        every = dict(sorted(counts.items())) or "none"
        raise AssertionError(f"faults injected: {details} (all counters: {every})")


@pytest.fixture
def filestack_webhook_receiver() -> Iterator[WebhookReceiver]:
    """A loopback webhook receiver; ``.url`` to configure, ``.wait_for(n)`` to read."""
    with WebhookReceiver() as receiver:
        yield receiver
