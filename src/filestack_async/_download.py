"""Downloads: one resumable byte stream, and writing it to a path (atomically) or a file.

`open_download` is what ``Filelink.stream``, ``Transformation.stream``, ``download``
and ``get_content`` all use. A connection lost mid-body is resumed where it stopped
with ``Range`` and ``If-Range`` (the first answer's strong ETag), under the client's
retry policy; an answer from another version of the file is a `ContentChangedError`,
never a splice of two versions.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import BinaryIO

import anyio

from ._config import RetryPolicy
from ._context import Context
from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    ConfigurationError,
    ContentChangedError,
    RangeNotSatisfiableError,
)
from ._files import AtomicWriter, check_writable_file_obj, local_file_error
from ._http import HTTPSession, Kind, StreamResponse
from ._retry import backoff_delay
from ._security import Security

__all__ = ["DownloadStream", "check_range", "download_to", "open_download", "read_all"]

#: bytes per piece a stream yields at most (a file destination is written per 1 MiB)
STREAM_CHUNK = 256 * 1024
_FILE_CHUNK = 1024 * 1024
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class _UnusableAnswer(APIConnectionError):
    """An answer to a resume that says nothing of its version (tried again)."""


def check_range(start: object, end: object) -> tuple[int | None, int | None]:
    """``start`` and ``end`` (inclusive byte offsets, as HTTP's ``Range``) checked.

    Raises:
        ConfigurationError: not None or a non-negative int, or ``end`` before ``start``.
    """
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ConfigurationError(
                f"{name} must be a byte offset (an int) or None, not {type(value).__name__}"
            )
        if isinstance(value, int) and value < 0:
            raise ConfigurationError(f"{name} must not be negative, not {value}")
    assert start is None or isinstance(start, int)
    assert end is None or isinstance(end, int)
    if end is not None and end < (start or 0):
        raise ConfigurationError(
            f"end ({end}) is before start ({start or 0}); both are inclusive, so "
            "end=start+n-1 gives n bytes"
        )
    return start, end


def _strong_etag(headers: Mapping[str, str]) -> str | None:
    """The answer's ETag if it is a strong one (only those may go in ``If-Range``), and
    the body is the file's bytes as they are (no Content-Encoding to shift offsets)."""
    if headers.get("content-encoding", "identity").strip().lower() != "identity":
        return None
    etag = headers.get("etag", "").strip()
    return etag if etag.startswith('"') and etag.endswith('"') and len(etag) >= 2 else None


class DownloadStream:
    """The body of one download, as an async iterable of `bytes`; resumes by itself.

    The value of ``async with filelink.stream() as body`` (and of
    ``Transformation.stream``). What the first answer told is known before the
    first byte is read, so a web framework can send its headers at once.

    Attributes:
        size: the whole file's size in bytes (None when the service did not say).
        start: the offset of the first byte this stream yields.
        end: the offset of its last byte (inclusive), None when the size is unknown.
        mimetype: the media type the service named (``image/png``), or None.
        etag: the ETag of the version being read, or None.
        resumes: how many times a lost connection was resumed so far.
        received: how many bytes were yielded so far.

    Example:
        >>> async with link.stream(start=0, end=1023) as body:  # doctest: +SKIP
        ...     print(body.size, body.mimetype, body.length)
        ...     async for chunk in body:
        ...         sink.write(chunk)
    """

    def __init__(
        self,
        http: HTTPSession,
        url: str,
        redact: tuple[str, ...],
        start: int,
        end: int | None,
        chunk_size: int = STREAM_CHUNK,
    ) -> None:
        self._http = http
        self._chunk_size = chunk_size
        self._url = url
        self._redact = redact
        self._wanted_end = end
        self._attempt = AsyncExitStack()
        self._response: StreamResponse | None = None
        self._validator: str | None = None
        self._iterated = False
        self._iterator: AsyncGenerator[bytes, None] | None = None
        self._skip = 0
        self.size: int | None = None
        self.start = start
        self.end: int | None = end
        self.mimetype: str | None = None
        self.etag: str | None = None
        self.resumes = 0
        self.received = 0
        #: the reader can drop what it was given and take the body again from the start
        #: (`read_all`): then an answer without an ETag is read again, not refused
        self.restartable = False

    @property
    def length(self) -> int | None:
        """How many bytes this stream yields in all (None when the size is unknown)."""
        return None if self.end is None else max(0, self.end - self.start + 1)

    def __repr__(self) -> str:
        return (
            f"<DownloadStream bytes {self.start}-{self.end}/{self.size} "
            f"{self.mimetype or '?'} received={self.received} resumes={self.resumes}>"
        )

    # -- one attempt ---------------------------------------------------------------

    def _range_header(self, position: int) -> str | None:
        if position == 0 and self._wanted_end is None:
            return None
        last = "" if self._wanted_end is None else str(self._wanted_end)
        return f"bytes={position}-{last}"

    async def _request(self, position: int) -> StreamResponse:
        """GET from ``position``: ``Range`` when needed, ``If-Range`` on a resume."""
        # identity: the offsets of a resume are offsets in the file, not in a gzip stream
        headers = {"Accept-Encoding": "identity"}
        wanted = self._range_header(position)
        if wanted is not None:
            headers["Range"] = wanted
        if self._validator is not None:
            headers["If-Range"] = self._validator
        attempt = AsyncExitStack()
        try:
            response = await attempt.enter_async_context(
                self._http.stream(
                    "GET", self._url, headers=headers, redact=self._redact, kind=Kind.DOWNLOAD
                )
            )
        except BaseException:
            await attempt.aclose()
            raise
        self._attempt = attempt
        self._response = response
        return response

    async def open(self) -> None:
        """Send the first request and learn the size, type and ETag."""
        try:
            response = await self._request(self.start)
        except RangeNotSatisfiableError as err:
            raise RangeNotSatisfiableError(
                f"{err.message}: start={self.start} is past the end of the file",
                status_code=err.status_code,
                method=err.method,
                url=err.url,
                request_id=err.request_id,
                body=err.body,
            ) from None
        self._learn(response)

    def _learn(self, response: StreamResponse) -> None:
        """Take the size, type and ETag from a first answer (or a restart's)."""
        self.etag = response.headers.get("etag")
        self._validator = _strong_etag(response.headers)
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        self.mimetype = kind or None
        answer_start, total = self._placement(response)
        self.size = total
        self.end = self._wanted_end
        if total is not None:
            last = total - 1 if self._wanted_end is None else min(self._wanted_end, total - 1)
            self.end = last
        if answer_start > self.start:
            raise APIResponseValidationError(
                f"GET {response.url} answered a range from byte {self.start} with bytes "
                f"from {answer_start}",
                method="GET",
                url=response.url,
            )
        self._skip = self.start - answer_start

    def _placement(self, response: StreamResponse) -> tuple[int, int | None]:
        """Where the answer's body starts in the file, and the file's size (if told)."""
        length = response.headers.get("content-length", "")
        if response.status_code != 206:
            return 0, int(length) if length.isdigit() else None
        found = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
        if found is None:
            raise APIResponseValidationError(
                f"GET {response.url} answered 206 without a usable Content-Range "
                f"({response.headers.get('content-range', '')[:80]!r})",
                method="GET",
                url=response.url,
            )
        first, _, total = found.groups()
        return int(first), None if total == "*" else int(total)

    async def _close_attempt(self) -> None:
        self._response = None
        attempt, self._attempt = self._attempt, AsyncExitStack()
        with anyio.CancelScope(shield=True):
            await attempt.aclose()

    async def aclose(self) -> None:
        """Stop the body and close its connection (the context manager does this)."""
        if self._iterator is not None:
            with anyio.CancelScope(shield=True):
                await self._iterator.aclose()
        await self._close_attempt()

    # -- resuming -------------------------------------------------------------------

    async def _resume(self, position: int, cause: APIConnectionError) -> int:
        """Ask again from ``position``; the answer must be the same version.

        Returns the position the new answer continues from: ``position``, or the
        start when there is no ETag to resume against and nothing was delivered yet
        (or the reader keeps the whole body and can drop what it had, `read_all`).
        """
        if self._validator is None and (self.received == 0 or self.restartable):
            await self._request(self.start)
            self._learn(self._current())
            self.received = 0
            self.resumes += 1
            return self.start
        if self._validator is None:
            raise APIConnectionError(
                f"{cause.message}; not resumed: the answer had no strong ETag to "
                "resume against (If-Range)",
                method=cause.method,
                url=cause.url,
            ) from cause
        try:
            response = await self._request(position)
        except RangeNotSatisfiableError as err:
            raise self._changed(f"the resumed request was answered 416 ({err.message})") from None
        tag = _strong_etag(response.headers)
        if response.status_code == 206:
            if tag is not None and tag != self._validator:
                raise self._changed(f"its ETag is now {tag}, was {self._validator}")
            answer_start, total = self._placement(response)
            if total != self.size:
                raise self._changed(f"its size is now {total}, was {self.size}")
        elif tag == self._validator:
            answer_start = 0  # the same version, sent whole: the range was ignored
        elif tag is None:
            # no validator at all (not even another version's): nothing says which
            # version this is, so this answer cannot be used; another attempt may be
            raise _UnusableAnswer(
                f"GET {response.url} answered a resume with {response.status_code} and "
                "the whole body, without an ETag",
                method="GET",
                url=response.url,
            )
        else:
            raise self._changed(
                f"the resumed request was answered {response.status_code} with the "
                f"whole file (ETag {tag}, was {self._validator})"
            )
        if answer_start > position:
            raise APIResponseValidationError(
                f"GET {response.url} answered a resume from byte {position} with bytes "
                f"from {answer_start}",
                method="GET",
                url=response.url,
            )
        self._skip = position - answer_start
        self.resumes += 1
        return position

    def _current(self) -> StreamResponse:
        assert self._response is not None
        return self._response

    def _changed(self, why: str) -> ContentChangedError:
        url = self._response.url if self._response is not None else None
        return ContentChangedError(
            f"GET {url or 'the file'} changed while it was being downloaded ({why}); "
            f"{self.received} bytes of the first version were delivered, none of another",
            method="GET",
            url=url,
        )

    # -- the body ---------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._iterated:
            raise ConfigurationError("a DownloadStream can be read once; open another")
        self._iterated = True
        self._iterator = self._body()
        return self._iterator

    def _cut(self, position: int) -> APIConnectionError | None:
        """The error for a body that ended before its last byte, else None."""
        if self.end is None or position > self.end:
            return None
        url = self._response.url if self._response is not None else None
        return APIConnectionError(
            f"GET {url} ended after {position - self.start} of {self.length} bytes",
            method="GET",
            url=url,
        )

    async def _body(self) -> AsyncGenerator[bytes, None]:
        policy: RetryPolicy = self._http.retry
        failures, waited = 0, 0.0
        position = self.start  # the next byte to ask for: what was yielded, and pending
        pending = bytearray()
        while True:
            pieces = self._current().aiter_bytes().__aiter__()
            progressed = False
            while True:
                try:
                    piece = await pieces.__anext__()
                except StopAsyncIteration:
                    error = self._cut(position)
                    break
                except APIConnectionError as err:
                    error = err
                    break
                if self._skip:
                    dropped = min(self._skip, len(piece))
                    piece = piece[dropped:]
                    self._skip -= dropped
                if self.end is not None and position + len(piece) > self.end + 1:
                    piece = piece[: self.end + 1 - position]
                if not piece:
                    if self.end is not None and position > self.end:
                        error = None
                        break
                    continue
                position += len(piece)
                progressed = True
                pending += piece
                while len(pending) >= self._chunk_size:
                    out = bytes(pending[: self._chunk_size])
                    del pending[: self._chunk_size]
                    self.received += len(out)
                    yield out
            await self._close_attempt()
            if error is None:
                if pending:
                    self.received += len(pending)
                    yield bytes(pending)
                return
            if progressed:  # the policy counts failures in a row, not over the whole file
                failures, waited = 0, 0.0
            while True:
                delay = backoff_delay(failures, policy)
                if failures >= policy.max_retries or waited + delay > policy.budget:
                    raise error
                await policy.sleep(delay)
                waited += delay
                failures += 1
                try:
                    resumed = await self._resume(position, error)
                except _UnusableAnswer as unusable:  # a failure in a row like any other
                    await self._close_attempt()
                    error = unusable
                    continue
                break
            if resumed != position:  # started again from the top
                pending.clear()
                position = resumed


@asynccontextmanager
async def open_download(
    context: Context,
    url: str,
    security: Security | None,
    *,
    start: int | None = None,
    end: int | None = None,
    chunk_size: int = STREAM_CHUNK,
) -> AsyncIterator[DownloadStream]:
    """GET ``url`` as a `DownloadStream` (the first answer already in), closed on exit.

    Raises:
        APIStatusError: the first answer is an error (after retries);
            `RangeNotSatisfiableError` when ``start`` is past the end.
        APIConnectionError: no answer (after retries).
    """
    async with context.session(security) as http:
        stream = DownloadStream(http, url, context.secrets(security), start or 0, end, chunk_size)
        try:
            await stream.open()
            yield stream
        finally:
            await stream.aclose()


async def read_all(context: Context, url: str, security: Security | None) -> bytes:
    """The whole body of ``url`` in memory (resumed as `open_download` resumes)."""
    content = bytearray()
    async with open_download(context, url, security, chunk_size=_FILE_CHUNK) as body:
        body.restartable = True
        async for piece in body:
            # ``received`` counts the bytes of the current answer: after a restart
            # (no ETag to resume against) the bytes of the earlier one are dropped
            del content[body.received - len(piece) :]
            content += piece
    return bytes(content)


async def download_to(
    context: Context,
    url: str,
    destination: str | os.PathLike[str] | BinaryIO,
    security: Security | None,
) -> int:
    """GET ``url`` and stream the body to ``destination``; return the bytes written.

    A path is written atomically (temporary file, renamed once complete; removed on
    any error or cancellation). A connection lost mid-body is resumed (see
    `open_download`); a body that still ends short is an `APIConnectionError`; a
    file system error (full, read-only) is a `LocalFileError`.
    """
    if isinstance(destination, (str, os.PathLike)):
        writer = AtomicWriter(destination)
        async with writer, open_download(context, url, security, chunk_size=_FILE_CHUNK) as body:
            async for chunk in body:
                await writer.write(chunk)
        return writer.written
    file_obj = check_writable_file_obj(destination)
    written = 0
    name = getattr(file_obj, "name", None)
    async with open_download(context, url, security, chunk_size=_FILE_CHUNK) as body:
        async for chunk in body:
            try:
                await anyio.to_thread.run_sync(file_obj.write, chunk)
            except OSError as err:
                raise local_file_error(err, name if isinstance(name, str) else None) from err
            written += len(chunk)
    return written
