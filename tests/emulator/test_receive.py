"""The receive-to-temp-file helper on its own: size and digest, refusals, clean-up."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest

from filestack_async.emulator.receive import BLOCK, receive

T = TypeVar("T")


async def run(func: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(lambda: func(*args))


class Chunks:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.pulled += 1
            yield chunk


async def test_writes_every_chunk_and_hashes_them(tmp_path: Path) -> None:
    chunks = [bytes([i]) * 65536 for i in range(40)]  # 2.5 blocks
    target = tmp_path / "in"
    got = await receive(Chunks(chunks), target, run)
    data = b"".join(chunks)
    assert target.read_bytes() == data
    assert got.size == len(data) > 2 * BLOCK
    assert got.digest == hashlib.md5(data).digest() and got.md5 == hashlib.md5(data).hexdigest()


async def test_a_refusal_stops_reading_and_removes_the_file(tmp_path: Path) -> None:
    body = Chunks([b"x" * 65536] * 100)
    target = tmp_path / "in"

    def at_most(received: int) -> None:
        if received > 3 * 65536:
            raise ValueError("too big")

    with pytest.raises(ValueError, match="too big"):
        await receive(body, target, run, check=at_most)
    assert body.pulled == 4 and not target.exists()


async def test_an_error_from_the_body_removes_the_file(tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (2 * BLOCK)
        raise ConnectionError("gone")

    target = tmp_path / "in"
    with pytest.raises(ConnectionError):
        await receive(broken(), target, run)
    assert not target.exists()
