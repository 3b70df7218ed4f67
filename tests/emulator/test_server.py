"""`EmulatorServer`: an address it cannot listen on, `serve_forever`, and the emulator class
looked up when a server is made."""

from __future__ import annotations

import errno
import socket
import threading

import httpx
import pytest

from filestack_async.emulator import Emulator, EmulatorConfig, EmulatorServer
from filestack_async.emulator import app as emulator_app
from filestack_async.emulator.server import ListenError


def test_a_port_in_use_is_a_listen_error_and_closes_the_emulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[Emulator] = []

    class Recorded(Emulator):
        def __init__(self, config: EmulatorConfig | None = None) -> None:
            super().__init__(config)
            made.append(self)

    monkeypatch.setattr(emulator_app, "Emulator", Recorded)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ListenError) as caught:
            EmulatorServer(port=port)
    assert isinstance(caught.value, OSError) and caught.value.errno == errno.EADDRINUSE
    assert str(caught.value.strerror).startswith(f"cannot listen on 127.0.0.1:{port}: ")
    (emulator,) = made  # the class in the module when the server was made
    assert not emulator.data_dir.exists()  # closed: its temporary folder is gone


def test_an_ipv6_address_is_named_in_brackets() -> None:
    # a documentation address (RFC 3849): never this machine's
    with pytest.raises(ListenError, match=r"cannot listen on \[2001:db8::1\]:0: "):
        EmulatorServer(host="2001:db8::1", secret="s")


def test_serve_forever_off_the_main_thread_serves_until_stop() -> None:
    server = EmulatorServer()
    data = server.emulator.data_dir
    serving = threading.Thread(target=server.serve_forever)
    serving.start()
    try:
        with httpx.Client(base_url=server.url, trust_env=False) as http:
            # the server may not accept yet: connections wait in the socket's backlog
            assert http.get("/_emulator/health").status_code == 200
    finally:
        server.stop()
        serving.join(30)
    assert not serving.is_alive()
    assert not data.exists()


def test_serve_forever_takes_a_started_server() -> None:
    server = EmulatorServer().start()
    serving = threading.Thread(target=server.serve_forever)
    serving.start()
    try:
        assert httpx.get(f"{server.url}/_emulator/health", trust_env=False).status_code == 200
    finally:
        server.stop()
        serving.join(30)
    assert not serving.is_alive()


def test_stopping_mid_download_cuts_the_connection_cleanly() -> None:
    # a download nobody reads outlasts the graceful second: stop() aborts its socket, and
    # the server thread ends without the loop's errors (pytest -W error turns a thread's
    # exception or an unclosed transport into a failure)
    server = EmulatorServer().start()
    try:
        with httpx.Client(base_url=server.url) as http:
            stored = http.post(
                "/api/store/S3", params={"key": "K"}, content=b"d" * (48 * 1024 * 1024)
            )
            assert stored.status_code == 200, stored.text
            handle = stored.json()["url"].rsplit("/", 1)[1]
            with http.stream("GET", f"/{handle}") as answer:
                assert answer.status_code == 200
                pieces = answer.iter_raw(65536)
                next(pieces)  # the body has started; the rest is unread
                server.stop()
                with pytest.raises(httpx.HTTPError):
                    for _ in pieces:
                        pass
    finally:
        server.stop()
