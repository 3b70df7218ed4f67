"""Image processing URLs run for real (Pillow): every implemented task, checked on decoded pixels."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from filestack_async.emulator import Emulator, EmulatorTransport, image_tasks, processing
from filestack_async.emulator.app import IN_PROCESS_URL

from ..images import BLACK, BLUE, GREEN, RED, WHITE, decode, encode, near, quadrants, rgb
from .conftest import Origin


class Images:
    """Upload images and run processing URLs on them."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.http = origin.http

    async def upload(self, data: bytes) -> str:
        return str((await self.origin.upload_regular(data))["handle"])

    async def run(self, chain: str, data: bytes, *, status: int = 200) -> httpx.Response:
        handle = await self.upload(data)
        response = await self.http.get(f"{self.origin.base}/{chain}/{handle}")
        assert response.status_code == status, response.text
        return response

    async def image(self, chain: str, data: bytes) -> Image.Image:
        return decode((await self.run(chain, data)).content)


@pytest.fixture
async def images(make_emulator: Callable[..., Emulator]) -> AsyncIterator[Images]:
    emulator = make_emulator(strict=True)
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        yield Images(Origin(emulator, http, IN_PROCESS_URL, "in-process"))


# -- geometry -------------------------------------------------------------------------------


async def test_resize_width_keeps_the_aspect_ratio(images: Images) -> None:
    out = await images.image("resize=width:20", quadrants())
    assert out.size == (20, 10)
    assert near(rgb(out, 2, 2), RED) and near(rgb(out, 17, 7), WHITE)


async def test_resize_height_only(images: Images) -> None:
    out = await images.image("resize=height:40", quadrants())
    assert out.size == (80, 40)


@pytest.mark.parametrize(
    ("fit", "size"),
    [("clip", (20, 10)), ("max", (20, 10)), ("scale", (20, 20)), ("crop", (20, 20))],
)
async def test_resize_fits_in_a_box(images: Images, fit: str, size: tuple[int, int]) -> None:
    out = await images.image(f"resize=fit:{fit},height:20,width:20", quadrants())
    assert out.size == size


async def test_resize_max_never_enlarges(images: Images) -> None:
    out = await images.image("resize=fit:max,height:100,width:100", quadrants())
    assert out.size == (40, 20)
    clip = await images.image("resize=fit:clip,height:100,width:100", quadrants())
    assert clip.size == (100, 50)


@pytest.mark.parametrize(
    ("align", "left", "right"),
    [
        ("left", RED, RED),
        ("right", BLUE, BLUE),
        ("center", RED, BLUE),
        ("[middle,right]", BLUE, BLUE),
    ],
)
async def test_resize_crop_keeps_the_aligned_part(
    images: Images, align: str, left: tuple[int, int, int], right: tuple[int, int, int]
) -> None:
    out = await images.image(f"resize=align:{align},fit:crop,height:20,width:20", quadrants())
    assert out.size == (20, 20)
    assert near(rgb(out, 1, 2), left) and near(rgb(out, 18, 2), right)


async def test_crop(images: Images) -> None:
    out = await images.image("crop=dim:[20,0,20,10]", quadrants())
    assert out.size == (20, 10)
    assert {rgb(out, x, y) for x in range(20) for y in range(10)} == {BLUE}
    clipped = await images.image("crop=dim:[30,15,100,100]", quadrants())
    assert clipped.size == (10, 5)
    outside = await images.run("crop=dim:[50,0,10,10]", quadrants(), status=400)
    assert "outside the 40x20 image" in outside.json()["error"]


async def test_rotate_quarter_turns_clockwise(images: Images) -> None:
    out = await images.image("rotate=deg:90", quadrants())
    assert out.size == (20, 40)
    assert rgb(out, 0, 0) == GREEN and rgb(out, 19, 0) == RED and rgb(out, 19, 39) == BLUE
    half = await images.image("rotate=deg:180", quadrants())
    assert rgb(half, 0, 0) == WHITE and rgb(half, 39, 19) == RED


async def test_rotate_any_angle_fills_the_background(images: Images) -> None:
    out = await images.image("rotate=background:00FF00,deg:45", quadrants())
    assert out.width > 40 and out.height > 40
    assert near(rgb(out, 0, 0), GREEN)


async def test_rotate_by_exif_orientation(images: Images) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display rotated 90 degrees clockwise
    source = quadrants(fmt="JPEG", exif=exif.tobytes(), quality=95)
    out = await images.image("rotate=deg:exif", source)
    assert out.size == (20, 40)
    assert near(rgb(out, 2, 2), GREEN, 40)
    assert out.getexif().get(0x0112) in (None, 1)


