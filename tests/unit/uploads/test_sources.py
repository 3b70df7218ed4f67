"""Sources: ranges, hashing off the loop, held bytes released, files closed."""

from __future__ import annotations

import base64
import hashlib
import io
import random
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import pytest

from filestack_async import ConfigurationError, UploadError
from filestack_async._uploads import sources
from filestack_async._uploads.sources import (
    BytesSource,
    PathSource,
    SeekableFileSource,
    Source,
    StreamSource,
    make_source,
    md5_base64,
)

T = TypeVar("T")
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


@pytest.fixture
def data_path(tmp_path: Path) -> Path:
    """A file holding DATA."""
    path = tmp_path / "d.bin"
    path.write_bytes(DATA)
    return path


def count_hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the name of every function sources hands to a worker thread."""
    hops: list[str] = []
    real = anyio.to_thread.run_sync

    async def spy(func: Callable[..., T], *args: object, **kwargs: Any) -> T:
        hops.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", spy)
    return hops


async def test_big_hashes_run_in_a_worker_thread_small_ones_on_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[str] = []
    real = sources.md5_base64

    def spy(data: sources.BytesLike) -> str:
        threads.append(threading.current_thread().name)
        return real(data)

    monkeypatch.setattr(sources, "md5_base64", spy)
    async with BytesSource(DATA) as source:
        small = await source.read_part(0, sources.INLINE_HASH)
        assert await small.md5() == md5(DATA[: sources.INLINE_HASH])
        big = await source.read_part(0, sources.INLINE_HASH + 1)
        assert await big.md5() == md5(DATA[: sources.INLINE_HASH + 1])
        assert await big.md5() == md5(DATA[: sources.INLINE_HASH + 1])  # kept, not redone
    main = threading.main_thread().name
    assert threads[0] == main and len(threads) == 2 and threads[1] != main


async def test_a_path_part_is_hashed_in_one_hop_and_sent_from_the_page_cache(
    data_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with PathSource(data_path) as source:
        part = await source.read_part(0, len(DATA))
        hops = count_hops(monkeypatch)
        assert await part.md5() == md5(DATA)
        assert hops == ["_md5_of_range"]  # one hop for the whole part, not one per block
        if not source._nowait or source.read_cached(0, memoryview(bytearray(1))) != 1:
            pytest.skip("no RWF_NOWAIT reads on this platform or file system")
        assert await collect(part.body()) == DATA
        assert hops == ["_md5_of_range"]  # every block came from the page cache on the loop


async def test_blocks_not_in_the_page_cache_are_read_in_a_worker_thread(
    data_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with PathSource(data_path) as source:
        # as if only the first 1000 bytes of each block were cached
        monkeypatch.setattr(source, "read_cached", lambda offset, view: 0 if offset % 2 else 1000)
        part = await source.read_part(5, len(DATA) - 5)
        hops = count_hops(monkeypatch)
        assert await collect(part.body()) == DATA[5:]
        assert hops == ["read_into"] * 4
        data_path.write_bytes(DATA[:10])  # shrank under the upload
        with pytest.raises(UploadError, match="shorter than when the upload started"):
            await collect(part.body())


@asynccontextmanager
async def whole_file_body(
    kind: str, path: Path
) -> AsyncIterator[Callable[[], AsyncIterable[bytes | memoryview]]]:
    """The body of one part spanning the file, from a path or a seekable file object."""
    source = (
        PathSource(path) if kind == "path" else SeekableFileSource(open(path, "rb"), owned=True)
    )
    async with source:
        body = (await source.read_part(0, len(DATA))).body()
        assert callable(body)
        yield body


@pytest.mark.parametrize("kind", ["path", "file"])
async def test_body_blocks_are_read_into_buffers_reused_once_released(
    kind: str, data_path: Path
) -> None:
    buffers: list[object] = []  # the buffers themselves (not views): ids stay unique
    async with whole_file_body(kind, data_path) as body:
        for _ in range(2):  # two PUT attempts of three full blocks each
            out = b""
            async for block in body():
                out += block  # what a transport does: copy or send, then let go
                assert isinstance(block, memoryview)
                if len(block) == sources.BLOCK:
                    buffers.append(block.obj)
            assert out == DATA
    assert len(buffers) == 6
    # the block just yielded and the one before it may still be in use; older ones are not
    assert len({id(buffer) for buffer in buffers}) == 2


@pytest.mark.parametrize("kind", ["path", "file"])
async def test_a_body_block_something_still_views_is_never_refilled(
    kind: str, data_path: Path
) -> None:
    async with whole_file_body(kind, data_path) as body:
        for _ in range(2):
            # keep a slice of each block, as a transport keeps the unsent rest of a write
            kept = [(at, block[100:]) async for at, block in _offsets(body())]
            for at, rest in kept:
                assert rest == DATA[at + 100 : at + len(rest) + 100]
            assert len({id(rest.obj) for _, rest in kept}) == len(kept)


async def _offsets(
    blocks: AsyncIterable[bytes | memoryview],
) -> AsyncIterator[tuple[int, memoryview]]:
    at = 0
    async for block in blocks:
        assert isinstance(block, memoryview)
        yield at, block
        at += len(block)


async def test_held_bytes_are_sent_as_views_never_copied() -> None:
    content = bytearray(DATA)
    async with BytesSource(content) as source:
        part = await source.read_part(10, 2 * sources.BLOCK)
        body = part.body()
        assert callable(body)
        blocks = [block async for block in body()]
    assert [len(b) for b in blocks] == [sources.BLOCK, sources.BLOCK]
    assert all(isinstance(b, memoryview) and b.obj is content for b in blocks)


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


def buffer_of(part: sources.PartData) -> object:
    assert isinstance(part, sources._HeldPart) and part._data is not None
    return part._data.obj


async def test_a_buffer_something_still_has_a_view_of_is_not_reused() -> None:
    data = random.Random(3).randbytes(3000)
    source = StreamSource(chunks(data, 700), len(data))
    async with source:
        first = await source.read_part(0, 1000)
        body = first.body()
        assert callable(body)
        kept = [block async for block in body()]  # e.g. a transport not done writing it
        buffer = buffer_of(first)
        first.release()
        second = await source.read_part(1000, 1000)
        assert buffer_of(second) is not buffer
        assert bytes(kept[0]) == data[:1000]  # what the transport still sends is intact
        unviewed = buffer_of(second)
        second.release()
        third = await source.read_part(2000, 1000)
        assert buffer_of(third) is unviewed  # nothing saw it: reused
        assert await collect(third.body()) == data[2000:]


async def test_released_buffers_are_reused_for_later_parts_of_the_same_size() -> None:
    data = random.Random(9).randbytes(6 * 1000 + 300)
    source = StreamSource(chunks(data, 700), len(data))
    async with source:
        first = await source.read_part(0, 1000)
        second = await source.read_part(1000, 1000)
        buffers = {id(buffer_of(first)), id(buffer_of(second))}
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
                assert id(buffer_of(part)) in buffers
            else:
                assert id(buffer_of(part)) not in buffers
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
