"""Where upload bytes come from: paths, bytes-like objects, file objects and async streams.

Every source gives a part as `PartData` by ``(offset, length)``, in one of two shapes:

* **streamed** (a path, a seekable file object, a spooled stream): the part's range is
  hashed in one worker-thread hop (read through one scratch block), then read again,
  a block at a time, for each PUT attempt, so nothing is held between the two (the
  blocks go into a few buffers of the source's, each filled again once nothing views
  it: a fresh buffer per block, allocated and zeroed on the event loop, cost about
  5 % of a large upload's CPU). A path on Linux reads those blocks on the event loop
  from the page cache, where the hash pass has just put them (``preadv`` with
  ``RWF_NOWAIT``, which never waits for a disk); whatever is not cached is read in a
  worker thread;
* **held** (``content=``, parts of at most `BLOCK` bytes, and sequential sources: a
  non-seekable file object or an async stream with ``size=``): the part's bytes are in
  memory, hashed once and sent as memoryview slices of that memory (never copied by the
  SDK), replayed for a retry and dropped once the part is acknowledged
  (`PartData.release`).

All file reads that may wait for a disk, and hashing of more than `INLINE_HASH` bytes,
run in worker threads; each part costs one hop for its hash.
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

from .._exceptions import ConfigurationError, FilestackError, UploadError
from .._files import check_binary_file_obj, check_readable_file, is_seekable
from .._http import Body

#: Bytes per read of a streamed part and per body block.
BLOCK = 1024 * 1024
#: Bytes in memory hashed on the event loop: less CPU and latency than a thread hop.
INLINE_HASH = 64 * 1024

#: body-block buffers a random-access source keeps for reuse (two per part in flight)
_BLOCK_POOL = 16

#: ``preadv`` flag: read only what the page cache holds, never wait for the disk (Linux)
_RWF_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None
#: A blocking ``read_into(offset, view)`` that fills ``view`` from ``offset``.
ReadInto = Callable[[int, memoryview], None]

BytesLike = bytes | bytearray | memoryview


class BinaryReadable(Protocol):
    """A binary file object: anything with ``read(n) -> bytes`` (``seek``/``tell`` if seekable)."""

    def read(self, n: int = -1, /) -> bytes | None: ...


def hashing_threads() -> int:
    """How many worker threads of a client hash parts at once: half the cores, at least one.

    Hashing is the upload's largest CPU cost; one thread hashes faster than a loopback
    link sends, and more threads than cores only take the event loop's core away from it
    (a loop that loses its core is late for everything it runs).
    """
    return max(1, (os.cpu_count() or 2) // 2)


def md5_base64(data: BytesLike) -> str:
    """Standard base64 of the raw MD5 digest (what ``/multipart/upload`` wants as ``md5``).

    >>> md5_base64(b"hello world!")
    '/D/5joxqDTCH1RXARz+Gdw=='
    """
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def _md5_of_range(read_into: ReadInto, offset: int, length: int) -> str:
    """Hash a range block by block through one scratch buffer (in a worker thread)."""
    digest = hashlib.md5()
    scratch = memoryview(bytearray(min(BLOCK, length)))
    done = 0
    while done < length:
        view = scratch[: min(BLOCK, length - done)]
        read_into(offset + done, view)
        digest.update(view)
        done += len(view)
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
    """A streamed part: hashed in one hop, read again for each body.

    The body reads each block from the page cache on the event loop when the source
    can do that without waiting for the disk (`read_cached`: a path on Linux, right
    after the hash pass has read it), else in a worker thread.
    """

    def __init__(self, source: _RandomAccessSource, offset: int, size: int) -> None:
        self._source = source
        self._offset = offset
        self.size = size

    async def md5(self, start: int = 0, length: int | None = None) -> str:
        length = self.size - start if length is None else length
        return await anyio.to_thread.run_sync(
            _md5_of_range,
            self._source.read_into,
            self._offset + start,
            length,
            limiter=self._source.hash_limiter,
        )

    def body(self, start: int = 0, length: int | None = None) -> Body:
        length = self.size - start if length is None else length
        first = self._offset + start
        source = self._source

        async def blocks() -> AsyncIterator[memoryview]:
            done = 0
            while done < length:
                view = memoryview(source.block_buffer(min(BLOCK, length - done)))
                got = source.read_cached(first + done, view)
                if got < len(view):
                    await anyio.to_thread.run_sync(source.read_into, first + done + got, view[got:])
                done += len(view)
                yield view

        return blocks


class _HeldPart(PartData):
    """A part in memory: hashed once (or given its digest) and sent as slices of it.

    The body's blocks are memoryviews of the part, ``BLOCK`` bytes each, so no
    transport copies the whole part at once and the SDK copies nothing.
    """

    def __init__(
        self,
        data: memoryview,
        *,
        md5: str | None = None,
        release: Callable[[], None] | None = None,
        hash_limiter: anyio.CapacityLimiter | None = None,
    ) -> None:
        self._data: memoryview | None = data
        self._hash_limiter = hash_limiter
        self.size = len(data)
        self._md5 = md5
        self._release = release

    def _view(self, start: int, length: int | None) -> memoryview:
        if self._data is None:
            raise RuntimeError("this part was released")
        end = self.size if length is None else start + length
        return self._data[start:end]

    async def md5(self, start: int = 0, length: int | None = None) -> str:
        whole = start == 0 and (length is None or length == self.size)
        if whole and self._md5 is not None:
            return self._md5
        view = self._view(start, length)
        if len(view) <= INLINE_HASH:
            digest = md5_base64(view)
        else:
            digest = await anyio.to_thread.run_sync(md5_base64, view, limiter=self._hash_limiter)
        view.release()
        if whole:
            self._md5 = digest
        return digest

    def body(self, start: int = 0, length: int | None = None) -> Body:
        end = self.size if length is None else start + length
        self._view(start, end - start).release()  # fails now if already released

        async def blocks() -> AsyncIterator[memoryview]:
            for first in range(start, end, BLOCK):
                yield self._view(first, min(BLOCK, end - first))

        return blocks

    def release(self) -> None:
        data, self._data = self._data, None
        release, self._release = self._release, None
        if data is not None:
            data.release()
        if release is not None:
            release()


def unshared(buffer: bytearray) -> bool:
    """True when no memoryview of ``buffer`` is alive anywhere.

    A bytearray cannot change size while it is exported, so shrinking it by one byte
    and growing it back (both within its allocation: no copy) fails exactly then.
    """
    if not buffer:
        return True
    try:
        last = buffer.pop()
    except BufferError:
        return False
    buffer.append(last)
    return True


_S = TypeVar("_S", bound="Source")


class Source(ABC):
    """Bytes to upload. Use as ``async with source:``; `size` is known once open."""

    #: filename to use when store_params give none
    default_filename: str | None = None
    #: a path to guess the MIME type from
    path_hint: str | None = None
    #: True when parts can be read in any order and again for retries
    random_access: bool = True
    #: True when a later run can read the same bytes again (``resume=``)
    resumable: bool = False
    #: bounds the worker threads hashing parts at once (the client's; None: anyio's default)
    hash_limiter: anyio.CapacityLimiter | None = None

    def __init__(self) -> None:
        self.size = -1
        #: hash parts as they are read (off for ``integrity_check=False`` and for the
        #: one-request store, which sends no MD5); `PartData.md5` still works
        self.hashing = True

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

    # what identifies a `resumable` source to a later run (the checkpoint)

    def modified_ns(self) -> int | None:
        """The file's modification time in nanoseconds, when it has a file descriptor."""
        return None

    @property
    def identity_name(self) -> str | None:
        """The path or name that shows which file this is (for messages), if any."""
        return None

    def read_at(self, offset: int, length: int) -> bytes:
        """Blocking read of exactly ``length`` bytes at ``offset`` (random-access sources)."""
        raise UploadError(f"{type(self).__name__} cannot be read at an offset")


