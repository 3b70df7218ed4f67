"""An in-process transport to the emulator for ``httpx`` clients (no sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast

import anyio
import httpx
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .web import EmulatedCut, EmulatedReset


class _AsBytes(httpx.AsyncByteStream):
    """A request body whose blocks reach the app as ``bytes``, as a socket delivers them
    (a client may send memoryviews; ASGI apps and their parsers expect bytes)."""

    def __init__(self, stream: httpx.AsyncByteStream) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for block in self._stream:
            yield block if isinstance(block, bytes) else bytes(block)


class _Cut(Exception):
    """An `EmulatedCut`, with what the app had sent before it."""

    def __init__(self, cut: EmulatedCut, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        super().__init__(str(cut))
        self.status = status
        self.headers = headers
        self.sent = b""


def _recording(app: ASGIApp) -> ASGIApp:
    """``app``, whose answer cut by an `EmulatedCut` becomes a `_Cut` holding what was sent."""

    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        status, headers, parts = 500, [], []

        async def recorder(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                parts.append(bytes(message.get("body", b"")))
            await send(message)

        try:
            await app(scope, receive, recorder)
        except EmulatedCut as cut:
            failure = _Cut(cut, status, headers)
            failure.sent = b"".join(parts)
            raise failure from None

    return recorded


class _CutBody(httpx.AsyncByteStream):
    """The part of a body sent before an injected cut, then a read error."""

    def __init__(self, cut: _Cut, request: httpx.Request) -> None:
        self._cut = cut
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._cut.sent:
            yield self._cut.sent
        raise httpx.ReadError(str(self._cut), request=self._request)


class EmulatorTransport(httpx.ASGITransport):
    """``httpx.ASGITransport`` to an emulator app, where faults look like a network's.

    An injected reset raises ``httpx.ReadError``; a download cut mid-body answers with
    the bytes sent before the cut, then raises ``httpx.ReadError``. The client's read
    timeout bounds the whole exchange (the app gets the request and answers in one
    step here), so an injected delay beyond it raises ``httpx.ReadTimeout`` as it
    would over a socket.

    Example:
        >>> app = create_app()  # doctest: +SKIP
        >>> client = Client("KEY", base_url="http://emulator", transport=EmulatorTransport(app))
    """

    def __init__(self, app: Starlette) -> None:
        super().__init__(app=_recording(app))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request to the app; resets and late answers fail as on a network."""
        timeouts = request.extensions.get("timeout") or {}
        read = timeouts.get("read") if isinstance(timeouts, dict) else None
        request.stream = _AsBytes(cast(httpx.AsyncByteStream, request.stream))
        try:
            with anyio.move_on_after(read if isinstance(read, (int, float)) else None):
                return await super().handle_async_request(request)
        except EmulatedReset as err:
            raise httpx.ReadError(str(err), request=request) from err
        except _Cut as cut:
            return httpx.Response(
                cut.status, headers=cut.headers, stream=_CutBody(cut, request), request=request
            )
        raise httpx.ReadTimeout(
            f"no answer from the emulator within the read timeout ({read} s)", request=request
        )
