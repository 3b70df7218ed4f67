"""``POST /api/store/<location>``: the File API's one-request store (empty and small files)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import anyio
import httpx
import pytest

from filestack_async import Security
from filestack_async.emulator import (
    Emulator,
    EmulatorTransport,
    Faults,
    NetworkProfile,
    RouteFault,
    web,
)
from filestack_async.emulator.app import IN_PROCESS_URL

from .conftest import APIKEY, Origin

SECRET = "STORE-SECRET"


@pytest.mark.parametrize("data", [b"", b"hello store"], ids=["empty", "bytes"])
async def test_a_multipart_file_is_stored(origin: Origin, data: bytes) -> None:
    r = await origin.http.post(
        f"{origin.base}/api/store/S3",
        params={"key": APIKEY, "filename": "e.txt", "mimetype": "text/plain", "path": "d/e.txt"},
        files={"fileUpload": ("ignored.bin", data, "application/octet-stream")},
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert set(answer) == {"url", "size", "type", "filename", "key"}
    assert answer["url"].startswith(f"{origin.base}/api/file/")
    assert answer["size"] == len(data) and answer["type"] == "text/plain"
    assert answer["filename"] == "e.txt" and answer["key"] == "d/e.txt"
    handle = answer["url"].rsplit("/", 1)[-1]
    assert origin.emulator.storage.read_bytes(handle) == data
    stored = origin.emulator.storage.get_file(handle)
    assert stored is not None and stored.md5 == hashlib.md5(data).hexdigest()
    assert (await origin.http.get(f"{origin.base}/{handle}")).content == data


async def test_a_raw_body_and_the_defaults(origin: Origin) -> None:
    r = await origin.http.post(
        f"{origin.base}/api/store/gcs",
        params={"key": APIKEY, "container": "box"},
        content=b"raw",
        headers={"Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["type"] == "text/csv" and answer["container"] == "box"
    handle = answer["url"].rsplit("/", 1)[-1]
    stored = origin.emulator.storage.get_file(handle)
    assert stored is not None and stored.location == "gcs" and stored.container == "box"
    assert answer["key"] == f"{handle}_file"


@pytest.mark.parametrize(
    ("url", "params", "status"),
    [
        ("/api/store/S3", {}, 400),  # no key
        ("/api/store/s3", {"key": APIKEY}, 400),  # locations are case-sensitive
        ("/api/store/ftp", {"key": APIKEY}, 400),
    ],
)
async def test_refusals(origin: Origin, url: str, params: dict[str, str], status: int) -> None:
    r = await origin.http.post(f"{origin.base}{url}", params=params, content=b"")
    assert r.status_code == status
    assert origin.emulator.storage.list_files() == []


async def test_security_is_enforced(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(secret=SECRET)
    url = f"{IN_PROCESS_URL}/api/store/S3"
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        bare = await http.post(url, params={"key": APIKEY}, content=b"")
        assert bare.status_code == 403
        read_only = Security.create(SECRET, expires_in=600, call=["read"]).as_params()
        denied = await http.post(url, params={"key": APIKEY, **read_only}, content=b"")
        assert denied.status_code == 403
        store = Security.create(SECRET, expires_in=600, call=["store"]).as_params()
        allowed = await http.post(url, params={"key": APIKEY, **store}, content=b"")
        assert allowed.status_code == 200, allowed.text
    assert len(emulator.storage.list_files()) == 1


async def test_the_store_route_can_fail_on_purpose(make_emulator: Callable[..., Emulator]) -> None:
    faults = Faults(rules=(RouteFault("store", error_rate=1.0, status=503),))
    emulator = make_emulator(faults=faults)
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        r = await http.post(f"{IN_PROCESS_URL}/api/store/S3", params={"key": APIKEY}, content=b"")
    assert r.status_code == 503 and emulator.faults.injected["store:503"] == 1
    assert emulator.storage.list_files() == []


@pytest.mark.parametrize(
    ("limits", "status"),
    [({"max_size": 4}, 403), ({"min_size": 6}, 403), ({"max_size": 5, "min_size": 5}, 200)],
    ids=["over maxSize", "under minSize", "within"],
)
async def test_the_policy_size_limits_apply_to_the_stored_body(
    make_emulator: Callable[..., Emulator], limits: dict[str, Any], status: int
) -> None:
    emulator = make_emulator(secret=SECRET, strict=True)
    security = Security.create(SECRET, expires_in=600, call=["store"], **limits).as_params()
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        r = await http.post(
            f"{IN_PROCESS_URL}/api/store/S3",
            params={"key": APIKEY, **security},
            files={"fileUpload": ("f.bin", b"12345", "application/octet-stream")},
        )
    assert r.status_code == status, r.text
    if status == 403:
        assert r.json()["rule"] in ("maxSize", "minSize")
    assert len(emulator.storage.list_files()) == (1 if status == 200 else 0)


async def test_the_network_profile_paces_a_stored_body(
    make_emulator: Callable[..., Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bandwidth applies to a stored body as to a part PUT (the clock is frozen)."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(web, "time", SimpleNamespace(monotonic=lambda: 0.0))
    monkeypatch.setattr(web, "anyio", SimpleNamespace(sleep=sleep, CancelScope=anyio.CancelScope))
    network = NetworkProfile(bandwidth=1000.0)
    emulator = make_emulator(faults=Faults(network=network))
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        r = await http.post(
            f"{IN_PROCESS_URL}/api/store/S3", params={"key": APIKEY}, content=b"x" * 3000
        )
    assert r.status_code == 200, r.text
    assert waits and waits[-1] == pytest.approx(3.0)
