"""HTTP/1.1 over aiohttp: the SDK's default connection pool on asyncio.

This module knows aiohttp and nothing of httpx: `_http.py` adapts `AiohttpPool` to
httpx's transport interface. What it adds to a plain ``aiohttp.ClientSession``:

* one phase per timeout: ``pool`` bounds the wait for a free connection slot (a
  semaphore of ``max_connections``), ``connect`` bounds DNS, TCP and TLS, ``write``
  bounds each body chunk's send (aiohttp has none: a watchdog is armed while a chunk
  is with aiohttp and cancels the request if it stays there), ``read`` is aiohttp's
  ``sock_read`` (started once the body is sent);
* failures as `TransportFailure` with a ``kind`` that keeps the phase (a dropped
  connection is a ``read`` failure, never a connect timeout);
* responses read in the pieces that arrived (no re-chunking), not decompressed
  (httpx decodes), never redirected, no cookie jar, no headers httpx did not set;
* a body that is not exactly its ``Content-Length`` fails instead of being cut or
  padded.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from typing import Literal

import aiohttp
from yarl import URL

#: What failed: a timeout phase, or a connection that failed in a phase.
FailureKind = Literal[
    "connect_timeout",
    "read_timeout",
    "write_timeout",
    "pool_timeout",
    "connect",
    "read",
    "write",
    "protocol",
    "local_protocol",
    "unsupported",
]

#: httpx sets these itself; aiohttp must not add its own.
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
#: bodies are handed to aiohttp in pieces of at most this size (each one under the write timeout)
_BODY_PIECE = 256 * 1024
#: a bytes body up to this size goes to aiohttp as is: it fits the socket's and the
#: transport's buffers of a fresh exchange, so its write cannot wait on the peer
_SMALL_BODY = 64 * 1024
#: aiohttp's read buffer per connection (responses are yielded as they arrive, up to this)
_READ_BUFFER = 256 * 1024


class TransportFailure(Exception):
    """A request failed below HTTP; ``kind`` says in which phase and how."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind


def running_on_asyncio() -> bool:
    """True inside an asyncio task (False on trio or with no loop)."""
    try:
        return asyncio.current_task() is not None
    except RuntimeError:
        return False


