"""HTTP helpers shared by the emulator's routes: errors, pacing, resets, file responses."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from html import escape
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from .._exceptions import ConfigurationError
from .._params import validate_handle
from .strict import Checker, ProtocolError

_SEND_BLOCK = 1024 * 1024
#: the largest JSON (or form) body a route reads: every Upload API call, ``/process``
#: and the control plane's settings are a few hundred bytes
MAX_JSON_BODY = 1024 * 1024


class EmulatedReset(Exception):
    """Raised to drop the connection without a complete response (a fault)."""


class ResetResponse(Response):
    """Starts a response, then breaks the connection.

    Over a socket the server closes the connection mid-response, so the client sees
    a reset. In-process, `EmulatorTransport` turns the exception into
    ``httpx.ReadError``.
    """

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1024"), (b"content-type", b"text/plain")],
            }
        )
        raise EmulatedReset("connection reset by the emulator (fault injection)")


class EmulatedCut(Exception):
    """Raised to drop the connection part-way through a body (the download-cut fault).

    Over a socket the server closes the connection after the bytes sent so far, so
    the client sees a body shorter than its ``Content-Length``. In-process,
    `EmulatorTransport` answers with what the app sent before the cut, then raises
    ``httpx.ReadError`` where the body stops.
    """

    def __init__(self, after: int) -> None:
        super().__init__(f"connection cut after {after} bytes of the body (fault injection)")
        self.after = after


def cut_off(response: StreamingResponse, after: int) -> StreamingResponse:
    """``response`` with its body stopped after ``after`` bytes by `EmulatedCut` (the
    bytes pass through as they are: nothing is held)."""
    inner = response.body_iterator

    async def body() -> AsyncIterator[bytes | str | memoryview]:
        sent = 0
        try:
            async for chunk in inner:
                block = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
                room = after - sent
                if len(block) >= room:
                    if room:
                        yield block[:room]
                    raise EmulatedCut(after)
                sent += len(block)
                yield block
        finally:
            close = getattr(inner, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()

    response.body_iterator = body()
    return response


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """A JSON error body like Filestack's: ``{"error": message, ...}``."""
    return JSONResponse({"error": message, **extra}, status_code=status)


def s3_error(status: int, code: str, message: str) -> Response:
    """An error the way S3 answers a part PUT: an XML ``Error`` document."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


def protocol_error(err: ProtocolError) -> JSONResponse:
    """The 400 (or other) answer for a protocol deviation, naming it."""
    return error(err.status, err.message, code=err.code)


def origin(request: Request) -> str:
    """This emulator's origin as the client reached it (``http://host:port``)."""
    return f"{request.url.scheme}://{request.url.netloc}"


def loads_strict(raw: bytes | str) -> Any:
    """Decode JSON the emulator can store and echo, or raise `ValueError` saying why.

    Beyond `json.loads`: nesting too deep to decode and text holding lone surrogates
    (``"\\ud800"`` escapes, which no UTF-8 answer or SQLite row can carry) are refused.
    """
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ValueError("the JSON is nested too deep") from None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the JSON holds a lone surrogate (\\ud800-\\udfff escape)") from None
    except RecursionError:
        raise ValueError("the JSON is nested too deep") from None
    return value


def too_large(what: str, limit: int) -> ProtocolError:
    """The 413 for a body over its limit, naming the limit."""
    return ProtocolError(
        f"the {what} is larger than the {limit} bytes the emulator reads",
        status=413,
        code="BodyTooLarge",
    )


async def read_capped(request: Request, *, limit: int = MAX_JSON_BODY, what: str = "body") -> bytes:
    """The whole body, streamed, refused with a 413 as soon as it passes ``limit`` bytes
    (at once when ``Content-Length`` says so, so nothing is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(what, limit)
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large(what, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def capped_request(request: Request, limit: int, refusal: Exception) -> Request:
    """The same request, whose body raises ``refusal`` once it passes ``limit`` bytes
    (for bodies parsed by Starlette, such as forms); a ``Content-Length`` over the
    limit is refused before anything is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise refusal
    received = 0
    receive = request.receive

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise refusal
        return message

    return Request(request.scope, counted)


def require_handle(text: str) -> str:
    """``text`` if it is a handle, else a 400 naming it (``..``, ``.``, NUL...)."""
    try:
        return validate_handle(text)
    except ConfigurationError:
        raise ProtocolError(
            f"{text[:40]!r} is not a handle (20 letters and digits)", code="BadHandle"
        ) from None


