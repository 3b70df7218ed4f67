"""Cancelling an upload at any point stops every part, closes every file, leaks no task,
and leaves the client ready for the next upload."""

from __future__ import annotations

import asyncio
import io
import os
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
import respx

from filestack_async import Client, RetryPolicy, UploadConfig

from ..fakes import Unseekable
from ._upload_fake import FakeUploadAPI
from .conftest import APIKEY

MiB = 1024 * 1024
DATA = random.Random(5).randbytes(11 * MiB)
KINDS = ["path", "bytes", "seekable file", "unseekable file", "stream with size", "stream spooled"]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Stream:
    """An async byte stream that records whether it was closed."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.started = False
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.started = True
        try:
            for i in range(0, len(self.data), 1_000_000):
                await anyio.lowlevel.checkpoint()
                yield self.data[i : i + 1_000_000]
        finally:
            self.closed = True


def source(kind: str, path: Path) -> tuple[dict[str, Any], Stream | None]:
    stream = Stream(DATA)
    makers: dict[str, Callable[[], dict[str, Any]]] = {
        "path": lambda: {"filepath": path},
        "bytes": lambda: {"content": DATA},
        "seekable file": lambda: {"file_obj": io.BytesIO(DATA)},
        "unseekable file": lambda: {"file_obj": Unseekable(DATA), "size": len(DATA)},
        "stream with size": lambda: {"stream": stream, "size": len(DATA)},
        "stream spooled": lambda: {"stream": stream},
    }
    return makers[kind](), stream if kind.startswith("stream") else None


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files via /proc")
@pytest.mark.parametrize("cancel_at", [0, 1, 2, 3, 4, 5, 6, 7, 8, 12])
@pytest.mark.parametrize("intelligent", [False, True], ids=["regular", "intelligent"])
@pytest.mark.parametrize("kind", KINDS)
@respx.mock
async def test_cancel_at_any_request(
    kind: str, intelligent: bool, cancel_at: int, retry_policy: RetryPolicy, tmp_path: Path
) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    config = UploadConfig(part_size=5 * MiB, concurrency=2, intelligent_chunk_size=2 * MiB)
    scope = anyio.CancelScope()
    seen = {"n": 0}

    def maybe_cancel(request: httpx.Request) -> httpx.Response | None:
        if seen["n"] == cancel_at:
            scope.cancel()
        seen["n"] += 1
        return None

    for kind_of_request in ("start", "upload", "put", "commit", "complete"):
        fake.hooks[kind_of_request] = maybe_cancel

    async with Client(APIKEY, retry=retry_policy, upload=config) as client:
        fds = open_fds()
        kwargs, stream = source(kind, path)
        result = None
        with scope:
            result = await client.upload(**kwargs, intelligent=intelligent)
        if result is None:
            assert scope.cancel_called
        else:  # cancelled after the last answer arrived (or never): the upload is whole
            assert fake.assembled() == DATA
        assert open_fds() == fds
        assert asyncio.all_tasks() == {asyncio.current_task()}
        if stream is not None:
            assert stream.closed or not stream.started

        # the client is still usable
        fake.hooks.clear()
        fake.stored.clear()
        fake.starts = 0
        kwargs, _ = source(kind, path)
        await client.upload(**kwargs, intelligent=intelligent)
        assert fake.assembled("UPID") == DATA
    assert open_fds() == fds


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files via /proc")
@pytest.mark.parametrize("checkpoints", [0, 1, 3, 10, 30, 100])
@respx.mock
async def test_cancel_while_reading_and_hashing(
    checkpoints: int, retry_policy: RetryPolicy, tmp_path: Path
) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    config = UploadConfig(part_size=5 * MiB, concurrency=3)
    async with Client(APIKEY, retry=retry_policy, upload=config) as client:
        fds = open_fds()
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: client.upload(filepath=path))
            tg.start_soon(lambda: client.upload(stream=Stream(DATA)))
            for _ in range(checkpoints):
                await anyio.lowlevel.checkpoint()
            tg.cancel_scope.cancel()
        assert open_fds() == fds
        assert asyncio.all_tasks() == {asyncio.current_task()}
        link = await client.upload(filepath=path)
        assert link.upload_response is not None
