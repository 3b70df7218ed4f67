"""Regressions found by fuzzing the emulator (tests/reliability/test_fuzz_emulator.py).

Each of these requests made the emulator raise (a 500 over a socket) before the fix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from filestack_async.emulator import Emulator, EmulatorTransport
from filestack_async.emulator.app import IN_PROCESS_URL

APIKEY = "EMULATOR-APIKEY"


@pytest.fixture
async def http(filestack_emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = EmulatorTransport(filestack_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_URL) as client:
        yield client


async def _part_url(http: httpx.AsyncClient) -> str:
    start = await http.post(
        "/multipart/start",
        json={"apikey": APIKEY, "filename": "f", "size": 3, "store": {"location": "S3"}},
    )
    body = {
        "apikey": APIKEY,
        "upload_id": start.json()["upload_id"],
        "uri": start.json()["uri"],
        "region": "us-east-1",
        "part": 1,
        "size": 3,
    }
    answer = await http.post("/multipart/upload", json=body)
    url: str = answer.json()["url"]
    return url


async def test_deeply_nested_json_bodies_are_a_400(http: httpx.AsyncClient) -> None:
    # json.loads raised RecursionError, which read_json did not catch
    for endpoint in ("start", "upload", "commit", "complete"):
        r = await http.post(f"/multipart/{endpoint}", content=b"[" * 100_000)
        assert r.status_code == 400 and "not JSON" in r.json()["error"]


async def test_a_part_put_with_a_non_ascii_token_is_a_403(http: httpx.AsyncClient) -> None:
    # hmac.compare_digest raised TypeError on a str token holding non-ASCII characters
    url = httpx.URL(await _part_url(http)).copy_merge_params({"token": "é"})
    r = await http.put(url, content=b"abc")
    assert r.status_code == 403 and r.json()["code"] == "AccessDenied"


@pytest.mark.parametrize("tail", ["1/" + "9" * 5000, "9" * 5000, "1/x", "-1"])
async def test_part_urls_with_huge_or_odd_numbers_are_a_4xx(
    http: httpx.AsyncClient, tail: str
) -> None:
    # Starlette's int convertor raised ValueError on integers over 4300 digits
    url = httpx.URL(await _part_url(http))
    upload_id = url.path.split("/")[2]
    r = await http.put(url.copy_with(path=f"/_s3/{upload_id}/{tail}"), content=b"abc")
    assert 400 <= r.status_code < 500 and r.json()["error"]


async def test_signed_part_urls_still_work(http: httpx.AsyncClient) -> None:
    r = await http.put(await _part_url(http), content=b"abc")
    assert r.status_code == 200 and r.headers["etag"]


@pytest.mark.parametrize(
    "source", ["http://[::1/x", "http://127.0.0.1:99999/x", "http://[::1]:70000/x"]
)
async def test_sources_that_are_no_valid_url_are_a_400(
    http: httpx.AsyncClient, source: str
) -> None:
    # urlsplit raised ValueError (unclosed IPv6 bracket, port out of range) and httpx
    # InvalidURL escaped the fetch
    r = await http.get(f"/{APIKEY}/flip/{source}")
    assert r.status_code == 400 and r.json()["code"] == "BadSource"
    body = {"apikey": APIKEY, "sources": [source], "tasks": []}
    r = await http.post("/process", json=body)
    assert r.status_code == 400 and "not a valid URL" in r.json()["error"]


async def test_deeply_nested_fault_settings_are_a_400(http: httpx.AsyncClient) -> None:
    r = await http.post("/_emulator/faults", content=b"[" * 100_000)
    assert r.status_code == 400 and "nested too deep" in r.json()["error"]