async def test_flip_and_flop(images: Images) -> None:
    flipped = await images.image("flip", quadrants())
    assert rgb(flipped, 0, 0) == GREEN and rgb(flipped, 39, 19) == BLUE
    flopped = await images.image("flop", quadrants())
    assert rgb(flopped, 0, 0) == BLUE and rgb(flopped, 39, 19) == GREEN


async def test_chains_apply_in_order(images: Images) -> None:
    crop_then_rotate = await images.image("crop=dim:[0,0,20,10]/rotate=deg:90", quadrants())
    assert crop_then_rotate.size == (10, 20)
    assert {rgb(crop_then_rotate, x, y) for x in range(10) for y in range(20)} == {RED}
    rotate_then_crop = await images.image("rotate=deg:90/crop=dim:[0,0,20,10]", quadrants())
    assert rotate_then_crop.size == (20, 10)
    assert rgb(rotate_then_crop, 0, 0) == GREEN and rgb(rotate_then_crop, 19, 9) == RED


# -- shapes ---------------------------------------------------------------------------------


async def test_circle(images: Images) -> None:
    out = await images.image("circle", quadrants())
    assert out.size == (20, 20)
    assert rgb(out, 0, 0) == WHITE and rgb(out, 19, 19) == WHITE
    assert near(rgb(out, 5, 5), RED) and near(rgb(out, 15, 5), BLUE)
    clear = await images.image("circle=background:transparent", quadrants())
    assert clear.mode == "RGBA"
    corner, middle = clear.getpixel((0, 0)), clear.getpixel((10, 10))
    assert isinstance(corner, tuple) and isinstance(middle, tuple)
    assert corner[3] == 0 and middle[3] == 255


async def test_border(images: Images) -> None:
    out = await images.image("border=color:000000,width:3", quadrants())
    assert out.size == (46, 26)
    assert rgb(out, 0, 0) == BLACK and rgb(out, 45, 25) == BLACK
    assert rgb(out, 3, 3) == RED and rgb(out, 42, 22) == WHITE
    default = await images.image("border", quadrants())
    assert default.size == (44, 24)


async def test_border_puts_transparent_images_on_the_background(images: Images) -> None:
    clear = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    out = await images.image("border=background:0000FF,color:FF0000,width:1", encode(clear))
    assert out.size == (12, 12)
    assert rgb(out, 0, 0) == RED and rgb(out, 5, 5) == BLUE


async def test_round_corners(images: Images) -> None:
    out = await images.image("rounded_corners=background:00FF00,blur:0,radius:8", quadrants())
    assert out.size == (40, 20)
    assert rgb(out, 0, 0) == GREEN and near(rgb(out, 39, 0), GREEN)
    assert rgb(out, 10, 5) == RED and rgb(out, 20, 10) == WHITE
    biggest = await images.image("rounded_corners=radius:max", quadrants())
    assert rgb(biggest, 1, 1) == WHITE and near(rgb(biggest, 20, 5), BLUE)


# -- filters --------------------------------------------------------------------------------


def step(left: int = 100, right: int = 150) -> bytes:
    """A grey 20x10 image: ``left`` on the left half, ``right`` on the right half."""
    image = Image.new("RGB", (20, 10), (left,) * 3)
    image.paste((right,) * 3, (10, 0, 20, 10))
    return encode(image)


async def test_blur_mixes_colours_across_edges(images: Images) -> None:
    out = await images.image("blur=amount:3", quadrants())
    red, _, blue = rgb(out, 19, 5)
    assert 40 < red < 215 and 40 < blue < 215
    assert near(rgb(out, 2, 2), RED, 60)


async def test_sharpen_overshoots_edges(images: Images) -> None:
    out = await images.image("sharpen=amount:2", step())
    assert rgb(out, 9, 5)[0] < 100 < 150 < rgb(out, 10, 5)[0]
    assert rgb(out, 0, 5) == (100, 100, 100)
    unchanged = await images.image("sharpen=amount:0", step())
    assert rgb(unchanged, 9, 5) == (100, 100, 100)


async def test_monochrome(images: Images) -> None:
    out = await images.image("monochrome", quadrants())
    assert out.mode == "L"
    assert out.getpixel((0, 0)) == 76 and out.getpixel((39, 19)) == 255


async def test_blackwhite(images: Images) -> None:
    out = await images.image("blackwhite", quadrants())
    assert {out.getpixel((x, y)) for x in range(40) for y in range(20)} <= {0, 255}
    assert out.getpixel((0, 0)) == 0 and out.getpixel((39, 19)) == 255
    assert out.getpixel((0, 19)) == 255  # green is light (L=150)
    strict = await images.image("blackwhite=threshold:70", quadrants())
    assert strict.getpixel((0, 19)) == 0


async def test_sepia(images: Images) -> None:
    grey = encode(Image.new("RGB", (4, 4), (128, 128, 128)))
    out = await images.image("sepia=tone:100", grey)
    red, green, blue = rgb(out, 1, 1)
    assert red > green > blue
    assert rgb(await images.image("sepia=tone:0", grey), 1, 1) == (128, 128, 128)


