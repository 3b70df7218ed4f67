"""SDK clients bound to an emulator, in-process and over a loopback socket."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from filestack_async import Client, RetryPolicy, Security
from filestack_async.emulator import Emulator, EmulatorServer
from filestack_async.testing import EmulatorFactory

SECRET = "E2E-APP-SECRET"


class NoSleep(list[float]):
    """Records retry delays instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def free_port() -> int:
    """A loopback port free now (for a server that must come back on the same port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Target:
    """A client and the emulator it talks to."""

    client: Client
    emulator: Emulator
    sleeps: NoSleep
    kind: str


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``target``: in-process once, and over the socket on each HTTP pool."""
    if "target" in metafunc.fixturenames:
        metafunc.parametrize(
            ("target", "http_backend"),
            [("in-process", None), ("socket", "aiohttp"), ("socket", "httpx")],
            ids=["in-process", "socket-aiohttp", "socket-httpx"],
            indirect=True,
        )


def raw_transport(target: Target) -> Any:
    """An httpx transport that reaches the target's emulator, for requests the SDK would not send."""
    if target.kind == "in-process":
        from filestack_async.emulator import EmulatorTransport

        return EmulatorTransport(target.emulator.app)
    return httpx.AsyncHTTPTransport()


@pytest.fixture
async def target(
    request: pytest.FixtureRequest,
    filestack_emulator_factory: EmulatorFactory,
    tmp_path: Path,
    http_backend: str | None,
) -> AsyncIterator[Target]:
    """A security-enforcing, strict emulator and a client with a policy, in-process and over
    a loopback socket (on the pool ``http_backend`` names)."""
    sleeps = NoSleep()
    options: dict[str, Any] = {
        "security": Security.create(SECRET, expires_in=3600),
        "retry": RetryPolicy(sleep=sleeps, random=lambda: 0.5),
    }
    if request.param == "in-process":
        emulator = filestack_emulator_factory(secret=SECRET, strict=True)
        async with emulator.client(**options) as client:
            yield Target(client, emulator, sleeps, "in-process")
        assert [v.message for v in emulator.violations.snapshot()] == []
    else:
        async with EmulatorServer(data_dir=tmp_path / "srv", secret=SECRET, strict=True) as server:
            async with Client("E2E-KEY", base_url=server.url, **options) as client:
                yield Target(client, server.emulator, sleeps, "socket")
                assert client.context.http is not None
                assert client.context.http.backend in (None, http_backend)
            assert [v.message for v in server.emulator.violations.snapshot()] == []


@pytest.fixture
def make_target(filestack_emulator_factory: EmulatorFactory) -> Callable[..., Target]:
    """An in-process client and emulator with custom emulator settings (faults...)."""

    def make(**settings: Any) -> Target:
        sleeps = NoSleep()
        emulator = filestack_emulator_factory(**settings)
        client = emulator.client(retry=RetryPolicy(sleep=sleeps, random=lambda: 0.5))
        return Target(client, emulator, sleeps, "in-process")

    return make
