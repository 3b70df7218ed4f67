"""pytest fixtures for testing your own code against the local Filestack emulator.

Opt in from your ``conftest.py``::

    pytest_plugins = ["filestack_async.testing"]

Then use the fixtures (async ones work with pytest-asyncio's auto mode or anyio's
pytest plugin)::

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
* ``filestack_webhook_receiver``: a `WebhookReceiver` on a loopback port that keeps
  the webhooks it is sent; give its ``.url`` to ``emulator.webhooks.add(...)``.

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

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from . import Client
from .emulator import Emulator, EmulatorConfig, EmulatorServer
from .emulator.receiver import WebhookReceiver

EmulatorFactory = Callable[..., Emulator]


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
async def filestack_client(filestack_emulator: Emulator) -> AsyncIterator[Client]:
    """An async `Client` talking to ``filestack_emulator`` in-process."""
    async with filestack_emulator.client() as client:
        yield client


@pytest.fixture
def filestack_emulator_server(tmp_path: Path) -> Iterator[EmulatorServer]:
    """The emulator on a free loopback port; ``.url`` is its base URL."""
    with EmulatorServer(data_dir=tmp_path / "filestack-emulator-server") as server:
        yield server


@pytest.fixture
def filestack_webhook_receiver() -> Iterator[WebhookReceiver]:
    """A loopback webhook receiver; ``.url`` to configure, ``.wait_for(n)`` to read."""
    with WebhookReceiver() as receiver:
        yield receiver
