"""Streaming a response body to a path (atomically) or to a binary file object."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import BinaryIO

import anyio

from ._context import Context
from ._exceptions import APIConnectionError
from ._files import AtomicWriter, check_writable_file_obj, local_file_error
from ._security import Security

_CHUNK = 1024 * 1024


async def download_to(
    context: Context,
    url: str,
    destination: str | os.PathLike[str] | BinaryIO,
    security: Security | None,
) -> int:
    """GET ``url`` and stream the body to ``destination``; return the bytes written.

    A path is written atomically (temporary file, renamed once complete; removed on
    any error or cancellation). A body shorter than its ``Content-Length`` is an
    `APIConnectionError`; a file system error (full, read-only) is a `LocalFileError`.
    """
    if isinstance(destination, (str, os.PathLike)):
        writer = AtomicWriter(destination)
        async with writer:
            await _stream(context, url, security, writer.write)
        return writer.written
    file_obj = check_writable_file_obj(destination)
    written = 0

    name = getattr(file_obj, "name", None)

    async def write(chunk: bytes) -> None:
        nonlocal written
        try:
            await anyio.to_thread.run_sync(file_obj.write, chunk)
        except OSError as err:
            raise local_file_error(err, name if isinstance(name, str) else None) from err
        written += len(chunk)

    await _stream(context, url, security, write)
    return written


async def _stream(
    context: Context,
    url: str,
    security: Security | None,
    write: Callable[[bytes], Awaitable[None]],
) -> None:
    async with context.session(security) as http:
        async with http.stream("GET", url, redact=context.secrets(security)) as response:
            expected = response.headers.get("content-length")
            received = 0
            async for chunk in response.aiter_bytes(_CHUNK):
                await write(chunk)
                received += len(chunk)
            if expected is not None and expected.isdigit() and int(expected) != received:
                raise APIConnectionError(
                    f"GET {response.url} ended after {received} of {expected} bytes",
                    method="GET",
                    url=response.url,
                )
