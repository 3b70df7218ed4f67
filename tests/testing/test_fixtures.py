"""The shipped pytest fixtures (``filestack_async.testing``): the client fixture on every
loop, the server factory's settings, and the fault-counter assertion."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import sniffio

from filestack_async import Client, InternalServerError, RetryPolicy
from filestack_async.emulator import Emulator, Faults, NetworkProfile, RouteFault
from filestack_async.testing import (
    EmulatorFactory,
    EmulatorServerFactory,
    assert_faults_injected,
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.anyio
async def test_the_client_fixture_serves_anyio_tests_on_each_backend(
    anyio_backend: str, filestack_client: Client
) -> None:
    assert sniffio.current_async_library() == anyio_backend
    link = await filestack_client.upload(content=b"on " + anyio_backend.encode())
    assert await link.get_content() == b"on " + anyio_backend.encode()


def test_the_server_factory_takes_every_setting(
    filestack_emulator_server_factory: EmulatorServerFactory, tmp_path: Path
) -> None:
    network = NetworkProfile(latency=0.0, bandwidth=1e9)
    faults = Faults(seed=5, rules=(RouteFault("cdn", error_rate=0.5),), network=network)
    server = filestack_emulator_server_factory(
        secret="S3CRET",
        strict=True,
        faults=faults,
        data_dir=tmp_path / "mine",
        apikeys=frozenset({"ONLY-KEY"}),
        upload_expiry=math.inf,
    )
    config = server.emulator.config
    assert (config.secret, config.strict, config.faults, config.apikeys) == (
        "S3CRET",
        True,
        faults,
        frozenset({"ONLY-KEY"}),
    )
    assert server.emulator.data_dir == tmp_path / "mine"
    assert server.control_headers  # the secret guards the control plane
    other = filestack_emulator_server_factory()
    assert other.url != server.url and other.emulator.config.secret is None


async def test_assert_faults_injected_counts_exactly_or_at_least(
    filestack_emulator_factory: EmulatorFactory,
) -> None:
    emulator: Emulator = filestack_emulator_factory()
    retry = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.001)
    async with emulator.client(retry=retry) as client:
        link = await client.upload(content=b"small")
        emulator.set_faults(Faults(rules=(RouteFault("cdn", error_rate=1.0, status=503),)))
        with pytest.raises(InternalServerError) as raised:
            await link.get_content()
    assert raised.value.attempts == 3  # the count the CLI reports
    assert_faults_injected(emulator, {"cdn:503": 3, "cdn:reset": 0})
    assert_faults_injected(emulator, {"cdn:503": 2}, exact=False)
    with pytest.raises(AssertionError, match=r"cdn:503: 2 expected, 3 seen.*'cdn:503': 3"):
        assert_faults_injected(emulator, {"cdn:503": 2})
    with pytest.raises(AssertionError, match="at least 4 expected, 3 seen"):
        assert_faults_injected(emulator, {"cdn:503": 4}, exact=False)


@pytest.mark.parametrize("key", ["put", "puts:503", "put:50", "put:boom", "store:503+retry"])
def test_assert_faults_injected_refuses_a_key_that_counts_nothing(
    filestack_emulator: Emulator, key: str
) -> None:
    with pytest.raises(ValueError, match="is not a fault counter"):
        assert_faults_injected(filestack_emulator, {key: 0})
