"""A scripted, hostile HTTP/1.1 server on a loopback socket, for the SDK's HTTP layer.

Each test routes paths to behaviours that write raw bytes (redirects, gzip bombs,
endless or trickling bodies...). The server runs in threads, independent of the
test's event loop and of the client's transport; it records every request it
received (line, headers, body) and whether the client hung up while it was still
writing, so a test can assert what reached it and that the client stopped early.
"""

from __future__ import annotations

import gzip
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import BinaryIO

#: what a behaviour gets: the request and a function writing raw bytes to the client
Behaviour = Callable[["Received", Callable[[bytes], None]], None]


@dataclass
class Received:
    """One request as it arrived."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    def raw(self) -> str:
        """Everything the client sent, as text (to look for credentials)."""
        lines = [f"{self.method} {self.target}", *(f"{k}: {v}" for k, v in self.headers.items())]
        return "\n".join(lines) + "\n" + self.body.decode("latin-1")


@dataclass
class HostileServer:
    """Loopback server: `route` paths (by prefix) to behaviours; `url` to reach it."""

    routes: dict[str, Behaviour] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    #: paths whose answer the client cut off (it closed the connection mid-body)
    hung_up: list[str] = field(default_factory=list)
    #: set when the server shuts down, so endless behaviours stop
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    owner._serve(self.connection)
                except OSError:  # the client hung up between requests
                    return

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def route(self, prefix: str, behaviour: Behaviour) -> None:
        """Answer requests whose path starts with ``prefix`` with ``behaviour``."""
        self.routes[prefix] = behaviour

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def text_received(self) -> str:
        """Every request received so far, as one text."""
        return "\n".join(r.raw() for r in self.received)

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        while not self.stopping.is_set():
            line = reader.readline()
            if not line.strip():
                return
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while (header := reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = header.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = _read_body(reader, headers)
            request = Received(method, target, headers, body)
            self.received.append(request)
            behaviour = next(
                (
                    b
                    for p, b in sorted(self.routes.items(), key=lambda r: -len(r[0]))
                    if _matches(target, p)
                ),
                not_found,
            )
            try:
                behaviour(request, conn.sendall)
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                self.hung_up.append(target)
                return
            if request.headers.get("connection", "").lower() == "close":
                return


def _matches(target: str, prefix: str) -> bool:
    return target.split("?", 1)[0].startswith(prefix)


def _read_body(reader: BinaryIO, headers: dict[str, str]) -> bytes:
    read, readline = reader.read, reader.readline
    if headers.get("transfer-encoding", "").lower() == "chunked":
        pieces: list[bytes] = []
        while True:
            size = int(readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(pieces)
            pieces.append(read(size))
            readline()
    length = int(headers.get("content-length", "0") or 0)
    return bytes(read(length)) if length else b""


def head(status: int, headers: dict[str, str] | None = None, reason: str = "X") -> bytes:
    """A status line and headers."""
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Behaviour:
    """A plain, whole answer."""

    def behave(request: Received, write: Callable[[bytes], None]) -> None:
        write(head(status, {"Content-Length": str(len(body)), **(headers or {})}) + body)

    return behave


def not_found(request: Received, write: Callable[[bytes], None]) -> None:
    """The default: 404."""
    answer(404, b'{"error":"no route"}', {"Content-Type": "application/json"})(request, write)


def redirect(status: int, location: str | Callable[[Received], str]) -> Behaviour:
    """A redirect to ``location`` (or to what the function makes of the request)."""

    def behave(request: Received, write: Callable[[bytes], None]) -> None:
        where = location(request) if callable(location) else location
        answer(status, b"", {"Location": where})(request, write)

    return behave


def chunked(
    pieces: Callable[[], Iterator[bytes]], status: int = 200, headers: dict[str, str] | None = None
) -> Behaviour:
    """A chunked answer made of ``pieces`` (may be endless: it stops when the client hangs up)."""

    def behave(request: Received, write: Callable[[bytes], None]) -> None:
        write(head(status, {"Transfer-Encoding": "chunked", **(headers or {})}))
        for piece in pieces():
            write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        write(b"0\r\n\r\n")

    return behave


def trickle(
    body: bytes, every: float, status: int = 200, headers: dict[str, str] | None = None
) -> Behaviour:
    """Send the headers, then ``body`` one byte each ``every`` seconds."""

    def behave(request: Received, write: Callable[[bytes], None]) -> None:
        write(head(status, {"Content-Length": str(len(body)), **(headers or {})}))
        for i in range(len(body)):
            time.sleep(every)
            write(body[i : i + 1])

    return behave


def delayed(seconds: float, then: Behaviour) -> Behaviour:
    """Wait ``seconds`` (after the whole request arrived), then behave as ``then``."""

    def behave(request: Received, write: Callable[[bytes], None]) -> None:
        time.sleep(seconds)
        then(request, write)

    return behave


@cache
def gzip_bomb(decoded_size: int) -> bytes:
    """Valid JSON, ``{"x": "000..."}`` of ``decoded_size`` bytes, gzipped (about 1000:1)."""
    padding = decoded_size - len(b'{"x": ""}')
    return gzip.compress(b'{"x": "' + b"0" * padding + b'"}', compresslevel=9)
