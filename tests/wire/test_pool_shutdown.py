"""Closing a client leaves no socket behind, even when its loop ends right after."""

from __future__ import annotations

import asyncio
import gc
import socket
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import filestack_async as fa
from filestack_async import Client, RetryPolicy, Timeouts

HANDLE = "AbCdEfGhIjKlMnOpQrSt"


def leaks_after(main: Callable[[], Coroutine[Any, Any, None]]) -> list[Any]:
    """Run ``main`` in a loop of its own, then collect: the ResourceWarnings left."""
    unraisable: list[Any] = []
    previous = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        asyncio.run(main())
        gc.collect()
    finally:
        sys.unraisablehook = previous
    return [u for u in unraisable if isinstance(u.exc_value, ResourceWarning)]


class _Endless(BaseHTTPRequestHandler):
    """Answers with a large body, so a reader that stops early leaves the exchange open."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(64 * 1024 * 1024))
        self.end_headers()
        try:
            for _ in range(1024):
                self.wfile.write(b"x" * 65536)
        except OSError:
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Fails:
    """A destination that refuses its first write (a full disk, say)."""

    def write(self, data: bytes) -> int:
        raise OSError(28, "No space left on device")


def test_no_socket_is_left_when_the_loop_ends_after_aclose(
    server_url: str, http_backend: str
) -> None:
    async def main() -> None:
        async with Client(
            "APIKEY",
            base_url=server_url,
            retry=RetryPolicy.disabled(),
            http_backend=http_backend,  # type: ignore[arg-type]
        ) as client:
            with pytest.raises(fa.FilestackError):
                await client.filelink(HANDLE).download(_Fails())  # type: ignore[arg-type]

    assert leaks_after(main) == []  # the loop is closed as soon as the client is


@pytest.fixture
def early_answer_url() -> Iterator[str]:
    """Answers 500 as soon as a request's headers arrive and never reads its body."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        held: list[socket.socket] = []
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
            held.append(conn)  # kept open, unread, until the test ends
        for conn in held:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_no_socket_is_left_after_an_answer_that_came_before_the_body_was_sent(
    early_answer_url: str, http_backend: str
) -> None:
    async def main() -> None:
        async with Client(
            "APIKEY",
            base_url=early_answer_url,
            retry=RetryPolicy.disabled(),
            # httpx's pool sends the whole body before it reads: it meets the write timeout
            timeout=Timeouts(connect=5, read=5, write=1, pool=5),
            http_backend=http_backend,  # type: ignore[arg-type]
        ) as client:
            http = client.context.http
            assert http is not None
            with pytest.raises(fa.APIError):
                await http.request("PUT", f"{early_answer_url}/part", content=b"x" * (16 << 20))

    assert leaks_after(main) == []
