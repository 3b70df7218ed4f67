"""``filestack-async demo``: the SDK's main job end to end, with progress bars.

Starts the emulator on a free loopback port in strict mode with an app secret, makes
a sample image (Pillow) and a 2 s 160x120 video (PyAV), then runs each step through
the SDK and checks its result for real: intelligent upload, a chained transformation
stored as a new file and downloaded, a signed URL (and the unsigned one refused),
metadata, a video conversion waited with ``wait_until_complete()``, overwrite and
delete under narrow policies. Exits 0 only when every step succeeded and the
emulator saw no protocol violation; otherwise the failing step is named.

``python -m filestack_async.demo`` runs this same command.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import time
from collections.abc import Awaitable, Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO, cast

import anyio
import httpx

from .. import (
    Client,
    Filelink,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    Security,
    UploadProgress,
)
from .._files import atomic_file
from .._redact import redact_url
from .output import EXIT_FAILED, EXIT_OK, Bars, CountingWriter, Output

SECRET = "demo-app-secret"
APIKEY = "DEMO-APIKEY"
STEPS = (
    "intelligent upload of an image",
    "resize + flip, stored as a new file, downloaded",
    "signed URL",
    "metadata",
    "video conversion with wait_until_complete()",
    "overwrite and delete with a security policy",
)


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


def main(out: Output) -> int:
    """Run the demo; 0 only if every step succeeded (3 when the emulator extra is missing)."""
    out.add_secret(SECRET)
    return anyio.run(run, out)


async def run(out: Output) -> int:
    """The demo on the running event loop; returns the exit code."""
    from ..emulator import EmulatorServer  # ImportError here: exit code 3 (missing extra)

    demo = Demo(out.line)
    with tempfile.TemporaryDirectory(prefix="filestack-demo-") as folder:
        work = Path(folder)
        image = _sample_image()
        video_path = work / "sample.mp4"
        _sample_video(video_path)
        out.line(f"sample image: 640x480 PNG, {len(image)} bytes")
        out.line(f"sample video: 160x120 H.264, 2 s, {video_path.stat().st_size} bytes")
        async with EmulatorServer(data_dir=work / "emulator", secret=SECRET, strict=True) as srv:
            out.line(f"Filestack emulator on {srv.url} (strict mode, with an app secret)")
            security = Security.create(SECRET, expires_in=600)
            out.add_secret(*security.secrets())
            async with Client(
                APIKEY, base_url=srv.url, security=security, retry=RetryPolicy(max_retries=2)
            ) as client:
                with out.bars() as bars:
                    await _steps(demo, client, out, bars, image, video_path, work)
            violations = srv.emulator.violations.snapshot()
        if demo.failed is None and violations:
            demo.failed = "protocol check"
            out.line(f"  FAILED  the emulator saw {len(violations)} protocol violation(s)")
    out.json({"succeeded": demo.failed is None, "failed_step": demo.failed, "steps": STEPS})
    if demo.failed is not None:
        out.line(f"demo failed at: {demo.failed}")
        out.error(f"demo failed at: {demo.failed}")
        return EXIT_FAILED
    out.line(f"every step succeeded ({len(STEPS)} steps, no protocol violation)")
    return EXIT_OK


async def _download(link: Filelink, target: Path, bars: Bars, total: int | None) -> int:
    """Stream ``link`` to ``target`` with a progress bar; return the bytes written."""
    bar = bars.add(f"download {target.name}", total)
    with atomic_file(target) as file:
        writer = CountingWriter(file, lambda n: bars.update(bar, n))
        await link.download(cast(BinaryIO, writer))
    bars.update(bar, writer.written, writer.written)
    return writer.written


async def _upload(
    client: Client, bars: Bars, description: str, **source: Any
) -> tuple[Filelink, list[UploadProgress]]:
    reports: list[UploadProgress] = []
    bar = -1

    def on_progress(report: UploadProgress) -> None:
        nonlocal bar
        if bar < 0:
            bar = bars.add(description, report.total)
        bars.update(bar, report.bytes_acknowledged, report.total)
        reports.append(report)

    link = await client.upload(progress=on_progress, **source)
    return link, reports


async def _steps(
    demo: Demo,
    client: Client,
    out: Output,
    bars: Bars,
    image: bytes,
    video_path: Path,
    work: Path,
) -> None:
    state: dict[str, Filelink] = {}
    check = _check

    async def upload_image() -> str:
        link, reports = await _upload(
            client,
            bars,
            "upload sample.png",
            content=image,
            intelligent=True,
            store_params={"filename": "sample.png", "mimetype": "image/png"},
        )
        state["image"] = link
        check(bool(reports) and reports[-1].done, "no final progress report")
        check(reports[-1].bytes_acknowledged == len(image), "progress did not reach the size")
        check(await link.get_content() == image, "the stored bytes differ from the source")
        return f"{link.url}\nintelligent ingestion, {len(image)} bytes; stored bytes identical"

    async def transform() -> str:
        chain = state["image"].resize(width=320).flip()
        stored = await chain.store(filename="thumb.png")
        size = (stored.upload_response or {}).get("size")
        target = work / "thumb.png"
        written = await _download(stored, target, bars, size if isinstance(size, int) else None)
        data = target.read_bytes()
        check(written == len(data) > 0, "the download wrote nothing")
        width, height = _image_size(data)
        check((width, height) == (320, 240), f"expected 320x240, got {width}x{height}")
        from PIL import Image

        with Image.open(target) as thumb:
            red, green, _ = thumb.convert("RGB").getpixel((5, 235))[:3]
        check(red > 200 and green < 100, "the flipped image should be red at the bottom left")
        state["thumb"] = stored
        return (
            f"{chain.url}\nstored as {stored.url}\n"
            f"downloaded {written} bytes: 320x240 PNG, red quarter now bottom left (flipped)"
        )

    async def sign() -> str:
        thumb = state["thumb"]
        read_only = Security.create(SECRET, expires_in=60, call=["read"], handle=thumb.handle)
        out.add_secret(*read_only.secrets())
        url = thumb.signed_url(read_only)
        content = await thumb.get_content(security=read_only)
        check(_image_size(content) == (320, 240), "the signed read returned another file")
        async with httpx.AsyncClient(trust_env=False) as http:
            unsigned = await http.get(thumb.url)
        check(unsigned.status_code == 403, f"unsigned read answered {unsigned.status_code}")
        return (
            f"{redact_url(url)}\nread with a read-only policy for this handle "
            "(signature not shown); the unsigned URL is refused (403)"
        )

    async def metadata() -> str:
        meta = await state["image"].metadata(["size", "width", "height", "md5", "mimetype"])
        expected = {
            "size": len(image),
            "width": 640,
            "height": 480,
            "md5": hashlib.md5(image).hexdigest(),
            "mimetype": "image/png",
        }
        check(meta == expected, f"metadata {meta} differs from {expected}")
        return ", ".join(f"{k}={v}" for k, v in meta.items()) + " (all as expected)"

    async def convert() -> str:
        video, _ = await _upload(
            client, bars, "upload sample.mp4", filepath=video_path, store_params={}
        )
        job = await video.av_convert(preset="webm", width=80, height=60)
        bar = bars.add("convert to webm", 100, unit="percent")

        def on_status(payload: dict[str, Any]) -> None:
            result = (payload.get("metadata") or {}).get("result") or {}
            percent = result.get("encoding_progress")
            if isinstance(percent, (int, float)):
                bars.update(bar, float(percent))

        converted = await job.wait_until_complete(
            timeout=120, initial_delay=0.1, max_delay=1, progress=on_status
        )
        bars.update(bar, 100)
        target = work / "converted.webm"
        size = ((job.last_payload or {}).get("metadata") or {}).get("result", {}).get("file_size")
        await _download(converted, target, bars, size if isinstance(size, int) else None)
        width, height, seconds = _video_facts(target.read_bytes())
        check((width, height) == (80, 60), f"expected 80x60, got {width}x{height}")
        check(1.5 <= seconds <= 2.5, f"expected about 2 s of video, got {seconds:.2f} s")
        return (
            f"{job.url}\nconverted: {converted.url}\n"
            f"downloaded and decoded with PyAV: webm 80x60, {seconds:.1f} s"
        )

    async def overwrite_and_delete() -> str:
        link = state["image"]
        write_only = Security.create(SECRET, expires_in=60, call=["write"], handle=link.handle)
        remove_only = Security.create(SECRET, expires_in=60, call=["remove"], handle=link.handle)
        out.add_secret(*write_only.secrets(), *remove_only.secrets())
        await link.overwrite(content=b"replaced by the demo", security=write_only)
        check(await link.get_content() == b"replaced by the demo", "overwrite did not apply")
        try:
            await link.delete(security=write_only)
        except PermissionDeniedError:
            pass
        else:
            raise StepFailed("a write-only policy was allowed to delete")
        await link.delete(security=remove_only)
        try:
            await link.get_content()
        except NotFoundError:
            return (
                f"{link.url}\noverwritten with a write-only policy; delete refused with it "
                "(403), done with a remove-only policy; now 404"
            )
        raise StepFailed("the deleted file can still be read")

    actions = (upload_image, transform, sign, metadata, convert, overwrite_and_delete)
    for name, action in zip(STEPS, actions, strict=True):
        await demo.step(name, action)
