"""Closing a client leaves no socket behind, even when its loop ends right after."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import filestack_async as fa
from filestack_async import Client, RetryPolicy

HANDLE = "AbCdEfGhIjKlMnOpQrSt"


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
    unraisable: list[Any] = []
    previous = sys.unraisablehook
    sys.unraisablehook = unraisable.append

    async def main() -> None:
        async with Client(
            "APIKEY",
            base_url=server_url,
            retry=RetryPolicy.disabled(),
            http_backend=http_backend,  # type: ignore[arg-type]
        ) as client:
            with pytest.raises(fa.FilestackError):
                await client.filelink(HANDLE).download(_Fails())  # type: ignore[arg-type]

    try:
        asyncio.run(main())  # the loop is closed as soon as the client is
        gc.collect()
    finally:
        sys.unraisablehook = previous
    leaks = [u for u in unraisable if isinstance(u.exc_value, ResourceWarning)]
    assert leaks == []