async def test_negative(images: Images) -> None:
    out = await images.image("negative", quadrants())
    assert rgb(out, 0, 0) == (0, 255, 255) and rgb(out, 39, 19) == BLACK


async def test_pixelate_makes_uniform_blocks(images: Images) -> None:
    gradient = Image.new("RGB", (16, 8))
    gradient.putdata([(x * 16, y * 30, 0) for y in range(8) for x in range(16)])
    out = await images.image("pixelate=amount:4", encode(gradient))
    assert out.size == (16, 8)
    for bx in range(0, 16, 4):
        for by in range(0, 8, 4):
            block = {rgb(out, bx + i, by + j) for i in range(4) for j in range(4)}
            assert len(block) == 1
    assert rgb(out, 0, 0) != rgb(out, 12, 4)


async def test_modulate(images: Images) -> None:
    hue = await images.image("modulate=hue:120", quadrants())
    red, green, blue = rgb(hue, 2, 2)
    assert green > 200 and red < 60 and blue < 60
    dark = await images.image("modulate=brightness:50", quadrants())
    assert near(rgb(dark, 39, 19), (128, 128, 128), 3)
    grey = await images.image("modulate=saturation:0", quadrants())
    red, green, blue = rgb(grey, 2, 2)
    assert red == green == blue


async def test_enhance_stretches_contrast_and_lifts_dark_images(images: Images) -> None:
    dull = step(100, 150)
    auto = await images.image("enhance", dull)
    assert rgb(auto, 0, 5)[0] < 20 and rgb(auto, 19, 5)[0] > 235
    gradient = Image.new("RGB", (8, 8))
    gradient.putdata([(10 + x * 5, 10 + x * 5, 10 + x * 5) for _ in range(8) for x in range(8)])
    lifted = await images.image("enhance=preset:fix_dark", encode(gradient))
    assert rgb(lifted, 4, 4)[0] > 4 * 5 + 10 + 60
    for preset in ("vivid", "beautify", "beautify_plus", "fix_noise", "fix_tint", "outdoor"):
        out = await images.image(f"enhance=preset:{preset}", quadrants())
        assert out.size == (40, 20)


# -- encoding -------------------------------------------------------------------------------


def noisy(size: int = 64) -> Image.Image:
    image = Image.new("RGB", (size, size))
    image.putdata(
        [
            ((x * 37 + y * 11) % 256, (x * y) % 256, (x ^ y) * 4 % 256)
            for y in range(size)
            for x in range(size)
        ]
    )
    return image


async def test_quality_changes_the_jpeg_size(images: Images) -> None:
    source = encode(noisy(), "JPEG", quality=95)
    low = await images.run("quality=value:10", source)
    high = await images.run("quality=value:95", source)
    assert low.headers["content-type"] == "image/jpeg"
    assert len(low.content) < len(high.content)
    assert decode(low.content).size == decode(high.content).size == (64, 64)


async def test_no_metadata_strips_exif(images: Images) -> None:
    exif = Image.Exif()
    exif[0x010E] = "a description"
    source = quadrants(fmt="JPEG", exif=exif.tobytes())
    kept = await images.image("flip", source)
    assert kept.getexif().get(0x010E) == "a description"
    stripped = await images.image("flip/no_metadata", source)
    assert len(stripped.getexif()) == 0


@pytest.mark.parametrize(
    ("fmt", "pillow", "mimetype"),
    [
        ("jpg", "JPEG", "image/jpeg"),
        ("png", "PNG", "image/png"),
        ("webp", "WEBP", "image/webp"),
        ("gif", "GIF", "image/gif"),
        ("bmp", "BMP", "image/bmp"),
        ("tiff", "TIFF", "image/tiff"),
    ],
)
async def test_output_formats(images: Images, fmt: str, pillow: str, mimetype: str) -> None:
    response = await images.run(f"output=format:{fmt}", quadrants())
    assert response.headers["content-type"] == mimetype
    out = decode(response.content)
    assert out.format == pillow and out.size == (40, 20)
    assert near(rgb(out, 2, 2), RED, 30) and near(rgb(out, 37, 2), BLUE, 30)


async def test_output_pdf_and_progressive_jpeg(images: Images) -> None:
    pdf = await images.run("output=format:pdf", quadrants())
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    progressive = await images.image("output=format:pjpg", quadrants())
    assert progressive.format == "JPEG" and progressive.info.get("progressive")


async def test_output_background_and_quality(images: Images) -> None:
    clear = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    clear.paste((255, 0, 0, 255), (0, 0, 5, 10))
    out = await images.image("output=background:0000FF,format:jpg,quality:90", encode(clear))
    assert out.format == "JPEG"
    assert near(rgb(out, 1, 5), RED, 30) and near(rgb(out, 8, 5), BLUE, 30)