class _RandomAccessSource(Source):
    """A source read at offsets: parts are hashed in one pass and streamed again.

    The blocks of the bodies are read into buffers taken from a small pool of the
    source's: a buffer nothing holds a view of any more (the transport copied or sent
    it) is filled again, so a long upload allocates (and zeroes) a few `BLOCK`
    buffers instead of one per block.
    """

    def __init__(self) -> None:
        super().__init__()
        self._block_pool: list[bytearray] = []

    def block_buffer(self, size: int) -> bytearray:
        """A buffer of ``size`` bytes for a body block: a free one of the pool, else new."""
        if size != BLOCK:
            return bytearray(size)
        pool = self._block_pool
        for buffer in pool:
            if unshared(buffer):
                return buffer
        buffer = bytearray(BLOCK)
        if len(pool) < _BLOCK_POOL:
            pool.append(buffer)
        return buffer

    @abstractmethod
    def read_into(self, offset: int, view: memoryview) -> None:
        """Blocking read filling all of ``view`` from ``offset`` (`UploadError` if short)."""

    def read_cached(self, offset: int, view: memoryview) -> int:
        """Bytes read into ``view`` from ``offset`` without waiting for a disk (may be 0)."""
        return 0

    def read_at(self, offset: int, length: int) -> bytes:
        """Blocking read of exactly ``length`` bytes at ``offset``."""
        data = bytearray(length)
        self.read_into(offset, memoryview(data))
        return bytes(data)

    async def read_part(self, offset: int, length: int) -> PartData:
        if length <= BLOCK:  # small: read and hash into bytes of its own, in one hop
            data, md5 = await anyio.to_thread.run_sync(
                self._read_and_hash, offset, length, limiter=self.hash_limiter
            )
            return _HeldPart(memoryview(data), md5=md5)
        return _RangePart(self, offset, length)

    def _read_and_hash(self, offset: int, length: int) -> tuple[bytes, str | None]:
        data = self.read_at(offset, length)
        return data, md5_base64(data) if self.hashing else None


