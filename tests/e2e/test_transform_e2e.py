"""Transformations end to end: SDK → emulator (real Pillow processing) → decoded output."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image

from filestack_async import Client, Filelink, PermissionDeniedError, Security, Transformation
from filestack_async._tasks import parse_task
from filestack_async.emulator import EmulatorServer

from ..images import BLACK, BLUE, GREEN, RED, WHITE, decode, near, quadrants, rgb
from .conftest import SECRET, Target, raw_transport


def grey(image: Image.Image, x: int, y: int) -> int:
    red, green, blue = rgb(image, x, y)
    assert red == green == blue
    return red


Build = Callable[[Filelink], Transformation]
Check = Callable[[Image.Image], bool]

#: Every image task the emulator implements, through the SDK's typed methods.
CASES: list[tuple[str, Build, Check]] = [
    ("resize", lambda f: f.resize(width=20), lambda im: im.size == (20, 10)),
    (
        "resize-crop",
        lambda f: f.resize(width=10, height=10, fit="crop", align="right"),
        lambda im: im.size == (10, 10) and near(rgb(im, 5, 2), BLUE),
    ),
    (
        "crop",
        lambda f: f.crop(dim=[20, 10, 20, 10]),
        lambda im: im.size == (20, 10) and rgb(im, 5, 5) == WHITE,
    ),
    (
        "rotate",
        lambda f: f.rotate(deg=270),
        lambda im: im.size == (20, 40) and rgb(im, 0, 0) == BLUE,
    ),
    ("flip", lambda f: f.flip(), lambda im: rgb(im, 0, 0) == GREEN),
    ("flop", lambda f: f.flop(), lambda im: rgb(im, 0, 0) == BLUE),
    (
        "circle",
        lambda f: f.circle(background="000000"),
        lambda im: im.size == (20, 20) and rgb(im, 0, 0) == BLACK and near(rgb(im, 6, 6), RED),
    ),
    (
        "border",
        lambda f: f.border(width=2, color="00FF00"),
        lambda im: im.size == (44, 24) and rgb(im, 0, 0) == GREEN and rgb(im, 2, 2) == RED,
    ),
    (
        "round_corners",
        lambda f: f.round_corners(radius=6, blur=0, background="000000"),
        lambda im: rgb(im, 0, 0) == BLACK and rgb(im, 10, 5) == RED,
    ),
    (
        "pjpg",
        lambda f: f.pjpg(quality=80),
        lambda im: im.format == "JPEG" and bool(im.info.get("progressive")),
    ),
    (
        "cache",
        lambda f: f.cache(cache=False).flip(),
        lambda im: rgb(im, 0, 0) == GREEN,
    ),
    (
        "blur",
        lambda f: f.blur(amount=3),
        lambda im: 40 < rgb(im, 19, 5)[0] < 215 and 40 < rgb(im, 19, 5)[2] < 215,
    ),
    (
        "sharpen",
        lambda f: f.sharpen(amount=3),
        lambda im: rgb(im, 10, 5)[1] == 0 and im.size == (40, 20),
    ),
    ("monochrome", lambda f: f.monochrome(), lambda im: grey(im, 0, 0) == 76),
    (
        "blackwhite",
        lambda f: f.blackwhite(threshold=50),
        lambda im: grey(im, 0, 0) == 0 and grey(im, 39, 19) == 255,
    ),
    (
        "sepia",
        lambda f: f.sepia(tone=100),
        lambda im: rgb(im, 39, 19)[0] >= rgb(im, 39, 19)[1] > rgb(im, 39, 19)[2],
    ),
    ("negative", lambda f: f.negative(), lambda im: rgb(im, 0, 0) == (0, 255, 255)),
    (
        "pixelate",
        lambda f: f.pixelate(amount=8),
        lambda im: len({rgb(im, x, y) for x in range(16, 24) for y in range(8)}) == 1,
    ),
    (
        "modulate",
        lambda f: f.modulate(hue=240, brightness=100, saturation=100),
        lambda im: rgb(im, 2, 2)[2] > 200 and rgb(im, 2, 2)[0] < 60,
    ),
    ("enhance", lambda f: f.enhance(preset="vivid"), lambda im: near(rgb(im, 2, 2), RED, 30)),
    (
        "quality",
        lambda f: f.filetype_conversion(format="jpg").quality(value=50),
        lambda im: im.format == "JPEG" and near(rgb(im, 5, 5), RED, 40),
    ),
    ("no_metadata", lambda f: f.no_metadata(), lambda im: len(im.getexif()) == 0),
    (
        "output",
        lambda f: f.filetype_conversion(format="webp"),
        lambda im: im.format == "WEBP" and im.size == (40, 20),
    ),
    (
        "compress",
        lambda f: f.compress(),
        lambda im: im.format == "PNG" and rgb(im, 39, 0) == BLUE,
    ),
]


@pytest.mark.parametrize(("name", "build", "check"), CASES, ids=[c[0] for c in CASES])
async def test_every_image_task(target: Target, name: str, build: Build, check: Check) -> None:
    link = await target.client.upload(content=quadrants())
    out = decode(await build(link).get_content())
    assert check(out), name


async def test_resize_flip_enhance_store(target: Target) -> None:
    link = await target.client.upload(content=quadrants())
    chain = link.resize(width=20).flip().enhance()
    stored = await chain.store(filename="thumb.png")
    assert stored.handle != link.handle
    out = decode(await stored.get_content())
    assert out.size == (20, 10) and out.format == "PNG"
    assert near(rgb(out, 2, 2), GREEN) and near(rgb(out, 17, 2), WHITE)
    assert near(rgb(out, 2, 7), RED) and near(rgb(out, 17, 7), BLUE)
    meta = await stored.metadata()
    assert meta["filename"] == "thumb.png" and meta["mimetype"] == "image/png"


async def test_get_content_and_download_of_a_chain(target: Target, tmp_path: Path) -> None:
    link = await target.client.upload(content=quadrants())
    chain = link.rotate(deg=90).filetype_conversion(format="jpg")
    content = await chain.get_content()
    written = await chain.download(tmp_path / "rotated.jpg")
    assert written == len(content) == (tmp_path / "rotated.jpg").stat().st_size
    out = decode((tmp_path / "rotated.jpg").read_bytes())
    assert out.format == "JPEG" and out.size == (20, 40)
    assert near(rgb(out, 3, 3), GREEN, 40)


async def test_a_chain_downloads_into_a_binary_file_object(target: Target) -> None:
    link = await target.client.upload(content=quadrants())
    chain = link.rotate(deg=90).filetype_conversion(format="png")
    sink = io.BytesIO()
    written = await chain.download(sink)
    assert written == len(sink.getvalue()) == len(await chain.get_content())
    assert decode(sink.getvalue()).size == (20, 40)


async def test_tasks_from_url_grammar_run_as_the_task_methods_do(target: Target) -> None:
    link = await target.client.upload(content=quadrants())
    parsed = link.resize(width=20).with_tasks("flip/enhance")
    assert parsed == link.resize(width=20).flip().enhance()
    stored = await parsed.store_task(parse_task("store=filename:thumb.png"))
    meta = await stored.metadata()
    assert meta["filename"] == "thumb.png" and meta["mimetype"] == "image/png"
    assert decode(await stored.get_content()).size == (20, 10)


async def test_transform_external_of_a_loopback_url(target: Target, tmp_path: Path) -> None:
    async with EmulatorServer(data_dir=tmp_path / "elsewhere") as elsewhere:
        async with Client("OTHER", base_url=elsewhere.url) as other:
            remote = await other.upload(content=quadrants())
        url = f"{elsewhere.url}/{remote.handle}"
        chain = target.client.transform_external(url).resize(width=10).flop()
        out = decode(await chain.get_content())
        assert out.size == (10, 5) and near(rgb(out, 1, 1), BLUE)
        stored = await target.client.transform_external(url).monochrome().store()
        assert grey(decode(await stored.get_content()), 0, 0) == 76


async def test_an_unsigned_chain_is_refused_by_a_secret_enforcing_emulator(
    target: Target,
) -> None:
    link = await target.client.upload(content=quadrants())
    assert target.client.security is not None
    signed = link.flip().signed_url()
    assert "security=p:" in signed
    async with httpx.AsyncClient(transport=raw_transport(target)) as http:
        denied = await http.get(link.flip().url)
        assert denied.status_code == 403
        allowed = await http.get(signed)
        assert allowed.status_code == 200 and rgb(decode(allowed.content), 0, 0) == GREEN
    narrow = Security.create(SECRET, expires_in=600, call=["read"])
    with pytest.raises(PermissionDeniedError):
        await link.flip().get_content(security=narrow)
    convert_only = Security.create(SECRET, expires_in=600, call=["convert"])
    out = decode(await link.flop().get_content(security=convert_only))
    assert rgb(out, 0, 0) == BLUE
    with pytest.raises(PermissionDeniedError):
        await link.flop().store(security=convert_only)


async def test_a_non_image_is_a_bad_request(target: Target) -> None:
    from filestack_async import BadRequestError

    link = await target.client.upload(content=b"plain text")
    with pytest.raises(BadRequestError, match="not an image"):
        await link.resize(width=10).get_content()


async def test_unimplemented_tasks_say_so(target: Target) -> None:
    from filestack_async import BadRequestError

    link = await target.client.upload(content=quadrants())
    with pytest.raises(BadRequestError, match="does not implement the 'oil_paint' task"):
        await link.flip().oil_paint(amount=4).get_content()


async def test_json_tasks_and_the_preview_page(target: Target) -> None:
    """imagesize and metadata answer JSON, preview an HTML page (issue 13)."""
    import json

    link = await target.client.upload(content=quadrants())
    assert json.loads(await link.resize(width=20).imagesize().get_content()) == {
        "width": 20,
        "height": 10,
    }
    meta = json.loads(await link.metadata_task(p=["width", "size"]).get_content())
    assert meta == {"width": 40, "size": len(quadrants())}
    page = await link.preview(css="https://a.io/s.css").get_content()
    assert link.handle.encode() in page and b"https://a.io/s.css" in page


async def test_a_custom_task_is_sent_as_given_and_judged_by_the_service(target: Target) -> None:
    from filestack_async import BadRequestError

    link = await target.client.upload(content=quadrants())
    chain = link.custom_task("resize", width=20)  # unvalidated, but a task the emulator runs
    assert not chain.tasks[-1].validated
    assert decode(await chain.get_content()).size == (20, 10)
    with pytest.raises(BadRequestError, match="unknown processing task 'not_yet_known'"):
        await link.custom_task("not_yet_known", level=2).get_content()
