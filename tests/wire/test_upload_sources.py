"""Every kind of source, in both flows, arrives intact; bad sources fail before any request."""

from __future__ import annotations

import io
import os
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import respx

from filestack_async import Client, ConfigurationError, RetryPolicy, UploadConfig, UploadError

from ._upload_fake import FakeUploadAPI
from .conftest import APIKEY

MiB = 1024 * 1024
DATA = random.Random(3).randbytes(11 * MiB + 123)


class Unseekable(io.RawIOBase):
    """A binary pipe-like reader: no seek, short reads."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), 300_000, len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


async def chunks(data: bytes, step: int = 777_777) -> AsyncIterator[bytes]:
    for i in range(0, len(data), step):
        yield data[i : i + step]


def sources(tmp_path: Path) -> dict[str, Callable[[], dict[str, Any]]]:
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    return {
        "path": lambda: {"filepath": path},
        "str path": lambda: {"filepath": os.fspath(path)},
        "bytes": lambda: {"content": DATA},
        "bytearray": lambda: {"content": bytearray(DATA)},
        "memoryview": lambda: {"content": memoryview(DATA)},
        "seekable file": lambda: {"file_obj": io.BytesIO(DATA)},
        "unseekable file with size": lambda: {"file_obj": Unseekable(DATA), "size": len(DATA)},
        "unseekable file spooled": lambda: {"file_obj": Unseekable(DATA)},
        "stream with size": lambda: {"stream": chunks(DATA), "size": len(DATA)},
        "stream spooled": lambda: {"stream": chunks(DATA)},
    }


KINDS = [
    "path",
    "str path",
    "bytes",
    "bytearray",
    "memoryview",
    "seekable file",
    "unseekable file with size",
    "unseekable file spooled",
    "stream with size",
    "stream spooled",
]


@pytest.fixture
async def client(retry_policy: RetryPolicy) -> AsyncIterator[Client]:
    config = UploadConfig(
        part_size=5 * MiB, intelligent_chunk_size=2 * MiB, concurrency=3, multipart_threshold=0
    )
    async with Client(APIKEY, retry=retry_policy, upload=config) as c:
        yield c


@pytest.mark.parametrize("intelligent", [False, True], ids=["regular", "intelligent"])
@pytest.mark.parametrize("kind", KINDS)
@respx.mock
async def test_every_source_kind_arrives_intact(
    kind: str, intelligent: bool, client: Client, tmp_path: Path
) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    link = await client.upload(**sources(tmp_path)[kind](), intelligent=intelligent)
    assert fake.assembled() == DATA
    assert fake.bodies("start")[0]["size"] == len(DATA)
    assert link.upload_response is not None


@respx.mock
async def test_a_seekable_file_object_is_read_from_its_position(client: Client) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    f = io.BytesIO(b"HEADER" + DATA[:1000])
    f.seek(6)
    await client.upload(file_obj=f)
    assert fake.assembled() == DATA[:1000]


@respx.mock
async def test_a_stream_shorter_than_its_size(client: Client) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    progress: list[int] = []
    with pytest.raises(UploadError, match=r"stream ended after 1000 bytes, but size=5000"):
        await client.upload(
            stream=chunks(DATA[:1000], 100),
            size=5000,
            progress=lambda p: progress.append(p.bytes_acknowledged),
        )
    assert fake.of("complete") == []
    assert 5000 not in progress


@pytest.mark.parametrize("intelligent", [False, True])
@respx.mock
async def test_a_stream_longer_than_its_size(client: Client, intelligent: bool) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    with pytest.raises(UploadError, match=r"more than the 6000000 bytes declared"):
        await client.upload(
            stream=chunks(DATA[:6_000_001]), size=6_000_000, intelligent=intelligent
        )
    assert fake.of("complete") == []


@respx.mock
async def test_an_unseekable_file_shorter_than_its_size(client: Client) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    with pytest.raises(UploadError, match="ended after 10 bytes"):
        await client.upload(file_obj=Unseekable(DATA[:10]), size=11)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of filepath=, file_obj=, content= or stream= \\(got none\\)"),
        ({"content": b"x", "filepath": "a"}, "got filepath, content"),
        ({"content": "text"}, "content must be bytes, not str"),
        ({"content": 12}, "content must be bytes-like, not int"),
        ({"file_obj": io.StringIO("x")}, "text-mode file"),
        ({"file_obj": object()}, "read\\(\\) method"),
        ({"stream": b"bytes"}, "async iterable of bytes, not bytes"),
        ({"stream": [b"x"]}, "async iterable of bytes, not list"),
        ({"stream": chunks(b"x"), "size": -1}, "size must not be negative"),
        ({"stream": chunks(b"x"), "size": 1.5}, "size must be an int"),
        ({"content": b"x", "size": 1}, "size= only goes with stream= or file_obj="),
        ({"filepath": 12}, "filepath must be a str or os.PathLike"),
        ({"content": b"x", "store_params": {"colour": "red"}}, "unknown store parameter"),
        ({"content": b"x", "progress": 3}, "progress must be a callable"),
        ({"content": b"x", "intelligent": "yes"}, "intelligent must be True, False or 'fallback'"),
    ],
)
@respx.mock(assert_all_called=False)
async def test_bad_arguments_fail_before_any_request(
    kwargs: dict[str, Any], message: str, client: Client
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        await client.upload(**kwargs)
    assert len(respx.calls) == 0


@respx.mock(assert_all_called=False)
async def test_bad_paths_fail_before_any_request(client: Client, tmp_path: Path) -> None:
    # empty files are uploaded (through /api/store): tests/wire/test_empty_upload_wire.py
    with pytest.raises(ConfigurationError, match="no such file"):
        await client.upload(filepath=tmp_path / "missing.bin")
    with pytest.raises(ConfigurationError, match="is a directory"):
        await client.upload(filepath=tmp_path)
    assert len(respx.calls) == 0


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions")
@respx.mock(assert_all_called=False)
async def test_an_unreadable_file(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "secret.bin"
    path.write_bytes(b"x")
    path.chmod(0)
    with pytest.raises(ConfigurationError, match="not readable"):
        await client.upload(filepath=path)
    assert len(respx.calls) == 0


@respx.mock(assert_all_called=False)
async def test_a_seekable_file_with_a_wrong_size(client: Client) -> None:
    with pytest.raises(ConfigurationError, match="size=5 but the file object has 3 bytes"):
        await client.upload(file_obj=io.BytesIO(b"abc"), size=5)
    assert len(respx.calls) == 0
