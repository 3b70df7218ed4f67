"""Each policy rule is enforced where Filestack enforces it; each rejection names its rule."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from filestack_async import Security
from filestack_async.emulator import Emulator, EmulatorTransport
from filestack_async.emulator.app import IN_PROCESS_URL

from .conftest import APIKEY, Origin

SECRET = "EMULATOR-SECRET"


def sec(**policy: Any) -> Security:
    policy.setdefault("expiry", int(time.time()) + 600)
    return Security(policy, SECRET)


@pytest.fixture
async def secured(make_emulator: Callable[..., Emulator]) -> AsyncIterator[Origin]:
    emulator = make_emulator(secret=SECRET, strict=True)
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        yield Origin(emulator, http, IN_PROCESS_URL, "in-process")


async def upload(origin: Origin, data: bytes, security: Security, **store: Any) -> dict[str, Any]:
    start = await origin.start(len(data), store={"location": "S3", **store}, **security.as_params())
    put = await origin.put_piece(start, 1, data)
    parts = [{"part_number": 1, "etag": put.headers["etag"]}]
    r = await origin.complete(start, parts=parts, **security.as_params())
    assert r.status_code == 200, r.text
    return dict(r.json())


def rejected(response: httpx.Response, rule: str) -> bool:
    body = response.json()
    return response.status_code == 403 and body.get("rule") == rule


async def start_with(
    origin: Origin, security: Security | None, size: int = 10, **store: Any
) -> httpx.Response:
    body: dict[str, Any] = {
        "apikey": APIKEY,
        "filename": "f",
        "mimetype": "text/plain",
        "size": size,
        "store": {"location": "S3", **store},
    }
    if security is not None:
        body.update(security.as_params())
    return await origin.http.post(f"{origin.base}/multipart/start", json=body)


async def test_start_rules(secured: Origin) -> None:
    assert rejected(await start_with(secured, None), "required")
    forged = Security({"expiry": int(time.time()) + 60}, "WRONG-SECRET")
    assert rejected(await start_with(secured, forged), "signature")
    expired = Security({"expiry": int(time.time()) - 1}, SECRET)
    assert rejected(await start_with(secured, expired), "expiry")
    assert rejected(await start_with(secured, sec(call=["read"])), "call")
    assert rejected(await start_with(secured, sec(maxSize=5), size=10), "maxSize")
    assert rejected(await start_with(secured, sec(minSize=50), size=10), "minSize")
    assert rejected(await start_with(secured, sec(path="/ok/.*"), path="/bad/x"), "path")
    assert rejected(
        await start_with(secured, sec(container="good-.*"), container="bad"), "container"
    )
    allowed = sec(call=["pick"], maxSize=10, path="/ok/.*", container="good-.*")
    ok = await start_with(secured, allowed, path="/ok/f", container="good-1")
    assert ok.status_code == 200


async def test_read_stat_write_remove_and_handle_rules(secured: Origin) -> None:
    data = b"protected bytes"
    handle = (await upload(secured, data, sec()))["handle"]
    url = f"{secured.base}/{handle}"
    assert rejected(await secured.http.get(url), "required")
    read_only = sec(call=["read"])
    assert (
        await secured.http.get(f"{secured.base}/{read_only.as_url_string()}/{handle}")
    ).content == data
    other_handle = sec(handle="ZZZZZZZZZZZZZZZZZZZZ")
    assert rejected(
        await secured.http.get(f"{secured.base}/{other_handle.as_url_string()}/{handle}"), "handle"
    )
    assert rejected(await secured.http.get(f"{url}/metadata", params=read_only.as_params()), "call")
    stat = sec(call=["stat"])
    assert (await secured.http.get(f"{url}/metadata", params=stat.as_params())).status_code == 200
    exif_needs_its_call = await secured.http.get(
        f"{url}/metadata", params={"exif": "true", **stat.as_params()}
    )
    assert rejected(exif_needs_its_call, "call")
    files = {"fileUpload": ("x", b"new", "application/octet-stream")}
    overwrite_url = f"{secured.base}/api/file/{handle}"
    assert rejected(
        await secured.http.post(overwrite_url, params=read_only.as_params(), files=files), "call"
    )
    write = sec(call=["write"])
    assert (
        await secured.http.post(overwrite_url, params=write.as_params(), files=files)
    ).status_code == 200
    delete_params = {"key": APIKEY, **write.as_params()}
    assert rejected(await secured.http.delete(overwrite_url, params=delete_params), "call")
    remove = sec(call=["remove"], handle=handle)
    r = await secured.http.delete(overwrite_url, params={"key": APIKEY, **remove.as_params()})
    assert r.status_code == 200


async def test_process_url_rule(secured: Origin) -> None:
    handle = (await upload(secured, b"source", sec()))["handle"]
    source = f"{secured.base}/{sec(call=['read']).as_url_string()}/{handle}"

    def body(security: Security) -> dict[str, Any]:
        return {
            "apikey": APIKEY,
            "sources": [source],
            "tasks": [
                {"name": "store", "params": {}},
                {"name": "security", "params": security.as_params()},
            ],
        }

    narrow = sec(url="https://only\\.example/.*")
    assert rejected(await secured.http.post(f"{secured.base}/process", json=body(narrow)), "url")
    wide = sec(url="http://.*", call=["store"])
    assert (await secured.http.post(f"{secured.base}/process", json=body(wide))).status_code == 200


async def test_processing_needs_convert_or_store(secured: Origin) -> None:
    handle = (await upload(secured, b"x", sec()))["handle"]
    convert_only = sec(call=["convert"])
    r = await secured.http.post(f"{secured.base}/store/{convert_only.as_url_string()}/{handle}")
    assert rejected(r, "call")
    store = sec(call=["store"])
    r = await secured.http.post(f"{secured.base}/store/{store.as_url_string()}/{handle}")
    assert r.status_code == 200


async def test_errors_never_echo_the_secret_or_signature(secured: Origin) -> None:
    forged = Security({"expiry": int(time.time()) + 60}, "WRONG-SECRET")
    r = await start_with(secured, forged)
    assert SECRET not in r.text and forged.signature not in r.text


async def test_process_reads_own_files_only_with_read_rights(secured: Origin) -> None:
    handle = (await upload(secured, b"private", sec()))["handle"]
    store_only = sec(call=["store"], handle="ZZZZZZZZZZZZZZZZZZZZ")

    def body(url: str) -> dict[str, Any]:
        return {
            "apikey": APIKEY,
            "sources": [url],
            "tasks": [
                {"name": "store", "params": {}},
                {"name": "security", "params": store_only.as_params()},
            ],
        }

    unsigned = await secured.http.post(
        f"{secured.base}/process", json=body(f"{secured.base}/{handle}")
    )
    assert rejected(unsigned, "required")
    reader = sec(call=["read"], handle=handle)
    signed_source = f"{secured.base}/{reader.as_url_string()}/{handle}"
    r = await secured.http.post(f"{secured.base}/process", json=body(signed_source))
    assert r.status_code == 200, r.text
    assert secured.emulator.storage.read_bytes(r.json()["handle"]) == b"private"
