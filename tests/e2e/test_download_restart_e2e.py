"""A download that outlives its server: the socket emulator is stopped mid-body and a new
one started on the same folder and port; the stream, `download()` and `get_content()`
resume where they stopped and end byte-exact (on both pools)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.to_thread

from filestack_async import Client, RetryPolicy
from filestack_async.emulator import EmulatorServer

from .conftest import free_port

MiB = 1024 * 1024
SIZE = 48 * MiB  # well past what loopback socket buffers hold, so the stop cuts the body
CUT_AFTER = 4 * MiB


@dataclass
class Restarts:
    """Runs the emulator on one folder and port; `stop()` ends the running one, and the
    retry policy's sleep starts a new one (so the client's next attempt finds it)."""

    data_dir: Path
    port: int
    servers: list[EmulatorServer] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    down: bool = False

    async def start(self) -> EmulatorServer:
        server = EmulatorServer(data_dir=self.data_dir, port=self.port)
        await anyio.to_thread.run_sync(server.start)
        self.servers.append(server)
        self.down = False
        return server

    async def stop(self) -> None:
        self.down = True
        await anyio.to_thread.run_sync(self.servers[-1].stop)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.down:
            await self.start()

    def policy(self) -> RetryPolicy:
        return RetryPolicy(max_retries=4, sleep=self.sleep, random=lambda: 0.5)


@asynccontextmanager
async def restartable(
    tmp_path: Path, http_backend: str | None
) -> AsyncIterator[tuple[Restarts, Client, str, bytes]]:
    """A client, its restartable emulator, and the handle and bytes of a stored file."""
    data = os.urandom(SIZE)
    restarts = Restarts(tmp_path / "data", free_port())
    server = await restarts.start()
    try:
        async with Client(
            "E2E-KEY",
            base_url=server.url,
            retry=restarts.policy(),
            http_backend=http_backend,  # type: ignore[arg-type]
        ) as client:
            link = await client.upload(content=data)
            yield restarts, client, link.handle, data
    finally:
        for running in restarts.servers:
            await anyio.to_thread.run_sync(running.stop)


async def _stop_once_past(restarts: Restarts, received: int, stopped: list[bool]) -> None:
    if received >= CUT_AFTER and not stopped:
        stopped.append(True)
        await restarts.stop()


async def test_a_stream_resumes_on_a_restarted_emulator(
    tmp_path: Path, http_backend: str | None
) -> None:
    async with restartable(tmp_path, http_backend) as (restarts, client, handle, data):
        digest, stopped = hashlib.sha256(), list[bool]()
        async with client.filelink(handle).stream() as body:
            async for chunk in body:
                digest.update(chunk)
                await _stop_once_past(restarts, body.received, stopped)
            assert body.resumes >= 1 and body.received == SIZE
        assert stopped and len(restarts.servers) == 2  # it really went down and came back
        assert digest.digest() == hashlib.sha256(data).digest()


class StopsTheServer:
    """A file object whose writes stop the emulator, once, after `CUT_AFTER` bytes: the
    write blocks the client until the server is down (its graceful second runs out while
    the body is unread, so the connection is cut mid-body)."""

    def __init__(self, restarts: Restarts) -> None:
        self.restarts = restarts
        self.digest = hashlib.sha256()
        self.written = 0
        self.stopped = False

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.written += len(data)
        if self.written >= CUT_AFTER and not self.stopped:
            self.stopped = True
            self.restarts.down = True
            self.restarts.servers[-1].stop()
        return len(data)


async def test_download_to_a_file_object_resumes_on_a_restarted_emulator(
    tmp_path: Path, http_backend: str | None
) -> None:
    async with restartable(tmp_path, http_backend) as (restarts, client, handle, data):
        out = StopsTheServer(restarts)
        written = await client.filelink(handle).download(out)  # type: ignore[arg-type]
        assert out.stopped and len(restarts.servers) == 2
        assert written == out.written == SIZE
        assert out.digest.digest() == hashlib.sha256(data).digest()
