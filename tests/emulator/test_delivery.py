"""CDN delivery, Range, metadata, File API, /process and processing URLs."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from collections.abc import Callable

import httpx
import pytest
from PIL import Image

from filestack_async.emulator import Emulator, EmulatorServer

from .conftest import APIKEY, Origin


def png(width: int = 30, height: int = 20) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


async def stored(origin: Origin, data: bytes) -> str:
    return str((await origin.upload_regular(data))["handle"])


async def test_download_headers_and_ranges(origin: Origin) -> None:
    data = os.urandom(100_000)
    handle = await stored(origin, data)
    url = f"{origin.base}/{handle}"
    whole = await origin.http.get(url)
    assert whole.headers["content-length"] == str(len(data))
    assert whole.headers["content-type"] == "application/octet-stream"
    assert whole.headers["etag"].startswith('"') and whole.headers["accept-ranges"] == "bytes"
    part = await origin.http.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    tail = await origin.http.get(url, headers={"Range": "bytes=-5"})
    assert tail.content == data[-5:]
    open_ended = await origin.http.get(url, headers={"Range": "bytes=99990-"})
    assert open_ended.content == data[99990:]
    beyond = await origin.http.get(url, headers={"Range": "bytes=200000-"})
    assert beyond.status_code == 416
    head = await origin.http.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(data))
    attachment = await origin.http.get(url, params={"dl": "true"})
    assert attachment.headers["content-disposition"].startswith("attachment")


async def test_unknown_handle_is_404(origin: Origin) -> None:
    r = await origin.http.get(f"{origin.base}/AbCdEfGhIjKlMnOpQrSt")
    assert r.status_code == 404 and "not found" in r.json()["error"]


async def test_metadata_defaults_attributes_and_hashes(origin: Origin) -> None:
    image = png(30, 20)
    handle = await stored(origin, image)
    url = f"{origin.base}/{handle}/metadata"
    defaults = (await origin.http.get(url)).json()
    assert set(defaults) == {
        "size",
        "mimetype",
        "filename",
        "uploaded",
        "writeable",
        "location",
        "path",
        "container",
    }
    assert defaults["size"] == len(image)
    wanted = ["size", "width", "height", "md5", "sha256", "filename"]
    meta = (await origin.http.get(url, params={k: "true" for k in wanted})).json()
    assert meta == {
        "size": len(image),
        "width": 30,
        "height": 20,
        "md5": hashlib.md5(image).hexdigest(),
        "sha256": hashlib.sha256(image).hexdigest(),
        "filename": "f.bin",
    }


async def test_overwrite_by_file_and_by_url_and_delete(origin: Origin) -> None:
    handle = await stored(origin, b"old")
    other = await stored(origin, b"from another file")
    sig = "a" * 64
    policy = base64.urlsafe_b64encode(b'{"expiry": 4102444800}').decode()
    params = {"policy": policy, "signature": sig}
    files = {"fileUpload": ("x.bin", b"new bytes", "application/octet-stream")}
    r = await origin.http.post(f"{origin.base}/api/file/{handle}", params=params, files=files)
    assert r.status_code == 200, r.text
    assert (await origin.http.get(f"{origin.base}/{handle}")).content == b"new bytes"
    r = await origin.http.post(
        f"{origin.base}/api/file/{handle}", params=params, data={"url": f"{origin.base}/{other}"}
    )
    assert r.status_code == 200, r.text
    assert (await origin.http.get(f"{origin.base}/{handle}")).content == b"from another file"
    encoded = {"fileUpload": ("x", base64.b64encode(b"decoded!"), "application/octet-stream")}
    r = await origin.http.post(
        f"{origin.base}/api/file/{handle}",
        params={**params, "base64decode": "true"},
        files=encoded,
    )
    assert (await origin.http.get(f"{origin.base}/{handle}")).content == b"decoded!"
    no_key = await origin.http.delete(f"{origin.base}/api/file/{handle}", params=params)
    assert no_key.status_code == 400 and "apikey is required" in no_key.json()["error"]
    r = await origin.http.delete(
        f"{origin.base}/api/file/{handle}", params={"key": APIKEY, **params}
    )
    assert r.status_code == 200
    assert (await origin.http.get(f"{origin.base}/{handle}")).status_code == 404
    again = await origin.http.delete(
        f"{origin.base}/api/file/{handle}", params={"key": APIKEY, **params}
    )
    assert again.status_code == 404


async def test_overwrite_and_delete_need_security_even_without_a_secret(origin: Origin) -> None:
    handle = await stored(origin, b"x")
    r = await origin.http.post(
        f"{origin.base}/api/file/{handle}", data={"url": "http://127.0.0.1/"}
    )
    assert r.status_code == 403 and "security is required" in r.json()["error"]
    r = await origin.http.delete(
        f"{origin.base}/api/file/{handle}",
        params={"key": APIKEY, "policy": "not base64!", "signature": "a" * 64},
    )
    assert r.status_code == 403 and "not base64" in r.json()["error"]


def _process_body(url: str, **store: object) -> dict[str, object]:
    return {"apikey": APIKEY, "sources": [url], "tasks": [{"name": "store", "params": store}]}


async def test_process_stores_from_this_emulator(origin: Origin) -> None:
    image = png()
    handle = await stored(origin, image)
    r = await origin.http.post(
        f"{origin.base}/process", json=_process_body(f"{origin.base}/{handle}", filename="copy.png")
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["handle"] != handle and answer["filename"] == "copy.png"
    assert answer["type"] == "image/png" and answer["size"] == len(image)
    assert (await origin.http.get(answer["url"])).content == image


async def test_process_fetches_from_another_loopback_server(origin: Origin) -> None:
    with EmulatorServer() as elsewhere:
        async with httpx.AsyncClient() as http:
            source = Origin(elsewhere.emulator, http, elsewhere.url, "socket")
            handle = await stored(source, b"loopback bytes")
        r = await origin.http.post(
            f"{origin.base}/process", json=_process_body(f"{elsewhere.url}/{handle}")
        )
    assert r.status_code == 200, r.text
    assert (await origin.http.get(r.json()["url"])).content == b"loopback bytes"


@pytest.mark.parametrize(
    "url", ["https://example.com/a.png", "http://10.1.2.3/a.png", "http://192.168.0.1/x"]
)
async def test_process_never_reaches_the_internet(origin: Origin, url: str) -> None:
    r = await origin.http.post(f"{origin.base}/process", json=_process_body(url))
    assert r.status_code == 400
    assert "never reaches the internet" in r.json()["error"]


async def test_processing_urls_parse_and_say_what_is_not_implemented(origin: Origin) -> None:
    handle = await stored(origin, png())
    r = await origin.http.get(f"{origin.base}/detect_faces/{handle}")
    assert r.status_code == 400
    assert "does not implement the 'detect_faces' task" in r.json()["error"]
    unknown = await origin.http.get(f"{origin.base}/frobnicate=level:3/{handle}")
    assert unknown.status_code == 400
    assert "unknown processing task 'frobnicate'" in unknown.json()["error"]
    store = await origin.http.post(f"{origin.base}/store=filename:s.png/{handle}")
    assert store.status_code == 200, store.text
    copy = store.json()
    assert copy["filename"] == "s.png"
    assert (await origin.http.get(copy["url"])).content == png()


async def test_signed_forms_of_a_file_url(make_emulator: Callable[..., Emulator]) -> None:
    from filestack_async import Security
    from filestack_async.emulator import EmulatorTransport
    from filestack_async.emulator.app import IN_PROCESS_URL

    emulator = make_emulator(secret="SECRET", strict=True)
    sec = Security.create("SECRET", expires_in=60)
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        origin = Origin(emulator, http, IN_PROCESS_URL, "in-process")
        start = await origin.start(3, **sec.as_params())
        put = await origin.put_piece(start, 1, b"abc")
        parts = [{"part_number": 1, "etag": put.headers["etag"]}]
        handle = (await origin.complete(start, parts=parts)).json()["handle"]
        assert (await http.get(f"{IN_PROCESS_URL}/{handle}")).status_code == 403
        path_form = await http.get(f"{IN_PROCESS_URL}/{sec.as_url_string()}/{handle}")
        assert path_form.content == b"abc"
        query_form = await http.get(f"{IN_PROCESS_URL}/{handle}", params=sec.as_params())
        assert query_form.content == b"abc"


async def test_ranges_across_the_segments_of_a_multipart_file(origin: Origin) -> None:
    data = os.urandom(12 * 1024 * 1024 + 5)
    handle = (await origin.upload_regular(data, part_size=5 * 1024 * 1024))["handle"]
    url = f"{origin.base}/{handle}"
    assert (await origin.http.get(url)).content == data
    boundary = 5 * 1024 * 1024
    r = await origin.http.get(url, headers={"Range": f"bytes={boundary - 3}-{boundary + 2}"})
    assert r.status_code == 206 and r.content == data[boundary - 3 : boundary + 3]
    r = await origin.http.get(url, headers={"Range": f"bytes={2 * boundary + 1}-"})
    assert r.content == data[2 * boundary + 1 :]


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "bytes=abc", "bytes=5-2", "items=0-3"])
async def test_unusable_range_headers_are_ignored(origin: Origin, header: str) -> None:
    handle = await stored(origin, b"0123456789")
    r = await origin.http.get(f"{origin.base}/{handle}", headers={"Range": header})
    assert r.status_code == 200 and r.content == b"0123456789"


async def test_if_none_match_gives_304(origin: Origin) -> None:
    handle = await stored(origin, b"cached")
    first = await origin.http.get(f"{origin.base}/{handle}")
    again = await origin.http.get(
        f"{origin.base}/{handle}", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""


async def test_a_repeated_complete_gets_the_same_answer(origin: Origin) -> None:
    start = await origin.start(3)
    put = await origin.put_piece(start, 1, b"abc")
    parts = [{"part_number": 1, "etag": put.headers["etag"]}]
    first = await origin.complete(start, parts=parts)
    again = await origin.complete(start, parts=parts)
    assert first.status_code == again.status_code == 200
    assert first.json()["handle"] == again.json()["handle"]


async def test_the_file_api_host_serves_downloads_and_metadata(origin: Origin) -> None:
    handle = await stored(origin, b"file api bytes")
    r = await origin.http.get(f"{origin.base}/api/file/{handle}")
    assert r.status_code == 200 and r.content == b"file api bytes"
    meta = await origin.http.get(
        f"{origin.base}/api/file/{handle}/metadata", params={"size": "true"}
    )
    assert meta.json() == {"size": 14}
