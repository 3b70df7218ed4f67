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


def _png(mode: str, colour: int | tuple[int, ...]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, (9, 7), colour).save(out, "PNG")
    return out.getvalue()


async def test_jpeg_output_over_a_translucent_background_is_flattened(
    filestack_emulator: Emulator,
) -> None:
    # the translucent background left the image RGBA, which JPEG cannot hold (500)
    import io

    from PIL import Image

    async with filestack_emulator.client() as client:
        link = await client.upload(content=_png("RGBA", (10, 200, 30, 128)))
        data = await link.filetype_conversion(format="jpg", background="FF000080").get_content()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.mode == "RGB"
    r, g, b = image.getpixel((4, 3))  # type: ignore[misc]
    # green at half opacity over half-opaque red over white: every channel in between
    assert 100 < r < 255 and g > 100 and 30 < b < 200


async def test_a_grey_image_with_alpha_is_written_as_bmp(filestack_emulator: Emulator) -> None:
    # monochrome keeps the alpha (LA), which Pillow cannot write as BMP (500)
    import io

    from PIL import Image

    async with filestack_emulator.client() as client:
        link = await client.upload(content=_png("RGBA", (10, 200, 30, 128)))
        data = await link.monochrome().filetype_conversion(format="bmp").get_content()
    image = Image.open(io.BytesIO(data))
    assert image.format == "BMP" and image.size == (9, 7)
    r, g, b = image.convert("RGB").getpixel((0, 0))  # type: ignore[misc]
    assert r == g == b  # still grey


async def test_a_tiff_grows_through_a_task_and_is_written_again(
    filestack_emulator: Emulator,
) -> None:
    # the source TIFF's layout tags (width, strips) were written back as EXIF with a
    # result of another size: the TIFF encoder failed (500), PNG got the old width
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2), (1, 2, 3)).save(out, "TIFF")
    async with filestack_emulator.client() as client:
        link = await client.upload(content=out.getvalue())
        tiff = Image.open(io.BytesIO(await link.border(width=3).get_content()))
        png_data = await link.border(width=3).filetype_conversion(format="png").get_content()
    assert tiff.format == "TIFF" and tiff.size == (8, 8)
    png = Image.open(io.BytesIO(png_data))
    assert png.size == (8, 8) and 256 not in png.getexif()


@pytest.mark.parametrize("size", [2**63, 10**30, 5 * 1024**4 + 1])
async def test_a_size_past_the_largest_object_is_a_400(http: httpx.AsyncClient, size: int) -> None:
    # SQLite raised OverflowError storing a size of 2**63 or more (500)
    body = {"apikey": APIKEY, "filename": "f", "size": size, "store": {"location": "S3"}}
    r = await http.post("/multipart/start", json=body)
    assert r.status_code == 400 and "largest object" in r.json()["error"]


async def test_a_chunk_offset_past_the_end_is_a_400(http: httpx.AsyncClient) -> None:
    # was signed, then refused only by the PUT route (offsets of 19+ digits)
    body = {"apikey": APIKEY, "filename": "f", "size": 10, "fii": True, "store": {}}
    start = (await http.post("/multipart/start", json=body)).json()
    chunk = {
        "apikey": APIKEY,
        "upload_id": start["upload_id"],
        "uri": start["uri"],
        "region": "us-east-1",
        "part": 1,
        "size": 5,
        "offset": 2**63,
        "fii": True,
    }
    r = await http.post("/multipart/upload", json=chunk)
    assert r.status_code == 400 and "beyond the end" in r.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"apikey": "K", "filename": "f\\ud800", "size": 3, "store": {"location": "S3"}}',
        b'{"apikey": "K", "upload_id": "\\udfff", "part": 1, "size": 3}',
    ],
)
async def test_json_with_lone_surrogates_is_a_400(http: httpx.AsyncClient, body: bytes) -> None:
    # the decoded text could not be stored in SQLite nor echoed as UTF-8 (500, and a stored
    # file with such upload_tags broke GET /_emulator/files for good)
    for endpoint in ("start", "upload", "complete"):
        r = await http.post(
            f"/multipart/{endpoint}", content=body, headers={"content-type": "application/json"}
        )
        assert r.status_code == 400 and "lone surrogate" in r.json()["error"]
    r = await http.post("/_emulator/faults", content=b'{"seed": "\\ud800"}')
    assert r.status_code == 400 and "lone surrogate" in r.json()["error"]
    assert (await http.get("/_emulator/files")).status_code == 200


async def test_a_source_url_with_a_lone_surrogate_is_a_400(http: httpx.AsyncClient) -> None:
    # /process decoded "\ud800" escapes; the fetch then failed building the URL (500)
    body = b'{"apikey": "K", "sources": ["http://emulator.invalid/\\ud800"], "tasks": []}'
    r = await http.post("/process", content=body)
    assert r.status_code == 400 and "lone surrogate" in r.json()["error"]


async def test_a_deeply_nested_process_body_is_a_400(http: httpx.AsyncClient) -> None:
    # json.loads raised RecursionError in /process (500)
    r = await http.post("/process", content=b"[" * 100_000)
    assert r.status_code == 400 and "nested too deep" in r.json()["error"]
