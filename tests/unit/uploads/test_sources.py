"""Sources: ranges, hashing off the loop, held bytes released, files closed."""

from __future__ import annotations

import base64
import hashlib
import io
import random
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from filestack_async import ConfigurationError, UploadError
from filestack_async.uploads import sources
from filestack_async.uploads.sources import (
    BytesSource,
    PathSource,
    SeekableFileSource,
    Source,
    StreamSource,
    make_source,
    md5_base64,
)

DATA = random.Random(6).randbytes(3 * sources.BLOCK + 17)


def md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


async def collect(body: object) -> bytes:
    if isinstance(body, bytes):
        return body
    assert callable(body)
    out = b""
    async for block in body():
        assert len(block) <= sources.BLOCK
        out += block
    return out


def test_md5_is_standard_base64_of_the_raw_digest() -> None:
    assert md5_base64(b"hello world!") == "/D/5joxqDTCH1RXARz+Gdw=="
    assert len(md5_base64(DATA)) == 24


@pytest.mark.parametrize("kind", ["path", "bytes", "file"])
async def test_random_access_parts_hash_and_stream_their_range(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "d.bin"
    path.write_bytes(DATA)
    source: Source
    if kind == "path":
        source = PathSource(path)
    elif kind == "bytes":
        source = BytesSource(DATA)
    else:
        source = SeekableFileSource(io.BytesIO(DATA))
    async with source:
        assert source.size == len(DATA) and source.random_access
        part = await source.read_part(1000, 2 * sources.BLOCK + 5)
        expected = DATA[1000 : 1000 + 2 * sources.BLOCK + 5]
        assert await part.md5() == md5(expected)
        assert await collect(part.body()) == expected
        assert await collect(part.body()) == expected  # replayable for a retry
        assert await part.md5(10, 100) == md5(expected[10:110])
        assert await collect(part.body(10, 100)) == expected[10:110]


async def test_hashing_runs_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-memory bytes up to INLINE_HASH are hashed on the loop (cheaper than a hop);
    more, or bytes read from a file, in a worker thread."""
    threads: list[str] = []
    real_range, real_view = sources._md5_of_range, sources._md5_of_view

    def spy_range(*args: object) -> str:
        threads.append(threading.current_thread().name)
        return real_range(*args)  # type: ignore[arg-type]

    def spy_view(view: memoryview) -> str:
        threads.append(threading.current_thread().name)
        return real_view(view)

    monkeypatch.setattr(sources, "_md5_of_range", spy_range)
    monkeypatch.setattr(sources, "_md5_of_view", spy_view)
    small, large = sources.INLINE_HASH, sources.INLINE_HASH + 1
    async with BytesSource(DATA) as source:
        for size in (small, large):
            assert await (await source.read_part(0, size)).md5() == md5(DATA[:size])
    async with StreamSource(chunks(DATA[: small + large], 4096), small + large) as stream:
        for size in (small, large):
            await (await stream.read_part(0 if size == small else small, size)).md5()
    main = threading.main_thread().name
    assert [name == main for name in threads] == [True, False, True, False]


async def test_a_path_source_closes_its_file(tmp_path: Path) -> None:
    path = tmp_path / "d.bin"
    path.write_bytes(DATA)
    source = PathSource(path)
    async with source:
        file = source._file
        assert file is not None
        was_open = not file.closed
    assert was_open and file.closed
    assert source._file is None
    with pytest.raises(UploadError, match="closed"):
        source.read_at(0, 1)


async def test_a_file_that_shrank_is_an_upload_error(tmp_path: Path) -> None:
    path = tmp_path / "d.bin"
    path.write_bytes(DATA)
    async with PathSource(path) as source:
        path.write_bytes(DATA[:10])
        with pytest.raises(UploadError, match="shorter than when the upload started"):
            source.read_at(0, 100)


async def chunks(data: bytes, step: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), step):
        yield data[i : i + step]


async def test_a_sequential_part_is_held_until_released() -> None:
    source = StreamSource(chunks(DATA, 1000), len(DATA))
    async with source:
        first = await source.read_part(0, 5000)
        assert await first.md5() == md5(DATA[:5000])
        assert await collect(first.body()) == DATA[:5000]
        assert await collect(first.body(100, 50)) == DATA[100:150]
        first.release()
        with pytest.raises(RuntimeError, match="released"):
            first.body()
        with pytest.raises(RuntimeError, match="sequential source read at 0"):
            await source.read_part(0, 10)
        rest = await source.read_part(5000, len(DATA) - 5000)
        assert await collect(rest.body()) == DATA[5000:]


async def test_released_buffers_are_reused_for_later_parts_of_the_same_size() -> None:
    data = random.Random(9).randbytes(6 * 1000 + 300)
    source = StreamSource(chunks(data, 700), len(data))
    async with source:
        first = await source.read_part(0, 1000)
        second = await source.read_part(1000, 1000)
        buffers = {id(first._data), id(second._data)}  # type: ignore[attr-defined]
        first.release()
        second.release()
        with pytest.raises(RuntimeError, match="released"):
            first.body()  # a released part can never expose its (reused) buffer
        parts = []
        for offset in range(2000, 6000, 1000):
            part = await source.read_part(offset, 1000)
            parts.append(part)
            assert await collect(part.body()) == data[offset : offset + 1000]
            assert await part.md5() == md5(data[offset : offset + 1000])
            if offset < 4000:  # the two spares are used first, then fresh buffers
                assert id(part._data) in buffers  # type: ignore[attr-defined]
            else:
                assert id(part._data) not in buffers  # type: ignore[attr-defined]
        held = parts[2]
        parts[3].release()
        # a buffer in use is never handed out again before its part is released
        last = await source.read_part(6000, 300)
        assert await collect(last.body()) == data[6000:]
        assert await collect(held.body()) == data[4000:5000]


async def test_a_stream_of_text_is_an_upload_error() -> None:
    async def text() -> AsyncIterator[str]:
        yield "oops"

    async with make_source(stream=text(), size=4) as source:
        with pytest.raises(UploadError, match="gave str, not bytes"):
            await source.read_part(0, 4)


async def test_spooled_stream_uses_a_temporary_file_removed_on_close() -> None:
    source = make_source(stream=chunks(DATA, 4096))
    async with source:
        assert source.size == len(DATA) and source.random_access
        part = await source.read_part(7, 100)
        assert await collect(part.body()) == DATA[7:107]
        spool = source._file  # type: ignore[attr-defined]
    assert spool.closed


async def test_a_user_file_object_is_left_open() -> None:
    f = io.BytesIO(DATA)
    async with make_source(file_obj=f) as source:
        await source.read_part(0, 10)
    assert not f.closed


def test_make_source_rejects_a_non_contiguous_buffer() -> None:
    view = memoryview(bytearray(b"abcdef"))[::2]
    with pytest.raises(ConfigurationError, match="contiguous"):
        make_source(content=view)
