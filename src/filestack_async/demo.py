"""The SDK's main job end to end against the embedded emulator.

Run it with ``python -m filestack_async.demo``.

Starts the emulator on a free loopback port (strict mode, with an app secret), makes a
sample image and a short sample video, then uploads, transforms, signs, reads metadata,
converts, overwrites and deletes, checking each result for real. Exits 0 only when
every step succeeded; otherwise it names the failing step. Needs the ``emulator``
extra (Starlette, uvicorn, Pillow, PyAV).
"""

from __future__ import annotations

import hashlib
import io
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from fractions import Fraction
from pathlib import Path

import anyio

from . import Client, Filelink, NotFoundError, RetryPolicy, Security, UploadProgress
from ._redact import redact_url

SECRET = "demo-app-secret"
APIKEY = "DEMO-APIKEY"


class StepFailed(Exception):
    """A demo step did not produce what it should."""


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise StepFailed(what)


def _sample_image() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (30, 90, 160))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 319, 239), fill=(230, 60, 40))  # a red top-left quarter
    draw.ellipse((380, 260, 600, 460), fill=(250, 220, 60))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _sample_video(path: Path) -> None:
    import av

    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for index in range(20):  # 2 seconds at 10 fps
            frame = av.VideoFrame(160, 120, "rgb24")
            shade = 10 + index * 12
            frame.planes[0].update(bytes([shade, 255 - shade, 128]) * (160 * 120))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _image_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return int(image.size[0]), int(image.size[1])


def _video_facts(data: bytes) -> tuple[int, int, float]:
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        rate = stream.average_rate or Fraction(10)
        return int(stream.width), int(stream.height), frames / float(rate)


class Demo:
    """Runs the steps in order and reports each one."""

    def __init__(self, out: Callable[[str], None]) -> None:
        self.out = out
        self.failed: str | None = None

    async def step(self, name: str, action: Callable[[], Awaitable[str]]) -> None:
        """Run one step unless an earlier one failed; print what it checked."""
        if self.failed is not None:
            return
        started = time.perf_counter()
        try:
            detail = await action()
        except Exception as err:  # any failure fails the demo, named
            self.failed = name
            self.out(f"  FAILED  {name}: {type(err).__name__}: {err}")
            return
        self.out(f"  ok      {name} ({time.perf_counter() - started:.2f} s)")
        for line in detail.splitlines():
            self.out(f"          {line}")


async def run(out: Callable[[str], None] = print) -> int:
    """The demo; returns the exit code (0 only if every step succeeded)."""
    from .emulator import EmulatorServer

    demo = Demo(out)
    with tempfile.TemporaryDirectory(prefix="filestack-demo-") as folder:
        work = Path(folder)
        image = _sample_image()
        video_path = work / "sample.mp4"
        _sample_video(video_path)
        async with EmulatorServer(data_dir=work / "emulator", secret=SECRET, strict=True) as srv:
            out(f"Filestack emulator on {srv.url} (strict, with an app secret)")
            security = Security.create(SECRET, expires_in=600)
            async with Client(
                APIKEY, base_url=srv.url, security=security, retry=RetryPolicy(max_retries=2)
            ) as client:
                await _steps(demo, client, image, video_path, work)
            violations = srv.emulator.violations.snapshot()
        if demo.failed is None and violations:
            demo.failed = "protocol check"
            out(f"  FAILED  the emulator saw {len(violations)} protocol violation(s)")
    if demo.failed is not None:
        out(f"demo failed at: {demo.failed}")
        return 1
    out("every step succeeded")
    return 0


async def _steps(demo: Demo, client: Client, image: bytes, video_path: Path, work: Path) -> None:
    state: dict[str, Filelink] = {}
    reports: list[UploadProgress] = []

    async def upload_image() -> str:
        link = await client.upload(
            content=image,
            intelligent=True,
            store_params={"filename": "sample.png", "mimetype": "image/png"},
            progress=reports.append,
        )
        state["image"] = link
        _check(await link.get_content() == image, "the stored bytes differ from the source")
        _check(reports[-1].done and reports[-1].bytes_acknowledged == len(image), "progress")
        return f"{link.url}\nintelligent ingestion, {len(image)} bytes, stored bytes identical"

    async def transform() -> str:
        chain = state["image"].resize(width=320).flip()
        stored = await chain.store(filename="thumb.png")
        target = work / "thumb.png"
        await stored.download(target)
        width, height = _image_size(target.read_bytes())
        _check((width, height) == (320, 240), f"expected 320x240, got {width}x{height}")
        from PIL import Image

        with Image.open(target) as thumb:
            red, green, _ = thumb.convert("RGB").getpixel((5, 235))[:3]
        _check(red > 200 and green < 100, "the flipped image should be red at the bottom left")
        state["thumb"] = stored
        return f"{chain.url}\nstored as {stored.url}; downloaded: 320x240, flipped"

    async def sign() -> str:
        read_only = Security.create(SECRET, expires_in=60, call=["read"])
        url = state["thumb"].signed_url(read_only)
        content = await state["thumb"].get_content(security=read_only)
        _check(_image_size(content) == (320, 240), "the signed read returned another file")
        return f"{redact_url(url)}\nread with a read-only policy (signature not shown)"

    async def metadata() -> str:
        meta = await state["image"].metadata(["size", "width", "height", "md5", "mimetype"])
        expected = {
            "size": len(image),
            "width": 640,
            "height": 480,
            "md5": hashlib.md5(image).hexdigest(),
            "mimetype": "image/png",
        }
        _check(meta == expected, f"metadata {meta} differs from {expected}")
        return ", ".join(f"{k}={v}" for k, v in meta.items())

    async def convert() -> str:
        video = await client.upload(filepath=video_path, store_params={"filename": "sample.mp4"})
        av_job = await video.av_convert(preset="webm", width=80, height=60)
        converted = await av_job.wait_until_complete(timeout=120, initial_delay=0.2, max_delay=1)
        width, height, seconds = _video_facts(await converted.get_content())
        _check((width, height) == (80, 60), f"expected 80x60, got {width}x{height}")
        _check(1.5 <= seconds <= 2.5, f"expected about 2 s of video, got {seconds:.2f} s")
        return f"{av_job.url}\nwebm 80x60, {seconds:.1f} s, decoded: {converted.url}"

    async def overwrite_and_delete() -> str:
        link = state["image"]
        await link.overwrite(content=b"replaced by the demo")
        _check(await link.get_content() == b"replaced by the demo", "overwrite did not apply")
        await link.delete()
        try:
            await link.get_content()
        except NotFoundError:
            return f"{link.url}\noverwritten, then deleted (now 404)"
        raise StepFailed("the deleted file can still be read")

    await demo.step("intelligent upload of an image", upload_image)
    await demo.step("resize + flip, stored as a new file, downloaded", transform)
    await demo.step("signed URL", sign)
    await demo.step("metadata", metadata)
    await demo.step("video conversion with wait_until_complete()", convert)
    await demo.step("overwrite and delete with a security policy", overwrite_and_delete)


def main() -> int:
    """Entry point for ``python -m filestack_async.demo``."""
    try:
        return anyio.run(run)
    except ImportError as err:
        print(
            "the demo needs the 'emulator' extra: pip install 'filestack-async[emulator]' "
            f"({err.name} is missing)",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