async def test_output_document_formats_are_not_implemented(images: Images) -> None:
    response = await images.run("output=format:docx", quadrants(), status=400)
    assert response.json()["code"] == "NotImplementedByEmulator"
    assert "document conversion" in response.json()["error"]


async def test_compress_keeps_pixels_and_does_not_grow(images: Images) -> None:
    source = encode(noisy())
    plain = await images.run("flip", source)
    small = await images.run("flip/compress", source)
    assert len(small.content) <= len(plain.content)
    assert decode(small.content).tobytes() == decode(plain.content).tobytes()


# -- safety, errors, store and the cache ----------------------------------------------------


async def test_data_that_is_not_an_image_is_a_clear_400(images: Images) -> None:
    response = await images.run("flip", b"certainly not an image", status=400)
    assert response.json()["code"] == "NotAnImage"
    assert "not an image" in response.json()["error"]


async def test_truncated_image_is_a_clear_400(images: Images) -> None:
    response = await images.run("flip", encode(noisy(), "PNG")[:300], status=400)
    assert response.json()["code"] == "NotAnImage"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(100_000, 100_000), (9_000, 9_000)])
async def test_decompression_bombs_are_refused(images: Images, size: tuple[int, int]) -> None:
    response = await images.run("flip", png_header_only(*size), status=400)
    assert response.json()["code"] == "ImageTooLarge"
    assert "decompression bomb" in response.json()["error"]


async def test_the_pixel_limit_is_configurable(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(max_image_pixels=500)
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        small = Images(Origin(emulator, http, IN_PROCESS_URL, "in-process"))
        await small.run("flip", quadrants(20, 20))
        refused = await small.run("flip", quadrants(40, 20), status=400)
        assert "limit is 500" in refused.json()["error"]
        grown = await small.run("resize=width:100", quadrants(20, 20), status=400)
        assert grown.json()["code"] == "ImageTooLarge"


async def test_other_catalogue_tasks_are_not_implemented(images: Images) -> None:
    for chain in ("detect_faces", "flip/oil_paint=amount:3", "ascii", "redeye"):
        response = await images.run(chain, quadrants(), status=400)
        assert response.json()["code"] == "NotImplementedByEmulator", chain
        assert "does not implement" in response.json()["error"]


async def test_store_of_a_chain(images: Images) -> None:
    handle = await images.upload(quadrants())
    base = images.origin.base
    response = await images.http.post(
        f"{base}/resize=width:20/flop/store=filename:small.png/{handle}"
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["filename"] == "small.png" and answer["type"] == "image/png"
    stored = decode((await images.http.get(answer["url"])).content)
    assert stored.size == (20, 10) and near(rgb(stored, 2, 2), BLUE)
    meta = (
        await images.http.get(f"{base}/{answer['handle']}/metadata?width=true&height=true")
    ).json()
    assert meta == {"width": 20, "height": 10}


async def test_results_are_cached_by_chain_and_source(
    images: Images, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, ...]] = []
    original = image_tasks.run_chain

    def counting(source: Path, tasks: Any, limit: int, target: Path) -> Any:
        calls.append(tuple(t.render() for t in tasks))
        return original(source, tasks, limit, target)

    monkeypatch.setattr(image_tasks, "run_chain", counting)
    data = quadrants()
    first = await images.upload(data)
    second = await images.upload(data)  # same bytes, another handle: same cache entry
    base = images.origin.base
    miss = await images.http.get(f"{base}/resize=width:10/flip/{first}")
    hit = await images.http.get(f"{base}/resize=width:10/flip/{second}")
    assert miss.headers[processing.CACHE_HEADER] == "miss"
    assert hit.headers[processing.CACHE_HEADER] == "hit"
    assert hit.content == miss.content
    assert calls == [("resize=width:10", "flip")]  # one pass for the whole chain
    stored = await images.http.post(f"{base}/resize=width:10/flip/store/{first}")
    assert stored.status_code == 200 and stored.headers[processing.CACHE_HEADER] == "hit"
    assert len(calls) == 1
    other = await images.http.get(f"{base}/resize=width:10/{first}")
    assert other.headers[processing.CACHE_HEADER] == "miss" and len(calls) == 2
    entries = sorted(p.name for p in processing.cache_dir(images.origin.emulator).iterdir())
    assert len([e for e in entries if e.endswith(".json")]) == 2


async def test_a_failing_chain_leaves_no_temporary_files(images: Images) -> None:
    await images.run("flip", b"not an image", status=400)
    files = images.origin.emulator.data_dir / "files"
    assert [p.name for p in files.iterdir() if p.name.startswith(".incoming")] == []