def _short(what: str) -> UploadError:
    return UploadError(f"{what} ended early: it is shorter than when the upload started")


class PathSource(_RandomAccessSource):
    """A file on disk, read with ``os.preadv`` (or a locked seek and read) in worker threads."""

    resumable = True

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)
        self.default_filename = self.path.name
        self.path_hint = os.fspath(self.path)
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()
        self._nowait = _RWF_NOWAIT is not None

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

    def _opened(self) -> IO[bytes]:
        if self._file is None:
            raise UploadError("the file was closed while the upload was running")
        return self._file

    def modified_ns(self) -> int | None:
        return os.fstat(self._opened().fileno()).st_mtime_ns

    @property
    def identity_name(self) -> str | None:
        return os.path.abspath(self.path)

    def read_at(self, offset: int, length: int) -> bytes:
        file = self._opened()
        if not hasattr(os, "pread"):
            return super().read_at(offset, length)
        fd, got, pieces = file.fileno(), 0, []
        while got < length:
            piece = os.pread(fd, length - got, offset + got)
            if not piece:
                raise _short(repr(self.path_hint))
            pieces.append(piece)
            got += len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def read_cached(self, offset: int, view: memoryview) -> int:
        if not self._nowait or _RWF_NOWAIT is None:
            return 0
        try:
            return os.preadv(self._opened().fileno(), [view], offset, _RWF_NOWAIT)
        except BlockingIOError:  # not in the page cache
            return 0
        except OSError:  # not supported on this file system
            self._nowait = False
            return 0

    def read_into(self, offset: int, view: memoryview) -> None:
        file = self._opened()
        if hasattr(os, "preadv"):
            fd, got = file.fileno(), 0
            while got < len(view):
                count = os.preadv(fd, [view[got:]], offset + got)
                if not count:
                    raise _short(repr(self.path_hint))
                got += count
            return
        with self._lock:
            file.seek(offset)
            _readinto_fully(file, view, repr(self.path_hint))


