"""Faults: seeded and reproducible, by flag or at runtime, in-process and over a socket."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from filestack_async.emulator import (
    Emulator,
    EmulatorServer,
    EmulatorTransport,
    FaultConfigError,
    Faults,
    NetworkProfile,
    RouteFault,
)
from filestack_async.emulator.app import IN_PROCESS_URL
from filestack_async.emulator.faults import FaultInjector

from .conftest import MiB, Origin


def test_decisions_repeat_for_the_same_seed_whatever_the_order() -> None:
    faults = Faults(seed=7, rules=(RouteFault("put", error_rate=0.3, reset_rate=0.1),))
    keys = [f"u:{part}:0" for part in range(1, 200)]
    first = FaultInjector(faults)
    forward = {key: first.decide("put", key) for key in keys}
    second = FaultInjector(faults)
    backward = {key: second.decide("put", key) for key in reversed(keys)}
    assert forward == backward
    assert any(d.status for d in forward.values()) and any(d.reset for d in forward.values())
    other = FaultInjector(Faults(seed=8, rules=faults.rules))
    assert {key: other.decide("put", key) for key in keys} != forward


def test_rates_are_roughly_respected() -> None:
    injector = FaultInjector(Faults(seed=1, rules=(RouteFault("*", error_rate=0.1),)))
    errors = sum(injector.decide("cdn", str(i)).status is not None for i in range(2000))
    assert 140 < errors < 260


@pytest.mark.parametrize(
    "bad",
    [
        {"route": "nowhere"},
        {"error_rate": 1.5},
        {"status": 200},
        {"delay": -1},
    ],
)
def test_bad_fault_settings(bad: dict[str, object]) -> None:
    with pytest.raises(FaultConfigError):
        RouteFault(**bad)  # type: ignore[arg-type]


async def test_error_status_with_retry_after(make_emulator: Callable[..., Emulator]) -> None:
    faults = Faults(rules=(RouteFault("start", error_rate=1.0, status=503, retry_after=2),))
    emulator = make_emulator(faults=faults)
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        r = await http.post(f"{IN_PROCESS_URL}/multipart/start", json={"apikey": "K", "size": 1})
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    assert emulator.faults.injected["start:503"] == 1


async def test_reset_in_process_is_a_read_error(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(faults=Faults(rules=(RouteFault("cdn", reset_rate=1.0),)))
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        with pytest.raises(httpx.ReadError, match="reset by the emulator"):
            await http.get(f"{IN_PROCESS_URL}/AbCdEfGhIjKlMnOpQrSt")


async def test_reset_over_a_socket_drops_the_connection() -> None:
    faults = Faults(rules=(RouteFault("cdn", reset_rate=1.0),))
    async with EmulatorServer(faults=faults) as server:
        async with httpx.AsyncClient() as http:
            with pytest.raises(httpx.TransportError):
                await http.get(f"{server.url}/AbCdEfGhIjKlMnOpQrSt")
            health = await http.get(f"{server.url}/_emulator/health")
            assert health.status_code == 200


async def test_delay_beyond_the_read_timeout() -> None:
    faults = Faults(rules=(RouteFault("cdn", delay_rate=1.0, delay=5),))
    async with EmulatorServer(faults=faults) as server:
        async with httpx.AsyncClient(timeout=httpx.Timeout(5, read=0.2)) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(f"{server.url}/AbCdEfGhIjKlMnOpQrSt")


async def test_delay_beyond_the_read_timeout_in_process(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(faults=Faults(rules=(RouteFault("cdn", delay_rate=1.0, delay=30),)))
    transport = EmulatorTransport(emulator.app)
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5, read=0.2)) as http:
        with pytest.raises(httpx.ReadTimeout, match="read timeout"):
            await http.get(f"{IN_PROCESS_URL}/AbCdEfGhIjKlMnOpQrSt")
        # without a read timeout the answer is waited for
        emulator.set_faults(Faults())
        r = await http.get(f"{IN_PROCESS_URL}/AbCdEfGhIjKlMnOpQrSt", timeout=None)
    assert r.status_code == 404


async def test_a_delayed_part_put_keeps_the_body_and_answers_late(tmp_path: Path) -> None:
    """A delayed PUT reads and stores the whole body first, then holds the answer: the
    client meets a read timeout (not a write one) and the piece is there, as when a
    real service stores a part whose answer is lost."""
    faults = Faults(rules=(RouteFault("put", delay_rate=1.0, delay=30),))
    data = os.urandom(
        4 * MiB
    )  # more than the socket buffers: a delay before reading stalls the write
    async with EmulatorServer(data_dir=tmp_path, faults=faults) as server:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=0.5)) as http:
            origin = Origin(server.emulator, http, server.url, "socket")
            start = await origin.start(len(data))
            with pytest.raises(httpx.ReadTimeout):
                await origin.put_piece(start, 1, data)
        pieces = server.emulator.storage.pieces(start["upload_id"])
        assert [(p.part, p.size, p.md5) for p in pieces] == [
            (1, len(data), hashlib.md5(data).hexdigest())
        ]


async def test_max_chunk_size_and_complete_202(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(strict=True, faults=Faults(max_chunk_size=1000, complete_202=2))
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        origin = Origin(emulator, http, IN_PROCESS_URL, "in-process")
        data = os.urandom(1500)
        start = await origin.start(len(data), fii=True)
        with pytest.raises(httpx.ReadError):
            await origin.put_piece(start, 1, data, offset=0)
        assert (await origin.put_piece(start, 1, data[:1000], offset=0)).status_code == 200
        assert (await origin.put_piece(start, 1, data[1000:], offset=1000)).status_code == 200
        await origin.commit(start, 1, len(data))
        assert (await origin.complete(start)).status_code == 202
        assert (await origin.complete(start)).status_code == 202
        done = await origin.complete(start)
        assert done.status_code == 200
        assert (await http.get(done.json()["url"])).content == data


@pytest.mark.parametrize("code", ["RequestTimeout", "IncompleteBody"])
async def test_max_chunk_size_can_answer_the_way_s3_does(
    make_emulator: Callable[..., Emulator], code: str
) -> None:
    faults = Faults(max_chunk_size=1000, chunk_s3_code=code)
    emulator = make_emulator(strict=True, faults=faults)
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        origin = Origin(emulator, http, IN_PROCESS_URL, "in-process")
        data = os.urandom(1500)
        start = await origin.start(len(data), fii=True)
        refused = await origin.put_piece(start, 1, data, offset=0)
        assert refused.status_code == 400
        assert refused.headers["content-type"].startswith("application/xml")
        assert refused.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
        assert f"<Error><Code>{code}</Code><Message>" in refused.text
        assert (await origin.put_piece(start, 1, data[:1000], offset=0)).status_code == 200
        assert emulator.faults.injected["put:too-big"] == 1
        shown = (await http.get(f"{IN_PROCESS_URL}/_emulator/faults")).json()["faults"]
        assert shown["chunk_s3_code"] == code


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"chunk_s3_code": "SlowDown"}, "chunk_s3_code must be one of RequestTimeout"),
        ({"chunk_s3_code": "RequestTimeout", "chunk_status": 408}, "not both"),
    ],
)
def test_chunk_s3_code_is_checked(settings: dict[str, object], message: str) -> None:
    with pytest.raises(FaultConfigError, match=message):
        Faults.from_json(settings)


async def test_faults_set_and_cleared_at_runtime(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator()
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        url = f"{IN_PROCESS_URL}/_emulator/faults"
        body = {"seed": 3, "rules": [{"route": "cdn", "error_rate": 1.0, "status": 429}]}
        r = await http.post(url, json=body)
        assert r.status_code == 200 and r.json()["faults"]["seed"] == 3
        assert (await http.get(f"{IN_PROCESS_URL}/AbCdEfGhIjKlMnOpQrSt")).status_code == 429
        assert (await http.get(url)).json()["injected"] == {"cdn:429": 1}
        bad = await http.post(url, json={"rules": [{"route": "cdn", "error_rate": 3}]})
        assert bad.status_code == 400
        await http.delete(url)
        assert (await http.get(f"{IN_PROCESS_URL}/AbCdEfGhIjKlMnOpQrSt")).status_code == 404


async def test_network_profile_paces_bodies(make_emulator: Callable[..., Emulator]) -> None:
    import time

    profile = NetworkProfile(latency=0.05, bandwidth=1_000_000)
    emulator = make_emulator(faults=Faults(network=profile))
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        origin = Origin(emulator, http, IN_PROCESS_URL, "in-process")
        began = time.monotonic()
        await origin.upload_regular(os.urandom(300_000))
        elapsed = time.monotonic() - began
    # 4 requests x 50 ms latency + 300 kB at 1 MB/s: at least 0.45 s
    assert elapsed >= 0.45
