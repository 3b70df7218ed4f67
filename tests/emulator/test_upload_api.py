"""The Upload API, driven request by request, in-process and over a socket (strict mode)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import httpx
import pytest

from filestack_async.emulator import Emulator, EmulatorTransport
from filestack_async.emulator.app import IN_PROCESS_URL

from .conftest import APIKEY, MiB, Origin, md5_b64


@pytest.mark.parametrize("size", [1, 5 * MiB, 5 * MiB + 1, 12 * MiB + 7])
async def test_regular_upload_round_trip(origin: Origin, size: int) -> None:
    data = os.urandom(size)
    answer = await origin.upload_regular(data)
    assert re.fullmatch(r"[A-Za-z0-9]{20}", answer["handle"])
    assert answer["url"] == f"{origin.base}/{answer['handle']}"
    assert answer["size"] == size and answer["status"] == "Stored"
    r = await origin.http.get(answer["url"])
    assert r.status_code == 200 and r.content == data
    assert origin.emulator.violations.snapshot() == []


async def test_start_answers_the_reference_fields(origin: Origin) -> None:
    start = await origin.start(10, fii=True)
    assert set(start) >= {"uri", "region", "upload_id", "location_url"}
    assert "://" not in start["location_url"]  # a bare host, as the real service
    assert start["upload_type"] == "intelligent_ingestion"
    plain = await origin.start(10)
    assert "upload_type" not in plain


async def test_part_url_carries_the_headers_to_send(origin: Origin) -> None:
    start = await origin.start(3)
    body = {**origin.common(start), "part": 1, "size": 3, "md5": md5_b64(b"abc")}
    r = await origin.http.post(f"{origin.location(start)}/multipart/upload", json=body)
    target = r.json()
    assert target["url"].startswith(origin.base + "/")
    assert target["headers"]["Content-MD5"] == md5_b64(b"abc")


async def test_put_returns_a_quoted_etag_and_checks_md5_and_size(origin: Origin) -> None:
    start = await origin.start(3)
    body = {**origin.common(start), "part": 1, "size": 3, "md5": md5_b64(b"abc")}
    target = (
        await origin.http.post(f"{origin.location(start)}/multipart/upload", json=body)
    ).json()
    wrong = await origin.http.put(target["url"], content=b"abd", headers=target["headers"])
    assert wrong.status_code == 400 and "MD5" in wrong.json()["error"]
    short = await origin.http.put(target["url"], content=b"ab", headers=target["headers"])
    assert short.status_code == 400 and "2 bytes but 3" in short.json()["error"]
    no_header = await origin.http.put(target["url"], content=b"abc")
    assert no_header.status_code == 400 and "Content-MD5" in no_header.json()["error"]
    forged = await origin.http.put(target["url"].replace("size=3", "size=4"), content=b"abcd")
    assert forged.status_code == 403
    ok = await origin.http.put(target["url"], content=b"abc", headers=target["headers"])
    assert ok.status_code == 200
    assert ok.headers["etag"] == '"900150983cd24fb0d6963f7d28e17f72"'


async def test_intelligent_upload_assembles_chunks_by_offset(origin: Origin) -> None:
    data = os.urandom(9 * MiB + 5)
    start = await origin.start(len(data), fii=True)
    part1, part2 = data[: 8 * MiB], data[8 * MiB :]
    # part 1 in three chunks of different sizes, part 2 in one
    for offset, size in ((0, 4 * MiB), (4 * MiB, 3 * MiB), (7 * MiB, MiB)):
        r = await origin.put_piece(start, 1, part1[offset : offset + size], offset=offset)
        assert r.status_code == 200
    assert (await origin.put_piece(start, 2, part2, offset=0)).status_code == 200
    for part in (1, 2):
        assert (await origin.commit(start, part, len(data))).status_code == 200
    r = await origin.complete(start)
    assert r.status_code == 200, r.text
    stored = await origin.http.get(r.json()["url"])
    assert stored.content == data
    assert origin.emulator.violations.snapshot() == []


async def test_a_resent_chunk_replaces_the_old_one(origin: Origin) -> None:
    data = os.urandom(2 * MiB)
    start = await origin.start(len(data), fii=True)
    await origin.put_piece(start, 1, os.urandom(MiB), offset=0)  # then re-sent right
    await origin.put_piece(start, 1, data[:MiB], offset=0)
    await origin.put_piece(start, 1, data[MiB:], offset=MiB)
    await origin.commit(start, 1, len(data))
    r = await origin.complete(start)
    assert (await origin.http.get(r.json()["url"])).content == data


async def test_gaps_and_overlaps_are_rejected(origin: Origin) -> None:
    data = os.urandom(3 * MiB)
    start = await origin.start(len(data), fii=True)
    await origin.put_piece(start, 1, data[:MiB], offset=0)
    await origin.put_piece(start, 1, data[2 * MiB :], offset=2 * MiB)
    gap = await origin.commit(start, 1, len(data))
    assert gap.status_code == 400 and "gap between offsets" in gap.json()["error"]
    await origin.put_piece(start, 1, data[MiB // 2 : MiB // 2 + 2 * MiB], offset=MiB // 2)
    overlap = await origin.commit(start, 1, len(data))
    assert overlap.status_code == 400 and "overlaps" in overlap.json()["error"]


async def test_complete_before_commit_is_rejected(origin: Origin) -> None:
    start = await origin.start(4, fii=True)
    await origin.put_piece(start, 1, b"abcd", offset=0)
    r = await origin.complete(start)
    assert r.status_code == 400 and "not committed" in r.json()["error"]


async def test_zero_part_complete_is_a_clear_400(origin: Origin) -> None:
    start = await origin.start(0)
    r = await origin.complete(start, parts=[])
    assert r.status_code == 400
    assert "empty upload cannot be completed" in r.json()["error"]


async def test_regular_complete_checks_parts(origin: Origin) -> None:
    data = os.urandom(6 * MiB)
    start = await origin.start(len(data))
    one = await origin.put_piece(start, 1, data[: 5 * MiB])
    two = await origin.put_piece(start, 2, data[5 * MiB :])
    good = [
        {"part_number": 1, "etag": one.headers["etag"]},
        {"part_number": 2, "etag": two.headers["etag"]},
    ]
    bad_etag = [good[0], {"part_number": 2, "etag": '"0000"'}]
    r = await origin.complete(start, parts=bad_etag)
    assert r.status_code == 400 and "ETag does not match" in r.json()["error"]
    missing = await origin.complete(start, parts=[good[0], {"part_number": 3, "etag": "x"}])
    assert "never uploaded" in missing.json()["error"]
    unordered = await origin.complete(start, parts=[good[1], good[0]])
    assert unordered.status_code == 400 and "ascending" in unordered.json()["error"]
    assert (await origin.complete(start, parts=good)).status_code == 200


async def test_small_parts_other_than_the_last_are_refused(origin: Origin) -> None:
    data = os.urandom(2 * MiB)
    start = await origin.start(len(data))
    one = await origin.put_piece(start, 1, data[:MiB])
    two = await origin.put_piece(start, 2, data[MiB:])
    parts = [
        {"part_number": 1, "etag": one.headers["etag"]},
        {"part_number": 2, "etag": two.headers["etag"]},
    ]
    r = await origin.complete(start, parts=parts)
    assert r.status_code == 400 and "at least 5242880" in r.json()["error"]


async def test_unknown_upload_id(origin: Origin) -> None:
    start = await origin.start(3)
    start["upload_id"] = "no-such-upload"
    r = await origin.complete(start, parts=[{"part_number": 1, "etag": "x"}])
    assert r.status_code == 400 and "unknown upload_id" in r.json()["error"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"size": "12"}, "'size' must be an integer"),
        ({"apikey": ""}, "apikey is required"),
        ({"mimetype": None}, "'mimetype' is missing"),
    ],
)
async def test_strict_start_names_the_deviation(
    origin: Origin, change: dict[str, object], message: str
) -> None:
    body = {
        "apikey": APIKEY,
        "filename": "a",
        "mimetype": "text/plain",
        "size": 12,
        "store": {"location": "S3"},
    }
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    r = await origin.http.post(f"{origin.base}/multipart/start", json=body)
    assert r.status_code == 400 and message in r.json()["error"]
    logged = origin.emulator.violations.snapshot()
    assert logged and message in logged[-1].message


async def test_lenient_mode_accepts_and_logs_tolerable_deviations(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(strict=False)
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        r = await http.post(f"{IN_PROCESS_URL}/multipart/start", json={"apikey": "K", "size": 3})
        assert r.status_code == 200
    messages = [v.message for v in emulator.violations.snapshot()]
    assert any("'filename' is missing" in m for m in messages)
    assert all(not v.rejected for v in emulator.violations.snapshot())