class _Alarm:
    """Cancels the task it was made in when it goes off; `expired` tells that from a cancel."""

    __slots__ = ("_handle", "_loop", "_task", "enabled", "fired")

    def __init__(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._loop = asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self.enabled = True
        self.fired = False

    def set(self, delay: float | None) -> None:
        """Go off in ``delay`` seconds (``None``: never) unless cleared first."""
        self.clear()
        if delay is not None and self.enabled and not self.fired:
            self._handle = self._loop.call_later(delay, self._fire)

    def clear(self) -> None:
        """Stop the countdown."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def disable(self) -> None:
        """Never go off from now on."""
        self.enabled = False
        self.clear()

    def _fire(self) -> None:
        self._handle = None
        if self.enabled:
            self.fired = True
            self._task.cancel()

    def expired(self) -> bool:
        """After a `CancelledError`: True when only this alarm caused it (then it is consumed)."""
        self.disable()
        if not self.fired:
            return False
        uncancel = getattr(self._task, "uncancel", None)
        return True if uncancel is None else uncancel() == 0


class _Body:
    """Hands a body to aiohttp piece by piece, each piece's send under the write alarm.

    The source is read with the alarm off (a slow source is not a stalled peer); a
    piece is "with aiohttp" from being yielded until aiohttp asks for the next one.
    """

    def __init__(
        self,
        source: bytes | AsyncIterable[bytes],
        length: int | None,
        alarm: _Alarm,
        write_timeout: float | None,
    ) -> None:
        self._source = source
        self._length = length
        self._alarm = alarm
        self._timeout = write_timeout
        self.error: TransportFailure | None = None
        self.done = False

    async def __aiter__(self) -> AsyncIterator[bytes | memoryview]:
        sent = 0
        try:
            async for piece in self._pieces():
                sent += len(piece)
                if self._length is not None and sent > self._length:
                    raise self._fail(f"the body is longer than its Content-Length {self._length}")
                self._alarm.set(self._timeout)
                yield piece
                self._alarm.clear()
            if self._length is not None and sent != self._length:
                raise self._fail(
                    f"the body ended after {sent} bytes, short of its Content-Length {self._length}"
                )
        finally:
            self._alarm.clear()
        self.done = True

    async def _pieces(self) -> AsyncIterator[bytes | memoryview]:
        source = self._source
        if isinstance(source, (bytes, bytearray, memoryview)):
            source = _once(source)
        async for chunk in source:
            if len(chunk) <= _BODY_PIECE:
                yield chunk
                continue
            view = memoryview(chunk)
            for start in range(0, len(view), _BODY_PIECE):
                yield view[start : start + _BODY_PIECE]

    def _fail(self, message: str) -> TransportFailure:
        self.error = TransportFailure("local_protocol", message)
        return self.error


async def _once(data: bytes | bytearray | memoryview) -> AsyncIterator[bytes]:
    yield bytes(data) if not isinstance(data, bytes) else data


class AiohttpResponse:
    """Status, headers and the body stream of one answer; `aclose` frees its connection."""

    __slots__ = ("_body", "_response", "_slot", "headers", "reason", "status")

    def __init__(self, response: aiohttp.ClientResponse, body: _Body | None, slot: _Slot) -> None:
        self._response = response
        self._body = body
        self._slot = slot
        self.status = response.status
        self.reason = response.reason or ""
        #: the raw header lines, in order, duplicates kept
        self.headers: Sequence[tuple[bytes, bytes]] = response.raw_headers

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            while True:
                chunk = await content.readany()
                if not chunk:
                    return
                yield chunk
        except asyncio.CancelledError:
            raise
        except Exception as err:
            raise _failure(err, "read") from err

    async def aclose(self) -> None:
        """Return the connection to the pool (or close it when the exchange is unfinished)."""
        response = self._response
        if response.content.at_eof() and (self._body is None or self._body.done):
            response.release()
        else:
            # an unfinished exchange (an answer that came before the whole body was sent,
            # or was not read to its end): drop the connection at once. A plain close
            # would wait to flush the unsent body to a peer that may never read it,
            # leaving the socket open past the loop's end
            connection = response.connection
            transport = connection.transport if connection is not None else None
            if transport is not None:
                transport.abort()
            response.close()
        self._slot.release()


class _Slot:
    """One of the pool's ``max_connections`` slots, released once."""

    __slots__ = ("_pool", "held")

    def __init__(self, pool: AiohttpPool) -> None:
        self._pool = pool
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._pool._release_slot()


class AiohttpPool:
    """A pool of at most ``max_connections`` keep-alive connections, made on first use.

    Args:
        max_connections: connections in use at once (more requests wait, up to the pool timeout).
        ssl_context: makes the TLS context (called once, on first use).
        keepalive_expiry: seconds an idle connection is kept.
    """

    def __init__(
        self,
        *,
        max_connections: int,
        ssl_context: Callable[[], ssl.SSLContext],
        keepalive_expiry: float = 5.0,
    ) -> None:
        self._max = max_connections
        self._ssl_context = ssl_context
        self._keepalive = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._in_use = 0
        self._closed = False

    def _open(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        if self._closed:
            raise TransportFailure("unsupported", "the connection pool is closed")
        if self._session is None or self._slots is None:
            connector = aiohttp.TCPConnector(
                limit=0,  # the slots below are the one limit (and the pool timeout)
                keepalive_timeout=self._keepalive,
                ssl=self._ssl_context(),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=_NO_AUTO_HEADERS,
                auto_decompress=False,
                trust_env=False,  # env proxies: the caller picks httpx's transport then
                read_bufsize=_READ_BUFFER,
            )
            self._slots = asyncio.Semaphore(self._max)
        return self._session, self._slots

    async def _acquire_slot(self, slots: asyncio.Semaphore, timeout: float | None) -> _Slot:
        if not slots.locked():
            await slots.acquire()  # free: returns at once
        else:
            alarm = _Alarm()
            alarm.set(timeout)
            try:
                await slots.acquire()
            except asyncio.CancelledError:
                if alarm.expired():
                    raise TransportFailure(
                        "pool_timeout", f"no free connection within {timeout} s"
                    ) from None
                raise
            alarm.disable()
        self._in_use += 1
        return _Slot(self)

    def _release_slot(self) -> None:
        self._in_use -= 1
        if self._slots is not None:
            self._slots.release()

    async def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | AsyncIterable[bytes] | None,
        *,
        content_length: int | None,
        connect: float | None,
        read: float | None,
        write: float | None,
        pool: float | None,
    ) -> AiohttpResponse:
        """Send one request; return once the answer's headers are in.

        Raises:
            TransportFailure: the request could not be sent or answered.
        """
        session, slots = self._open()
        slot = await self._acquire_slot(slots, pool)
        alarm = _Alarm()
        timed: _Body | None = None
        data: bytes | _Body | None = None
        if isinstance(body, bytes) and len(body) <= _SMALL_BODY:
            data = body or None
        elif body:
            data = timed = _Body(body, content_length, alarm, write)
        try:
            response = await session.request(
                method,
                URL(url, encoded=True),  # as httpx encoded it: no second quoting
                headers=headers,
                data=data,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=connect, sock_connect=connect, sock_read=read
                ),
            )
        except asyncio.CancelledError:
            slot.release()
            if alarm.expired():
                raise TransportFailure(
                    "write_timeout", f"the peer took no body bytes for {write} s"
                ) from None
            raise
        except BaseException as err:
            slot.release()
            alarm.disable()
            if timed is not None and timed.error is not None:
                raise timed.error from None
            if isinstance(err, Exception):
                phase: Literal["read", "write"] = (
                    "write" if timed is not None and not timed.done else "read"
                )
                raise _failure(err, phase) from err
            raise
        alarm.disable()
        return AiohttpResponse(response, timed, slot)

    def pool_state(self) -> tuple[int, int]:
        """(connections in use, connections open): for tests that look for leaks."""
        connector = self._session.connector if self._session is not None else None
        if connector is None:
            return self._in_use, 0
        # aiohttp keeps no public count; these are its own bookkeeping
        acquired = len(getattr(connector, "_acquired", ()))
        idle = sum(len(conns) for conns in getattr(connector, "_conns", {}).values())
        return self._in_use, acquired + idle

    async def aclose(self) -> None:
        """Close every connection; later sends fail."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
            # the connections' transports finish closing on the loop's next turn: give it
            # that turn, so no socket is left for the garbage collector when the loop ends
            # right after (aiohttp's advice for a graceful shutdown)
            await asyncio.sleep(0)


def _failure(err: Exception, phase: Literal["read", "write"]) -> TransportFailure:
    """The `TransportFailure` for an aiohttp (or OS) exception raised in ``phase``."""
    name = type(err).__name__
    text = f"{name}: {err}" if str(err) else name
    kind: FailureKind
    if isinstance(err, aiohttp.ConnectionTimeoutError):
        kind = "connect_timeout"
    elif isinstance(err, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        kind = "read_timeout"
    elif isinstance(err, aiohttp.ClientConnectorError):  # refused, DNS, TLS
        kind = "connect"
    elif isinstance(err, aiohttp.InvalidURL):
        kind = "unsupported"
    elif isinstance(err, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        kind = "protocol"  # the peer closed before or during the answer
    elif isinstance(err, aiohttp.ClientResponseError):  # a malformed answer
        kind = "protocol"
    elif isinstance(err, aiohttp.ClientOSError | OSError):
        kind = phase
    else:
        kind = "read" if isinstance(err, aiohttp.ClientError) else "protocol"
    return TransportFailure(kind, text)
