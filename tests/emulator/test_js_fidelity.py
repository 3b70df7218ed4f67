"""What the service takes and the emulator used to refuse (issue 13): each as filestack-js sends it."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from filestack_async.emulator import Emulator, EmulatorTransport
from filestack_async.emulator.app import IN_PROCESS_URL

from ..images import decode, quadrants
from .conftest import APIKEY, MiB, Origin


@pytest.fixture
async def strict(make_emulator: Callable[..., Emulator]) -> AsyncIterator[Origin]:
    emulator = make_emulator(strict=True)
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        yield Origin(emulator, http, IN_PROCESS_URL, "in-process")
    assert [v.message for v in emulator.violations.snapshot()] == []


async def _part_url(origin: Origin, start: dict[str, Any], **fields: object) -> httpx.Response:
    body = {**origin.common(start), **fields}
    return await origin.http.post(f"{origin.location(start)}/multipart/upload", json=body)


async def test_a_part_without_md5_is_taken_and_its_put_has_no_content_md5(strict: Origin) -> None:
    data = b"no integrity check" * 10
    start = await strict.start(len(data))
    r = await _part_url(strict, start, part=1, size=len(data))
    assert r.status_code == 200, r.text
    target = r.json()
    assert "Content-MD5" not in target["headers"]
    put = await strict.http.put(target["url"], content=data, headers=target["headers"])
    assert put.status_code == 200, put.text
    done = await strict.complete(start, parts=[{"part_number": 1, "etag": put.headers["etag"]}])
    assert done.status_code == 200, done.text
    assert strict.emulator.storage.read_bytes(done.json()["handle"]) == data


async def test_fallback_regular_parts_then_intelligent_chunks_on_one_upload(
    strict: Origin,
) -> None:
    data = bytes(range(256)) * (48 * 1024)  # 12 MiB: parts of 8 MiB and 4 MiB
    start = await strict.start(len(data), fii=True)
    first, second = data[: 8 * MiB], data[8 * MiB :]
    # part 1 as filestack-js's fallback mode sends it: no offset, no fii
    r = await _part_url(strict, start, part=1, size=len(first))
    assert r.status_code == 200, r.text
    put = await strict.http.put(r.json()["url"], content=first, headers=r.json()["headers"])
    assert put.status_code == 200, put.text
    # part 2 after the switch: chunks with offsets, then a commit
    for offset in (0, 2 * MiB):
        chunk = second[offset : offset + 2 * MiB]
        assert (await strict.put_piece(start, 2, chunk, offset=offset)).status_code == 200
    assert (await strict.commit(start, 2, len(data))).status_code == 200
    done = await strict.complete(
        start, fii=True, parts=[{"part_number": 1, "etag": put.headers["etag"]}]
    )
    assert done.status_code == 200, done.text
    assert strict.emulator.storage.read_bytes(done.json()["handle"]) == data


async def test_a_fallback_complete_naming_a_chunked_part_is_refused(strict: Origin) -> None:
    data = b"x" * 100
    start = await strict.start(len(data), fii=True)
    assert (await strict.put_piece(start, 1, data[:50], offset=0)).status_code == 200
    assert (await strict.put_piece(start, 1, data[50:], offset=50)).status_code == 200
    assert (await strict.commit(start, 1, len(data))).status_code == 200
    done = await strict.complete(start, fii=True, parts=[{"part_number": 1, "etag": '"x"'}])
    assert done.status_code == 400
    assert "not uploaded as one regular part" in done.text
    strict.emulator.violations.clear()


async def test_process_takes_a_source_with_origin_headers(strict: Origin) -> None:
    stored = await strict.upload_regular(b"private bytes")
    body = {
        "apikey": APIKEY,
        "sources": [{"source": stored["url"], "headers": {"X-Origin-Token": "t"}}],
        "tasks": [{"name": "store", "params": {"filename": "copy.bin"}}],
    }
    r = await strict.http.post(f"{strict.base}/process", json=body)
    assert r.status_code == 200, r.text
    assert strict.emulator.storage.read_bytes(r.json()["handle"]) == b"private bytes"


async def test_process_refuses_headers_that_are_not_strings(strict: Origin) -> None:
    body = {
        "apikey": APIKEY,
        "sources": [{"source": "http://127.0.0.1/x", "headers": {"X": 1}}],
        "tasks": [{"name": "store", "params": {}}],
    }
    r = await strict.http.post(f"{strict.base}/process", json=body)
    assert r.status_code == 400
    assert "'headers' must be an object of strings" in r.text
    strict.emulator.violations.clear()


async def test_metadata_takes_source_url_in_both_spellings(strict: Origin) -> None:
    stored = await strict.upload_regular(b"abc")
    r = await strict.http.get(
        f"{strict.base}/{stored['handle']}/metadata",
        params={"sourceUrl": "true", "source_url": "true", "sha224": "true", "size": "true"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"source_url": None, "sha224": hashlib.sha224(b"abc").hexdigest(), "size": 3}


async def _image(origin: Origin) -> str:
    return str((await origin.upload_regular(quadrants(40, 20)))["handle"])


async def test_a_quoted_url_source_is_read_without_its_quotes(strict: Origin) -> None:
    handle = await _image(strict)
    source = f'"{strict.base}/{handle}"'
    r = await strict.http.get(f"{strict.base}/{APIKEY}/resize=width:20/{source}")
    assert r.status_code == 200, r.text
    assert decode(r.content).size == (20, 10)


async def test_imagesize_answers_json_and_is_never_an_api_key(strict: Origin) -> None:
    handle = await _image(strict)
    r = await strict.http.get(f"{strict.base}/imagesize/{handle}")
    assert r.status_code == 200, r.text
    assert r.json() == {"width": 40, "height": 20}
    r = await strict.http.get(f"{strict.base}/resize=width:10/imagesize/{handle}")
    assert r.json() == {"width": 10, "height": 5}


async def test_an_unknown_task_shaped_first_segment_is_not_an_api_key(strict: Origin) -> None:
    handle = await _image(strict)
    r = await strict.http.get(f"{strict.base}/no_such_task/{handle}")
    assert r.status_code == 400
    assert r.json()["code"] == "UnknownTask"
    assert "no_such_task" in r.text


async def test_a_metadata_task_in_a_chain(strict: Origin) -> None:
    handle = await _image(strict)
    r = await strict.http.get(f"{strict.base}/resize=width:20/metadata=p:[width,height]/{handle}")
    assert r.status_code == 200, r.text
    assert r.json() == {"width": 20, "height": 10}
    r = await strict.http.get(f"{strict.base}/metadata/resize=width:20/{handle}")
    assert r.status_code == 400
    assert "metadata must be the last task" in r.text


async def test_pjpg_writes_a_progressive_jpeg(strict: Origin) -> None:
    handle = await _image(strict)
    r = await strict.http.get(f"{strict.base}/pjpg=quality:80/{handle}")
    assert r.status_code == 200, r.text
    image = decode(r.content)
    assert image.format == "JPEG"
    assert image.info.get("progressive") or image.info.get("progression")


async def test_rounded_corners_and_the_old_name(strict: Origin) -> None:
    handle = await _image(strict)
    r = await strict.http.get(f"{strict.base}/rounded_corners=radius:5,background:black/{handle}")
    assert r.status_code == 200, r.text
    assert decode(r.content).convert("RGB").getpixel((0, 0)) == (0, 0, 0)
    old = await strict.http.get(f"{strict.base}/round_corners=radius:5/{handle}")
    assert old.status_code == 400  # the service has no task of that name


async def test_cache_sets_cache_control(strict: Origin) -> None:
    handle = await _image(strict)
    r = await strict.http.get(f"{strict.base}/cache=false/flip/{handle}")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-cache, no-store"
    r = await strict.http.get(f"{strict.base}/cache=expiry:60/{handle}")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "public, max-age=60"


async def test_blur_faces_is_a_documented_400(strict: Origin) -> None:
    handle = await _image(strict)
    r = await strict.http.get(f"{strict.base}/blur_faces=faces:all/{handle}")
    assert r.status_code == 400
    assert r.json()["code"] == "NotImplementedByEmulator"
    assert "blur_faces" in r.text


async def test_preview_is_an_html_page_of_the_file(strict: Origin) -> None:
    handle = await _image(strict)
    r = await strict.http.get(f'{strict.base}/preview=css:"https://a.io/x.css"/{handle}')
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert handle in r.text and "https://a.io/x.css" in r.text


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


async def test_the_base64_url_form(strict: Origin) -> None:
    handle = await _image(strict)
    tasks = _b64(json.dumps([{"name": "resize", "params": {"width": 20}}, {"name": "flip"}]))
    r = await strict.http.get(f"{strict.base}/{APIKEY}/b64/{tasks}/b64://{_b64(handle)}")
    assert r.status_code == 200, r.text
    assert decode(r.content).size == (20, 10)
    bad = await strict.http.get(f"{strict.base}/{APIKEY}/b64/not-json/b64://{_b64(handle)}")
    assert bad.status_code == 400
