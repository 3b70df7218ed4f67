"""Each HTTP pool (aiohttp and httpx's own) against misbehaving peers on a real loopback socket.

A small asyncio server started in each test plays the peer: one that never reads the
body, never answers, refuses, drops the connection before or during the answer, or
keeps the only connection busy. Every failure must come out as the same typed error,
with the same timeout phase, on both pools (intelligent ingestion decides on it).
The ``http_backend`` fixture (tests/conftest.py) runs each test on both.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

import filestack_async as fa
from filestack_async import RetryPolicy, Timeouts
from filestack_async._http import HTTPSession

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
MiB = 1024 * 1024


@asynccontextmanager
async def peer(handler: Handler, *, receive_buffer: int | None = None) -> AsyncIterator[str]:
    """Serve ``handler`` on 127.0.0.1 and yield the base URL."""
    tasks: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            tasks.discard(task)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind(("127.0.0.1", 0))
    server = await asyncio.start_server(serve, sock=sock)
    port = sock.getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """The request line and headers."""
    return await reader.readuntil(b"\r\n\r\n")


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """The head and a Content-Length body."""
    head = await read_head(reader)
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head, await reader.readexactly(length)


def session(http_backend: str, **timeouts: Any) -> HTTPSession:
    limits = dataclasses.replace(Timeouts(connect=5.0, read=5.0, write=5.0, pool=5.0), **timeouts)
    return HTTPSession(
        timeouts=limits,
        retry=RetryPolicy.disabled(),
        backend=http_backend,  # type: ignore[arg-type]
    )


async def stream_of(size: int, piece: int = 256 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < size:
        chunk = b"x" * min(piece, size - sent)
        sent += len(chunk)
        yield chunk


@pytest.mark.parametrize("source", ["stream", "bytes"])
async def test_a_peer_that_never_reads_the_body_is_a_write_timeout(
    http_backend: str, source: str
) -> None:
    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(60)

    async with peer(never_read, receive_buffer=4096) as url:
        http = session(http_backend, write=0.3, read=30.0)
        try:
            size = 32 * MiB
            with pytest.raises(fa.APITimeoutError) as caught:
                await http.request(
                    "PUT",
                    f"{url}/part",
                    content=(lambda: stream_of(size)) if source == "stream" else b"x" * size,
                    headers={"Content-Length": str(size)},
                    add_filestack_headers=False,
                )
            assert caught.value.phase == "write"
            assert http.backend == http_backend
        finally:
            await http.aclose()


async def test_a_peer_that_never_answers_is_a_read_timeout(http_backend: str) -> None:
    async def no_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(60)

    async with peer(no_answer) as url:
        http = session(http_backend, read=0.3)
        try:
            with pytest.raises(fa.APITimeoutError) as caught:
                await http.request("POST", f"{url}/x", content=b"body" * 1000)
            assert caught.value.phase == "read"
        finally:
            await http.aclose()


async def test_a_refused_connection_is_a_connection_error_not_a_timeout(http_backend: str) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    http = session(http_backend)
    try:
        with pytest.raises(fa.APIConnectionError) as caught:
            await http.request("GET", f"http://127.0.0.1:{port}/x")
        assert not isinstance(caught.value, fa.APITimeoutError)
        assert isinstance(caught.value.__cause__, httpx.ConnectError)
    finally:
        await http.aclose()


async def test_a_connection_dropped_before_the_answer_is_not_a_timeout(http_backend: str) -> None:
    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.transport.abort()

    async with peer(drop) as url:
        http = session(http_backend)
        try:
            with pytest.raises(fa.APIConnectionError) as caught:
                await http.request("POST", f"{url}/x", content=b"abc")
            assert not isinstance(caught.value, fa.APITimeoutError)
            assert isinstance(caught.value.__cause__, httpx.ReadError | httpx.RemoteProtocolError)
        finally:
            await http.aclose()


async def test_a_connection_dropped_mid_body_is_a_connection_error(http_backend: str) -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"y" * 5000)
        await writer.drain()
        writer.transport.abort()

    async with peer(cut) as url:
        http = session(http_backend)
        try:
            with pytest.raises(fa.APIConnectionError) as caught:
                await http.request("GET", f"{url}/file")
            assert not isinstance(caught.value, fa.APITimeoutError)
            async with http.stream("GET", f"{url}/file") as response:
                with pytest.raises(fa.APIConnectionError) as streamed:
                    async for _ in response.aiter_bytes():
                        pass
            assert not isinstance(streamed.value, fa.APITimeoutError)
        finally:
            await http.aclose()


async def test_waiting_for_a_free_connection_is_a_pool_timeout(http_backend: str) -> None:
    answered = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await answered.wait()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    async with peer(slow) as url:
        http = HTTPSession(
            timeouts=Timeouts(connect=5, read=30, write=5, pool=0.3),
            retry=RetryPolicy.disabled(),
            backend=http_backend,  # type: ignore[arg-type]
            max_connections=1,
        )
        try:
            first = asyncio.ensure_future(http.request("GET", f"{url}/busy"))
            while (state := http.pool_state()) is None or state.in_use == 0:
                await asyncio.sleep(0.01)
            with pytest.raises(fa.APITimeoutError) as caught:
                await http.request("GET", f"{url}/second")
            assert caught.value.phase == "pool"
            answered.set()
            assert (await first).content == b"ok"
        finally:
            await http.aclose()


async def test_bodies_keep_their_length_and_answers_come_in_large_pieces(http_backend: str) -> None:
    heads: list[bytes] = []
    bodies: list[bytes] = []
    answer = bytes(range(256)) * 16384  # 4 MiB

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, body = await read_request(reader)
            heads.append(head.lower())
            bodies.append(body)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(answer))
            writer.write(answer)
            await writer.drain()

    async with peer(echo) as url:
        http = session(http_backend)
        try:
            size = 3 * MiB + 5
            await http.request(
                "PUT",
                f"{url}/part",
                content=lambda: stream_of(size, 100_000),
                headers={"Content-Length": str(size)},
                add_filestack_headers=False,
            )
            assert b"content-length: %d\r\n" % size in heads[0]
            assert b"transfer-encoding" not in heads[0]
            assert b"content-type" not in heads[0]  # nothing httpx did not set
            assert len(bodies[0]) == size
            pieces: list[int] = []
            async with http.stream("GET", f"{url}/file") as response:
                received = bytearray()
                async for chunk in response.aiter_bytes():
                    pieces.append(len(chunk))
                    received += chunk
            assert bytes(received) == answer
            assert max(pieces) > 16 * 1024
            state = http.pool_state()
            assert state is not None and state.in_use == 0 and state.open == 1  # kept alive
        finally:
            await http.aclose()


async def test_a_body_shorter_than_its_length_fails_instead_of_hanging(http_backend: str) -> None:
    if http_backend == "httpx":
        pytest.skip("httpcore lets h11's LocalProtocolError through unmapped")

    async def reader_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async with peer(reader_only) as url:
        http = session(http_backend, read=30.0)
        try:
            with pytest.raises(fa.APIConnectionError) as caught:
                await http.request(
                    "PUT",
                    f"{url}/part",
                    content=lambda: stream_of(1000),
                    headers={"Content-Length": "2000"},
                    add_filestack_headers=False,
                )
            assert not isinstance(caught.value, fa.APITimeoutError)
        finally:
            await http.aclose()
