"""Serving the emulator on a real socket: uvicorn in a background thread."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import socket
import threading
from types import FrameType, TracebackType
from typing import Any

import anyio.to_thread
import uvicorn

# the module, not its class: `app.Emulator` is looked up when a server is made, so a
# test that replaces it (monkeypatch) reaches the servers made after it
from . import app
from .config import EmulatorConfig
from .web import EmulatedReset


class _DropEmulatedResets(logging.Filter):
    """Keep uvicorn from logging the connection resets the emulator injects on purpose,
    and the tracebacks of the requests its own shutdown cancels."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, (EmulatedReset, asyncio.CancelledError))


_FILTER = _DropEmulatedResets()


class _Uvicorn(uvicorn.Server):
    """uvicorn, cutting the connections still open when its graceful second runs out.

    uvicorn cancels the requests still running then (a download nobody reads, a stalled
    upload) but leaves their sockets open as its loop closes, which makes the loop's
    own errors in the server thread. The emulator aborts them instead, as a killed
    server would, and waits for the cancelled requests to end.
    """

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None and not transport.is_closing():
                transport.abort()
        for _ in range(100):  # at most a second more for the cancelled requests to end
            if not self.server_state.tasks and not self.server_state.connections:
                break
            await asyncio.sleep(0.01)


class OpenBindError(ValueError):
    """The emulator was asked to listen beyond loopback with no secret."""


class ListenError(OSError):
    """The emulator cannot listen on its address (in use, or not this machine's).

    ``strerror`` is the whole sentence (``cannot listen on HOST:PORT: reason``);
    ``errno`` is the socket's.
    """


def is_loopback_bind(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``0.0.0.0``, ``::`` or a LAN
    address are not; neither is any other name)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, secret: str | None, allow_open: bool) -> None:
    """Refuse to listen on ``host`` beyond loopback without a secret, unless ``allow_open``.

    Without a secret anyone who reaches the port can read, overwrite and delete every
    file, and reset the emulator or inject faults through the control plane.

    Raises:
        OpenBindError: saying why and what to do.
    """
    if secret is None and not allow_open and not is_loopback_bind(host):
        raise OpenBindError(
            f"refusing to listen on {host!r} without a secret: anyone who reaches it could "
            "read, change and delete every file and drive the control plane; set a secret "
            "(FILESTACK_EMULATOR_SECRET, --secret-file) or allow it explicitly (--allow-open)"
        )


def _listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``; connections wait in its backlog until
    uvicorn accepts them."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class EmulatorServer:
    """The emulator on a loopback port, for code that needs a real socket.

    ``port=0`` (the default) picks a free port. `start` returns once the server
    accepts connections; use it as a context manager, sync or async. A ``host``
    beyond loopback needs a ``secret`` or ``allow_open=True`` (`check_bind`).
    `control_headers` are the headers the control plane (``/_emulator/*``) needs.
    `serve_forever` serves until Ctrl+C or SIGTERM (the ``emulator`` command).

    Raises:
        OpenBindError: ``host`` is beyond loopback, with no secret nor ``allow_open``.
        ListenError: the address cannot be listened on (the emulator is closed again).

    Example:
        >>> with EmulatorServer() as server:  # doctest: +SKIP
        ...     client = Client("KEY", base_url=server.url)
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        allow_open: bool = False,
        **settings: Any,
    ) -> None:
        if config is not None and settings:
            raise TypeError("give config= or keyword settings, not both")
        config = config or EmulatorConfig(**settings)
        check_bind(host, secret=config.secret, allow_open=allow_open)
        self.emulator: app.Emulator = app.Emulator(config)
        self.host = host
        try:
            self._socket = _listen(host, port)
        except OSError as err:
            self.emulator.close()
            where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            raise ListenError(err.errno, f"cannot listen on {where}: {err.strerror}") from err
        self.port: int = self._socket.getsockname()[1]
        self._server = _Uvicorn(
            uvicorn.Config(
                self.emulator.app,
                log_level=log_level,
                lifespan="off",
                timeout_graceful_shutdown=1,
            )
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give the SDK (``base_url=``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def control_headers(self) -> dict[str, str]:
        """The headers a control-plane request needs (the secret, when one is set)."""
        return self.emulator.control_headers

    def start(self) -> EmulatorServer:
        """Start serving; blocks until the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the server was already started")
        logging.getLogger("uvicorn.error").addFilter(_FILTER)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"filestack-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the emulator server failed to start")
            self._thread.join(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve (starting first if need be) until SIGINT or SIGTERM, then `stop`.

        On the main thread the signal is caught, the server stops (the emulator is
        closed, a temporary data folder removed), then the signal is raised again
        under its previous handler: Ctrl+C ends in ``KeyboardInterrupt``, SIGTERM
        ends the process. On another thread it serves until `stop` is called.
        """
        caught: list[int] = []
        previous: dict[int, Any] = {}

        def on_signal(signum: int, frame: FrameType | None) -> None:
            caught.append(signum)
            self._server.should_exit = True  # the server thread sees it within 0.1 s

        if threading.current_thread() is threading.main_thread():
            for wanted in (signal.SIGINT, signal.SIGTERM):
                previous[wanted] = signal.signal(wanted, on_signal)
        try:
            thread = self._thread
            if thread is None:
                self.start()
                thread = self._thread
            if thread is not None:  # None: `stop` was called meanwhile
                thread.join()
        finally:
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        if caught:
            signal.raise_signal(caught[0])

    def stop(self) -> None:
        """Stop serving, close the emulator and release the port."""
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._thread = None
        self._socket.close()
        self.emulator.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> EmulatorServer:
        return await anyio.to_thread.run_sync(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await anyio.to_thread.run_sync(self.stop)
