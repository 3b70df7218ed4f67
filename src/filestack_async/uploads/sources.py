"""Where upload bytes come from: paths, bytes-like objects, file objects and async streams.

Every source gives a part as `PartData` by ``(offset, length)``:

* random-access sources (a path, bytes, a seekable file object, a spooled stream) hand
  out a light `PartData` that hashes its range in a worker thread in one pass and streams
  the same range again for each PUT attempt, so nothing is held between the two;
* sequential sources (a non-seekable file object or an async stream with ``size=``)
  read each part in order into memory, and that part's bytes live only until it is
  acknowledged (`PartData.release`).

All file reads run in worker threads, a block at a time; so does MD5 hashing, except of
in-memory bytes up to `INLINE_HASH`, which is hashed on the event loop.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol, TypeVar

import anyio
import anyio.to_thread

from .._exceptions import ConfigurationError, UploadError
from .._files import check_binary_file_obj, check_readable_file, is_seekable
from .._http import Body

#: Bytes per read, hash update and body block.
BLOCK = 1024 * 1024
#: In-memory bytes up to this size are hashed on the event loop: cheaper than the hop
#: to a worker thread and back (MD5 of 256 KiB takes about 0.4 ms).
INLINE_HASH = 256 * 1024

#: A blocking ``read_at(offset, length) -> bytes`` over a random-access source.
ReadAt = Callable[[int, int], bytes]

BytesLike = bytes | bytearray | memoryview


class BinaryReadable(Protocol):
    """A binary file object: anything with ``read(n) -> bytes`` (``seek``/``tell`` if seekable)."""

    def read(self, n: int = -1, /) -> bytes | None: ...


def md5_base64(data: BytesLike) -> str:
    """Standard base64 of the raw MD5 digest (what ``/multipart/upload`` wants as ``md5``).

    >>> md5_base64(b"hello world!")
    '/D/5joxqDTCH1RXARz+Gdw=='
    """
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def _md5_of_range(read_at: ReadAt, offset: int, length: int) -> str:
    digest = hashlib.md5()
    done = 0
    while done < length:
        block = read_at(offset + done, min(BLOCK, length - done))
        digest.update(block)
        done += len(block)
    return base64.b64encode(digest.digest()).decode("ascii")


def _md5_of_view(view: memoryview) -> str:
    digest = hashlib.md5()
    for start in range(0, len(view), BLOCK):
        digest.update(view[start : start + BLOCK])
    return base64.b64encode(digest.digest()).decode("ascii")


class PartData(ABC):
    """The bytes of one part, from which chunks (or the whole part) are hashed and sent."""

    size: int

    @abstractmethod
    async def md5(self, start: int = 0, length: int | None = None) -> str:
        """MD5 (standard base64) of ``[start, start + length)`` of the part, off the event loop."""

    @abstractmethod
    def body(self, start: int = 0, length: int | None = None) -> Body:
        """A request body for ``[start, start + length)``, replayable for retries."""

    def release(self) -> None:  # noqa: B027 - most parts hold nothing
        """Drop held bytes once the part is acknowledged."""


class _RangePart(PartData):
    def __init__(self, read_at: ReadAt, offset: int, size: int, *, threaded: bool) -> None:
        self._read_at = read_at
        self._offset = offset
        self.size = size
        self._threaded = threaded

    async def md5(self, start: int = 0, length: int | None = None) -> str:
        length = self.size - start if length is None else length
        if not self._threaded and length <= INLINE_HASH:
            return _md5_of_range(self._read_at, self._offset + start, length)
        return await anyio.to_thread.run_sync(
            _md5_of_range, self._read_at, self._offset + start, length
        )

    def body(self, start: int = 0, length: int | None = None) -> Body:
        length = self.size - start if length is None else length
        first = self._offset + start
        read_at, threaded = self._read_at, self._threaded

        async def blocks() -> AsyncIterator[bytes]:
            done = 0
            while done < length:
                size = min(BLOCK, length - done)
                if threaded:
                    block = await anyio.to_thread.run_sync(read_at, first + done, size)
                else:
                    block = read_at(first + done, size)
                done += len(block)
                yield block

        return blocks


class _HeldPart(PartData):
    """A part read into one buffer; sent in 1 MiB blocks so no transport copies it whole."""

    def __init__(self, data: bytearray, recycle: Callable[[bytearray], None] | None = None) -> None:
        self._data = data
        self.size = len(data)
        self._recycle = recycle

    def _view(self, start: int, length: int | None) -> memoryview:
        if len(self._data) != self.size:
            raise RuntimeError("this part was released")
        end = self.size if length is None else start + length
        return memoryview(self._data)[start:end]

    async def md5(self, start: int = 0, length: int | None = None) -> str:
        view = self._view(start, length)
        if len(view) <= INLINE_HASH:
            return _md5_of_view(view)
        return await anyio.to_thread.run_sync(_md5_of_view, view)

    def body(self, start: int = 0, length: int | None = None) -> Body:
        view = self._view(start, length)

        async def blocks() -> AsyncIterator[bytes]:
            for first in range(0, len(view), BLOCK):
                yield bytes(view[first : first + BLOCK])

        return blocks

    def release(self) -> None:
        data, self._data = self._data, bytearray()
        recycle, self._recycle = self._recycle, None
        if recycle is not None and self.size and len(data) == self.size:
            recycle(data)  # the source fills it again for a later part


_S = TypeVar("_S", bound="Source")


class Source(ABC):
    """Bytes to upload. Use as ``async with source:``; `size` is known once open."""

    #: filename to use when store_params give none
    default_filename: str | None = None
    #: a path to guess the MIME type from
    path_hint: str | None = None
    #: True when parts can be read in any order and again for retries
    random_access: bool = True

    def __init__(self) -> None:
        self.size = -1

    async def __aenter__(self: _S) -> _S:
        try:
            await self._open()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        with anyio.CancelScope(shield=True):
            await self.aclose()

    @abstractmethod
    async def _open(self) -> None:
        """Open the source and set `size`."""

    async def aclose(self) -> None:  # noqa: B027 - sources without resources need nothing
        """Release what `_open` acquired (idempotent)."""

    @abstractmethod
    async def read_part(self, offset: int, length: int) -> PartData:
        """The part at ``offset``; sequential sources must be asked in order."""


class _RandomAccessSource(Source):
    _threaded = True

    @abstractmethod
    def read_at(self, offset: int, length: int) -> bytes:
        """Blocking read of exactly ``length`` bytes at ``offset``."""

    async def read_part(self, offset: int, length: int) -> PartData:
        return _RangePart(self.read_at, offset, length, threaded=self._threaded)


def _read_fully(read: Callable[[int], bytes], length: int, what: str) -> bytes:
    pieces: list[bytes] = []
    got = 0
    while got < length:
        block = read(length - got)
        if not block:
            raise UploadError(f"{what} ended early: it is shorter than when the upload started")
        pieces.append(block)
        got += len(block)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


class PathSource(_RandomAccessSource):
    """A file on disk, read with ``os.pread`` (or a locked seek and read) in worker threads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)
        self.default_filename = self.path.name
        self.path_hint = os.fspath(self.path)
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()

    async def _open(self) -> None:
        await anyio.to_thread.run_sync(check_readable_file, self.path)
        try:
            self._file = await anyio.to_thread.run_sync(open, self.path, "rb", 0)
        except OSError as err:
            raise ConfigurationError(f"cannot open {self.path_hint!r}: {err.strerror}") from err
        self.size = os.fstat(self._file.fileno()).st_size

    async def aclose(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            file.close()

    def read_at(self, offset: int, length: int) -> bytes:
        file = self._file
        if file is None:
            raise UploadError("the file was closed while the upload was running")
        if hasattr(os, "pread"):
            fd = file.fileno()
            return _read_fully(
                lambda n: os.pread(fd, n, offset + length - n), length, repr(self.path_hint)
            )
        with self._lock:
            file.seek(offset)
            return _read_fully(file.read, length, repr(self.path_hint))


class BytesSource(_RandomAccessSource):
    """A bytes-like object in memory (not copied; hashed in worker threads)."""

    _threaded = False

    def __init__(self, content: BytesLike) -> None:
        super().__init__()
        view = memoryview(content)
        if not view.contiguous:
            raise ConfigurationError("content must be a contiguous bytes-like object")
        self._view = view.cast("B")

    async def _open(self) -> None:
        self.size = len(self._view)

    def read_at(self, offset: int, length: int) -> bytes:
        return bytes(self._view[offset : offset + length])


class SeekableFileSource(_RandomAccessSource):
    """A seekable binary file object, from its current position to its end.

    Reads take a lock (the object has one position); the object is not closed.
    """

    def __init__(
        self, file_obj: BinaryIO | None, size: int | None = None, *, owned: bool = False
    ) -> None:
        super().__init__()
        self._file: BinaryIO | None = file_obj
        self._declared = size
        self._owned = owned
        self._start = 0
        self._lock = threading.Lock()

    def _measure(self) -> tuple[int, int]:
        assert self._file is not None
        with self._lock:
            start = self._file.tell()
            end = self._file.seek(0, os.SEEK_END)
            self._file.seek(start)
        return start, end

    async def _open(self) -> None:
        self._start, end = await anyio.to_thread.run_sync(self._measure)
        self.size = end - self._start
        if self._declared is not None and self._declared != self.size:
            raise ConfigurationError(
                f"size={self._declared} but the file object has {self.size} bytes from its "
                "current position"
            )

    async def aclose(self) -> None:
        if self._owned and self._file is not None:
            file, self._file = self._file, None
            await anyio.to_thread.run_sync(file.close)

    def read_at(self, offset: int, length: int) -> bytes:
        file = self._file
        if file is None:
            raise UploadError("the file was closed while the upload was running")
        with self._lock:
            file.seek(self._start + offset)
            return _read_fully(file.read, length, "the file object")


#: released part buffers a sequential source keeps for its next parts
_SPARE_BUFFERS = 2


class _SequentialSource(Source):
    """Reads parts strictly in order; each part's bytes are held until released.

    A released part's buffer is reused for a later part of the same size, so a long
    upload allocates about ``concurrency + 1`` part buffers in all instead of one per
    part (allocating and zeroing a fresh multi-megabyte buffer runs on the event loop
    and can stall it for milliseconds).
    """

    random_access = False

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self._position = 0
        self._spare: list[bytearray] = []

    def _buffer(self, length: int) -> bytearray:
        while self._spare:
            spare = self._spare.pop()
            if len(spare) == length:
                return spare
        return bytearray(length)

    def _keep(self, buffer: bytearray) -> None:
        if len(self._spare) < _SPARE_BUFFERS:
            self._spare.append(buffer)

    async def _open(self) -> None:
        # no part is ever read from an empty source, so check now that it is empty
        if self.size == 0 and await self._read_into(memoryview(bytearray(1))):
            raise UploadError("the stream has more than the 0 bytes declared with size=")

    @abstractmethod
    async def _read_into(self, target: memoryview) -> int:
        """Copy up to ``len(target)`` bytes into ``target``; ``0`` at the end."""

    async def read_part(self, offset: int, length: int) -> PartData:
        if offset != self._position:
            raise RuntimeError(f"sequential source read at {offset}, expected {self._position}")
        buffer = self._buffer(length)
        view = memoryview(buffer)
        got = 0
        while got < length:
            count = await self._read_into(view[got:])
            if not count:
                raise UploadError(
                    f"the stream ended after {offset + got} bytes, but size={self.size} was "
                    "declared"
                )
            got += count
        view.release()
        self._position += length
        if self._position == self.size and await self._read_into(memoryview(bytearray(1))):
            raise UploadError(f"the stream has more than the {self.size} bytes declared with size=")
        return _HeldPart(buffer, self._keep)


class StreamSource(_SequentialSource):
    """An async iterable of bytes with a declared ``size``."""

    def __init__(self, stream: AsyncIterable[BytesLike], size: int) -> None:
        super().__init__(size)
        self._iterator: AsyncIterator[BytesLike] | None = aiter(stream)
        self._leftover = b""
        self._used = 0

    async def _read_into(self, target: memoryview) -> int:
        while self._used >= len(self._leftover):
            if self._iterator is None:
                return 0
            try:
                block = await anext(self._iterator)
            except StopAsyncIteration:
                self._iterator = None
                return 0
            self._leftover, self._used = _as_bytes(block, "the stream"), 0
        count = min(len(target), len(self._leftover) - self._used)
        target[:count] = self._leftover[self._used : self._used + count]
        self._used += count
        return count

    async def aclose(self) -> None:
        iterator, self._iterator = self._iterator, None
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


class UnseekableFileSource(_SequentialSource):
    """A non-seekable binary file object with a declared ``size`` (not closed)."""

    def __init__(self, file_obj: BinaryIO, size: int) -> None:
        super().__init__(size)
        self._file = file_obj

    async def _read_into(self, target: memoryview) -> int:
        target = target[:BLOCK]
        readinto = getattr(self._file, "readinto", None)
        if callable(readinto):
            return int(await anyio.to_thread.run_sync(readinto, target) or 0)
        block = _as_bytes(
            await anyio.to_thread.run_sync(self._file.read, len(target)) or b"", "file_obj.read()"
        )
        target[: len(block)] = block
        return len(block)


def _as_bytes(block: object, what: str) -> bytes:
    if isinstance(block, bytes):
        return block
    if isinstance(block, bytearray | memoryview):
        return bytes(block)
    raise UploadError(f"{what} gave {type(block).__name__}, not bytes")


class SpooledSource(SeekableFileSource):
    """A stream of unknown size, copied to a temporary file before the upload starts.

    The temporary file is created when the source opens and removed when it closes.
    """

    def __init__(self, blocks: AsyncIterator[bytes]) -> None:
        super().__init__(None, owned=True)
        self._blocks: AsyncIterator[bytes] | None = blocks

    async def _open(self) -> None:
        self._file = await anyio.to_thread.run_sync(tempfile.TemporaryFile)
        file = self._file
        assert self._blocks is not None
        async for block in self._blocks:
            if block:
                await anyio.to_thread.run_sync(file.write, block)
        await self._close_blocks()
        await anyio.to_thread.run_sync(file.seek, 0)
        await super()._open()

    async def _close_blocks(self) -> None:
        blocks, self._blocks = self._blocks, None
        close = getattr(blocks, "aclose", None)
        if close is not None:
            await close()

    async def aclose(self) -> None:
        await self._close_blocks()
        await super().aclose()


def spool_stream(stream: AsyncIterable[BytesLike]) -> SpooledSource:
    """A source that copies ``stream`` to a temporary file before the upload starts."""

    async def blocks() -> AsyncIterator[bytes]:
        iterator = aiter(stream)
        try:
            async for block in iterator:
                yield _as_bytes(block, "the stream")
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()

    return SpooledSource(blocks())


def spool_file_obj(file_obj: BinaryIO) -> SpooledSource:
    """A source that copies a non-seekable file object to a temporary file first."""

    async def blocks() -> AsyncIterator[bytes]:
        while block := _as_bytes(
            await anyio.to_thread.run_sync(file_obj.read, BLOCK) or b"", "file_obj.read()"
        ):
            yield block

    return SpooledSource(blocks())


def make_source(
    *,
    filepath: str | os.PathLike[str] | None = None,
    file_obj: Any = None,
    content: Any = None,
    stream: Any = None,
    size: int | None = None,
) -> Source:
    """Check the arguments (no I/O) and return the matching `Source`.

    Raises:
        ConfigurationError: not exactly one source, a text-mode file object, a bad
            ``size`` or a type that is not a source.
    """
    given = [
        name
        for name, value in (
            ("filepath", filepath),
            ("file_obj", file_obj),
            ("content", content),
            ("stream", stream),
        )
        if value is not None
    ]
    if len(given) != 1:
        shown = ", ".join(given) if given else "none"
        raise ConfigurationError(
            f"give exactly one of filepath=, file_obj=, content= or stream= (got {shown})"
        )
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int):
            raise ConfigurationError(f"size must be an int, not {type(size).__name__}")
        if size < 0:
            raise ConfigurationError(f"size must not be negative (got {size})")
        if filepath is not None or content is not None:
            raise ConfigurationError("size= only goes with stream= or file_obj=")
    if filepath is not None:
        if not isinstance(filepath, str | os.PathLike):
            raise ConfigurationError(
                f"filepath must be a str or os.PathLike, not {type(filepath).__name__}"
            )
        return PathSource(filepath)
    if content is not None:
        if isinstance(content, str):
            raise ConfigurationError("content must be bytes, not str; encode it first")
        if not isinstance(content, bytes | bytearray | memoryview):
            raise ConfigurationError(f"content must be bytes-like, not {type(content).__name__}")
        return BytesSource(content)
    if file_obj is not None:
        checked = check_binary_file_obj(file_obj)
        if is_seekable(checked):
            return SeekableFileSource(checked, size)
        if size is None:
            return spool_file_obj(checked)
        return UnseekableFileSource(checked, size)
    if isinstance(stream, bytes | bytearray | memoryview | str) or not hasattr(stream, "__aiter__"):
        raise ConfigurationError(
            f"stream must be an async iterable of bytes, not {type(stream).__name__}"
        )
    if size is None:
        return spool_stream(stream)
    return StreamSource(stream, size)
