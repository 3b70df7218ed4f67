"""Small files (below the multipart threshold) upload with one store call, end to end.

Against a strict, security-enforcing emulator, in-process and over a loopback socket.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from filestack_async import Filelink, UploadConfig

from .conftest import Target

THRESHOLD = UploadConfig().multipart_threshold
MiB = 1024 * 1024


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 64 * 1024):
        yield data[start : start + 64 * 1024]


def went_one_request(link: Filelink) -> bool:
    """The store call answers with ``type``; multipart complete with ``status``."""
    answer = link.upload_response or {}
    return "type" in answer and "status" not in answer


async def check_stored(target: Target, link: Filelink, data: bytes) -> None:
    reading = target.emulator.storage.open_file(link.handle)
    assert reading is not None
    with reading:
        assert reading.file.size == len(data)
        assert reading.hexdigest("md5") == hashlib.md5(data).hexdigest()
    assert await link.get_content() == data


@pytest.mark.parametrize("size", [1, 64 * 1024, MiB + 5], ids=["1 B", "64 KiB", "1 MiB+5"])
@pytest.mark.parametrize("kind", ["bytes", "path", "file_obj", "stream+size", "stream"])
async def test_a_small_file_is_stored_byte_exact(
    target: Target, tmp_path: Path, size: int, kind: str
) -> None:
    data = os.urandom(size)
    path = tmp_path / "small.txt"
    path.write_bytes(data)
    sources: dict[str, dict[str, Any]] = {
        "bytes": {"content": data},
        "path": {"filepath": path},
        "file_obj": {"file_obj": io.BytesIO(data)},
        "stream+size": {"stream": _chunks(data), "size": size},
        "stream": {"stream": _chunks(data)},
    }
    kwargs = sources[kind]
    link = await target.client.upload(**kwargs)
    assert went_one_request(link)
    await check_stored(target, link, data)


async def test_name_type_and_place_come_through(target: Target, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"some notes")
    link = await target.client.upload(
        filepath=path, store_params={"path": "e2e/notes.txt", "container": "box"}
    )
    assert went_one_request(link)
    meta = await link.metadata()
    assert meta["filename"] == "notes.txt" and meta["mimetype"] == "text/plain"
    assert meta["size"] == 10 and meta["path"] == "e2e/notes.txt"
    assert meta["container"] == "box"
    typed = await target.client.upload(
        content=b"{}", store_params={"filename": "a.json", "mimetype": "application/json"}
    )
    assert (await typed.metadata())["mimetype"] == "application/json"
    assert typed.upload_response is not None
    assert typed.upload_response["handle"] == typed.handle
    assert typed.upload_response["mimetype"] == "application/json"


async def test_the_threshold_is_where_multipart_begins(target: Target) -> None:
    below = os.urandom(THRESHOLD - 1)
    at = below + b"!"
    link_below = await target.client.upload(content=below)
    link_at = await target.client.upload(content=at)
    assert went_one_request(link_below) and not went_one_request(link_at)
    await check_stored(target, link_below, below)
    await check_stored(target, link_at, at)


async def test_params_the_store_call_cannot_carry_go_multipart(target: Target) -> None:
    link = await target.client.upload(content=b"tagged", store_params={"upload_tags": {"k": "v"}})
    assert not went_one_request(link)
    assert link.upload_response is not None and link.upload_response["upload_tags"] == {"k": "v"}
    await check_stored(target, link, b"tagged")


async def test_many_small_files_at_once(target: Target) -> None:
    files = [os.urandom(1000 + i) for i in range(24)]
    links = await target.client.upload_many(files, concurrency=8)
    for link, data in zip(links, files, strict=True):
        assert isinstance(link, Filelink), link
        assert went_one_request(link)
        await check_stored(target, link, data)
