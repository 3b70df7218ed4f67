"""Receiving a body into a temporary file: one helper for every route that takes bytes.

The part PUT, ``/api/store`` (raw body or form field), and ``/process`` fetching a URL all
stream into an incoming file through :func:`receive`. Chunks are gathered until a block
(:data:`BLOCK`, 1 MiB) is held, then hashed and written in the same worker-thread call:
MD5 runs at a few hundred MB/s, so hashing on the event loop would stall every other
request for milliseconds per MiB, and one thread hop per block (not per 64 KiB chunk)
keeps the hops cheap. Memory holds at most a block (plus one chunk) per request.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import anyio

#: bytes gathered before one write-and-hash call in a worker thread
BLOCK = 1024 * 1024

Run = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Received:
    """What :func:`receive` wrote: the byte count and the MD5 digest (16 bytes)."""

    size: int
    digest: bytes

    @property
    def md5(self) -> str:
        """The MD5 digest in hex."""
        return self.digest.hex()


class _Sink:
    """Hashes and writes blocks of chunks to a file (runs in worker threads)."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.md5 = hashlib.md5()

    def write(self, chunks: list[bytes]) -> None:
        """Hash and write the chunks as they are (no joining copy)."""
        update = self.md5.update
        for chunk in chunks:
            update(chunk)
        self.file.writelines(chunks)


def _open(path: Path) -> BinaryIO:
    return path.open("wb")


async def receive(
    blocks: AsyncIterable[bytes],
    path: Path,
    run: Run,
    *,
    check: Callable[[int], None] | None = None,
) -> Received:
    """Write ``blocks`` to a new file at ``path``, hashing them; the size and digest.

    ``check(received)`` is called with the running byte count before each chunk is kept;
    it raises to refuse (a size limit), and nothing more is read then. ``run`` runs
    blocking work in a worker thread (``Emulator.run``). On any error (a refusal, a
    full disk, a cancellation, a dropped client) the file is closed and removed, and the
    error goes on.
    """
    file: BinaryIO = await run(_open, path)
    sink = _Sink(file)
    size = 0
    try:
        try:
            pending: list[bytes] = []
            held = 0
            async for chunk in blocks:
                if check is not None:
                    check(size + len(chunk))
                size += len(chunk)
                pending.append(chunk)
                held += len(chunk)
                if held >= BLOCK:
                    await run(sink.write, pending)
                    pending, held = [], 0
            if pending:
                await run(sink.write, pending)
        finally:
            with anyio.CancelScope(shield=True):
                await run(file.close)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await run(path.unlink, True)
        raise
    return Received(size, sink.md5.digest())
