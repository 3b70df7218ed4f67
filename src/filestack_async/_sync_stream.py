"""The sync face of a streaming download: ``with link.stream() as body: for chunk in body``.

`blocking_stream` turns the async context manager of ``Filelink.stream`` (and
``Transformation.stream``) into a sync one: entering it, each piece, and leaving it
are each one call on the loop thread, so the bytes come through the same resumable
`DownloadStream` as in async code. An object made without a client holds the loop
thread for the length of the ``with`` block.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import TracebackType

from ._download import DownloadStream
from ._portal import Lease, Runner

__all__ = ["SyncDownloadStream", "blocking_stream"]


async def _next_piece(pieces: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await pieces.__anext__()
    except StopAsyncIteration:
        return None


class SyncDownloadStream:
    """The body of one download, as a sync iterable of `bytes` (see `DownloadStream`).

    ``size``, ``mimetype``, ``etag``, ``start``, ``end`` and ``length`` are known
    when the ``with`` block starts; a lost connection is resumed as in async code.

    Example:
        >>> with link.stream() as body:  # doctest: +SKIP
        ...     for chunk in body:
        ...         out.write(chunk)
    """

    __slots__ = ("_lease", "_stream")

    def __init__(self, stream: DownloadStream, lease: Lease) -> None:
        self._stream = stream
        self._lease = lease

    @property
    def size(self) -> int | None:
        """The whole file's size in bytes (None when the service did not say)."""
        return self._stream.size

    @property
    def start(self) -> int:
        """The offset of the first byte this stream yields."""
        return self._stream.start

    @property
    def end(self) -> int | None:
        """The offset of its last byte (inclusive), None when the size is unknown."""
        return self._stream.end

    @property
    def length(self) -> int | None:
        """How many bytes this stream yields in all (None when the size is unknown)."""
        return self._stream.length

    @property
    def mimetype(self) -> str | None:
        """The media type the service named, or None."""
        return self._stream.mimetype

    @property
    def etag(self) -> str | None:
        """The ETag of the version being read, or None."""
        return self._stream.etag

    @property
    def resumes(self) -> int:
        """How many times a lost connection was resumed so far."""
        return self._stream.resumes

    @property
    def received(self) -> int:
        """How many bytes were yielded so far."""
        return self._stream.received

    def __repr__(self) -> str:
        return repr(self._stream)

    def __iter__(self) -> Iterator[bytes]:
        pieces = self._stream.__aiter__()
        while True:
            piece = self._lease.run(_next_piece, pieces)
            if piece is None:
                return
            yield piece


class _BlockingStream(AbstractContextManager[SyncDownloadStream]):
    """A sync context manager over an async one yielding a `DownloadStream`."""

    def __init__(self, runner: Runner, opener: AbstractAsyncContextManager[DownloadStream]) -> None:
        self._runner = runner
        self._opener = opener
        self._lease: Lease | None = None
        self._owned = False
        self._body: SyncDownloadStream | None = None

    def __enter__(self) -> SyncDownloadStream:
        if self._lease is not None:
            raise RuntimeError("this stream is already open; call stream() again for another")
        if isinstance(self._runner, Lease):
            lease = self._runner
        else:  # made without a client: hold the loop thread for the whole block
            lease, self._owned = Lease.acquire(), True
        self._lease = lease
        try:
            stream = lease.run(self._opener.__aenter__)
        except BaseException:
            self._release()
            raise
        self._body = SyncDownloadStream(stream, lease)
        return self._body

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        lease = self._lease
        assert lease is not None and self._body is not None
        try:
            return bool(lease.run(self._opener.__aexit__, exc_type, exc, tb))
        finally:
            self._release()

    def _release(self) -> None:
        if self._owned and self._lease is not None:
            self._lease.release()
        self._owned = False


def blocking_stream(
    runner: Runner, opener: AbstractAsyncContextManager[DownloadStream]
) -> AbstractContextManager[SyncDownloadStream]:
    """``opener`` (from an async ``stream()``) as a sync context manager run by ``runner``."""
    return _BlockingStream(runner, opener)