def _readinto_fully(file: Any, view: memoryview, what: str) -> None:
    """Fill ``view`` from ``file``'s position (``readinto`` when it has one, else ``read``)."""
    readinto = getattr(file, "readinto", None)
    got = 0
    while got < len(view):
        if callable(readinto):
            count = int(readinto(view[got:]) or 0)
        else:
            block = _as_bytes(file.read(len(view) - got) or b"", what)
            count = len(block)
            view[got : got + count] = block
        if not count:
            raise _short(what)
        got += count


class BytesSource(Source):
    """A bytes-like object in memory: parts are slices of it, never copied."""

    def __init__(self, content: BytesLike) -> None:
        super().__init__()
        view = memoryview(content)
        if not view.contiguous:
            raise ConfigurationError("content must be a contiguous bytes-like object")
        self._view = view.cast("B")

    async def _open(self) -> None:
        self.size = len(self._view)

    async def read_part(self, offset: int, length: int) -> PartData:
        return _HeldPart(self._view[offset : offset + length], hash_limiter=self.hash_limiter)


class SeekableFileSource(_RandomAccessSource):
    """A seekable binary file object, from its current position to its end.

    Reads take a lock (the object has one position); the object is not closed.
    """

    resumable = True

    def __init__(
        self,
        file_obj: BinaryIO | None,
        size: int | None = None,
        *,
        owned: bool = False,
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

    def _opened(self) -> BinaryIO:
        if self._file is None:
            raise UploadError("the file was closed while the upload was running")
        return self._file

    def modified_ns(self) -> int | None:
        try:
            return os.fstat(self._opened().fileno()).st_mtime_ns
        except (AttributeError, OSError, ValueError):  # no descriptor (BytesIO...)
            return None

    @property
    def identity_name(self) -> str | None:
        name = getattr(self._file, "name", None)
        return os.path.abspath(name) if isinstance(name, str) and name else None

    def read_at(self, offset: int, length: int) -> bytes:
        file = self._opened()
        with self._lock:
            file.seek(self._start + offset)
            pieces: list[bytes] = []
            got = 0
            while got < length:
                piece = _as_bytes(file.read(length - got) or b"", "the file object")
                if not piece:
                    raise _short("the file object")
                pieces.append(piece)
                got += len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def read_into(self, offset: int, view: memoryview) -> None:
        file = self._opened()
        with self._lock:
            file.seek(self._start + offset)
            _readinto_fully(file, view, "the file object")


def _reason(err: Exception) -> str:
    """``": message"`` for an error the user's source raised; a reason when it has none."""
    if str(err):
        return f": {err}"
    if type(err).__name__ == "ClientDisconnect":  # Starlette's, for a request body
        return " (the client sending the body disconnected)"
    return " (with no message)"


#: released part buffers a sequential source keeps for its next parts
_SPARE_BUFFERS = 2


class _SequentialSource(Source):
    """Reads parts strictly in order; each part's bytes are held until released.

    A released part's buffer is reused for a later part of the same size, so a long
    upload allocates about ``concurrency + 1`` part buffers in all instead of one per
    part (allocating and zeroing a fresh multi-megabyte buffer runs on the event loop
    and can stall it for milliseconds). A buffer something still has a view of (a
    transport that has not written all of it) is not reused.
    """

    random_access = False
    #: how messages name the source
    what = "the stream"

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
        if len(self._spare) < _SPARE_BUFFERS and unshared(buffer):
            self._spare.append(buffer)

    async def _open(self) -> None:
        # no part is ever read from an empty source, so check now that it is empty
        if self.size == 0 and await self._read_into(memoryview(bytearray(1))):
            raise UploadError("the stream has more than the 0 bytes declared with size=")

    @abstractmethod
    async def _read_into(self, target: memoryview) -> int:
        """Copy up to ``len(target)`` bytes into ``target``; ``0`` at the end."""

    async def _fill(self, view: memoryview, offset: int) -> str | None:
        """Fill ``view`` with the part at ``offset``; its MD5 when it was computed on the way."""
        got = 0
        while got < len(view):
            try:
                count = await self._read_into(view[got:])
            except Exception as err:
                raise self._raised(err, offset + got) from err
            if not count:
                raise self._ended(offset + got)
            got += count
        return None

    def _ended(self, at: int) -> UploadError:
        return UploadError(f"{self.what} ended after {at} bytes, but size={self.size} was declared")

    def _raised(self, err: Exception, at: int) -> FilestackError:
        """The upload's error for ``err``, raised by the user's source at byte ``at``."""
        if isinstance(err, FilestackError):
            return err  # the SDK's own (a block that is not bytes)
        return UploadError(
            f"{self.what} raised {type(err).__name__}{_reason(err)} at byte {at} of {self.size}"
        )

    async def read_part(self, offset: int, length: int) -> PartData:
        if offset != self._position:
            raise RuntimeError(f"sequential source read at {offset}, expected {self._position}")
        buffer = self._buffer(length)
        view = memoryview(buffer)
        try:
            md5 = await self._fill(view, offset)
        except BaseException:
            view.release()
            raise
        self._position += length
        if self._position == self.size and await self._read_into(memoryview(bytearray(1))):
            view.release()
            raise UploadError(f"the stream has more than the {self.size} bytes declared with size=")
        return _HeldPart(
            view, md5=md5, release=lambda: self._keep(buffer), hash_limiter=self.hash_limiter
        )


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
    """A non-seekable binary file object with a declared ``size`` (not closed).

    Each part is read and hashed in one worker-thread hop.
    """

    what = "file_obj"

    def __init__(self, file_obj: BinaryIO, size: int) -> None:
        super().__init__(size)
        self._file = file_obj

    def _readinto(self, target: memoryview) -> int:
        readinto = getattr(self._file, "readinto", None)
        if callable(readinto):
            return int(readinto(target) or 0)
        block = _as_bytes(self._file.read(len(target)) or b"", "file_obj.read()")
        target[: len(block)] = block
        return len(block)

    async def _read_into(self, target: memoryview) -> int:
        return await anyio.to_thread.run_sync(self._readinto, target[:BLOCK])

    async def _fill(self, view: memoryview, offset: int) -> str | None:
        return await anyio.to_thread.run_sync(
            self._fill_and_hash, view, offset, limiter=self.hash_limiter
        )

    def _fill_and_hash(self, view: memoryview, offset: int) -> str | None:
        got = 0
        while got < len(view):
            try:
                count = self._readinto(view[got:])
            except Exception as err:
                raise self._raised(err, offset + got) from err
            if not count:
                raise self._ended(offset + got)
            got += count
        return md5_base64(view) if self.hashing else None


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

    resumable = False

    def __init__(self, blocks: AsyncIterator[bytes]) -> None:
        super().__init__(None, owned=True)
        self._blocks: AsyncIterator[bytes] | None = blocks

    async def _open(self) -> None:
        self._file = await anyio.to_thread.run_sync(tempfile.TemporaryFile)
        file = self._file
        assert self._blocks is not None
        copied = 0
        while True:
            try:
                block = await anext(self._blocks)
            except StopAsyncIteration:
                break
            except FilestackError:
                raise
            except Exception as err:
                raise UploadError(
                    f"the stream raised {type(err).__name__}{_reason(err)} at byte {copied} "
                    "(no size= declared)"
                ) from err
            if block:
                await anyio.to_thread.run_sync(file.write, block)
                copied += len(block)
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