async def read_json(request: Request, checker: Checker) -> dict[str, Any]:
    """The request body (at most `MAX_JSON_BODY` bytes) as a JSON object, or a fatal
    protocol error (413 when too large)."""
    try:
        raw = await read_capped(request, what="JSON body")
    except ProtocolError as err:
        checker.fatal(err.message, status=err.status, code=err.code)
    try:
        value = loads_strict(raw)
    except ValueError as err:
        checker.fatal(f"the body is not JSON: {err}")
    if not isinstance(value, dict):
        checker.fatal("the body must be a JSON object")
    body: dict[str, Any] = value
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        checker.deviation(f"Content-Type should be application/json, not {content_type!r}")
    return body


async def paced(stream: AsyncIterator[bytes], bandwidth: float | None) -> AsyncIterator[bytes]:
    """Pass chunks through no faster than ``bandwidth`` bytes per second; closing this
    closes ``stream`` (an ``async for`` left early does not)."""
    try:
        if bandwidth is None:
            async for chunk in stream:
                yield chunk
            return
        started = time.monotonic()
        total = 0
        async for chunk in stream:
            total += len(chunk)
            ahead = total / bandwidth - (time.monotonic() - started)
            if ahead > 0:
                await anyio.sleep(ahead)
            yield chunk
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await close()


class ClosingStreamingResponse(StreamingResponse):
    """A `StreamingResponse` that closes its body iterator when it ends in any way.

    Starlette leaves an iterator abandoned mid-body (a client gone, a cut, a server
    shutting down) suspended until the garbage collector finds it, with its open file;
    this closes it at once, so the file and the version it reads are let go.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()


def _parse_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """One ``bytes=a-b`` range as ``(start, end_inclusive)``.

    ``None``: the header is to be ignored (malformed, or several ranges), so the
    whole file is sent, as RFC 9110 allows. ``False``: unsatisfiable (416).
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first == "":
            length = int(last)
            if length <= 0:
                return False
            return max(0, size - length), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size:
        return False
    if start > end:
        return None
    return start, min(end, size - 1)


def file_response(
    request: Request,
    segments: list[tuple[Path, int]],
    *,
    size: int,
    media_type: str,
    etag: str,
    bandwidth: float | None,
    extra_headers: Mapping[str, str] | None = None,
    on_close: Callable[[], None] | None = None,
) -> Response:
    """Stream a file kept in segments, with ``Range`` (and ``If-Range``), ``HEAD`` and
    ``If-None-Match``, as a CDN does: 206 with ``Content-Range``, 416 with
    ``Content-Range: bytes */size``.

    ``on_close`` (blocking) is called once the segments are no longer needed: at once
    when no body is sent, else (in a worker thread) when the body ends or is abandoned.
    """
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Content-Type": media_type,
        **(extra_headers or {}),
    }

    def answer(response: Response) -> Response:  # an answer without a body
        if on_close is not None:
            on_close()
        return response

    if_none_match = request.headers.get("if-none-match")
    if if_none_match and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return answer(Response(status_code=304, headers={"ETag": etag}))
    start, end = 0, size - 1
    status = 200
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if range_header and if_range is not None and if_range.strip() != etag:
        # RFC 9110 13.1.5: a validator that does not match (a date, a weak or another
        # ETag) means the client's bytes are of another version: send the whole file
        range_header = None
    if range_header and size > 0:
        wanted = _parse_range(range_header, size)
        if wanted is False:
            return answer(
                Response(
                    status_code=416, headers={"Content-Range": f"bytes */{size}", "ETag": etag}
                )
            )
        if isinstance(wanted, tuple):
            start, end = wanted
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    length = max(0, end - start + 1)
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return answer(Response(status_code=status, headers=headers))

    async def body() -> AsyncIterator[bytes]:
        try:
            skip, remaining = start, length
            for path, segment_size in segments:
                if remaining <= 0:
                    return
                if skip >= segment_size:
                    skip -= segment_size
                    continue
                async with await anyio.open_file(path, "rb") as f:
                    await f.seek(skip)
                    skip = 0
                    while remaining > 0:
                        block = await f.read(min(_SEND_BLOCK, remaining))
                        if not block:
                            break
                        remaining -= len(block)
                        yield block
        finally:
            if on_close is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(on_close)

    return ClosingStreamingResponse(paced(body(), bandwidth), status_code=status, headers=headers)
