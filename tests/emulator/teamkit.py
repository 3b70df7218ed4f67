"""An SDK client and an emulator, in-process or over a loopback socket (the journal,
webhook, seed and dashboard tests run both ways)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx

from filestack_async import Client, RetryPolicy, Security
from filestack_async.emulator import Emulator, EmulatorConfig, EmulatorServer, EmulatorTransport
from filestack_async.emulator.app import IN_PROCESS_URL

KINDS = ["in-process", "socket"]


class NoSleep(list[float]):
    """Records retry delays instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def eventually(condition: Callable[[], bool]) -> bool:
    """Poll ``condition`` for a few seconds: a socket emulator records a request's journal
    entry after its last byte is sent, so a client may read the answer first."""
    for _ in range(200):
        if condition():
            return True
        await anyio.sleep(0.02)
    return condition()


@dataclass
class Team:
    """An emulator, an SDK client bound to it, a raw HTTP client and its base URL."""

    emulator: Emulator
    client: Client
    http: httpx.AsyncClient
    base: str
    kind: str


@asynccontextmanager
async def team(
    kind: str, tmp_path: Path, *, security: Security | None = None, **settings: Any
) -> AsyncIterator[Team]:
    """A `Team` reached in-process or over a socket, closed on exit (``settings``:
    `EmulatorConfig` fields; ``security``: the client's)."""
    retry = RetryPolicy(sleep=NoSleep(), random=lambda: 0.5)
    config = EmulatorConfig(data_dir=tmp_path / f"emu-{kind}", **settings)
    if kind == "in-process":
        emulator = Emulator(config)
        try:
            async with (
                emulator.client(retry=retry, security=security) as client,
                httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http,
            ):
                yield Team(emulator, client, http, IN_PROCESS_URL, kind)
        finally:
            emulator.close()
    else:
        async with EmulatorServer(config) as server:
            async with (
                Client("TEAM-KEY", base_url=server.url, retry=retry, security=security) as client,
                httpx.AsyncClient() as http,
            ):
                yield Team(server.emulator, client, http, server.url, kind)
