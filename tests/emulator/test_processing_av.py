"""video_convert for real (PyAV): raw status JSON, decoded results, and the SDK's AudioVisual."""

from __future__ import annotations

import io
import math
import struct
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import av
import httpx
import pytest
from PIL import Image

from filestack_async import ConversionError, RetryPolicy
from filestack_async.emulator import Emulator, EmulatorTransport
from filestack_async.emulator.app import IN_PROCESS_URL
from filestack_async.emulator.av_convert import conversions, plan_geometry

from ..fakes import FakeTime
from .conftest import Origin

WIDTH, HEIGHT, FPS, SECONDS, RATE = 64, 48, 10, 2, 22050


def sample_video(seconds: int = SECONDS, *, audio: bool = True, fmt: str = "mp4") -> bytes:
    """A small H.264 + AAC file: the frames go from black to red, with a 440 Hz tone."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as out:
        video = out.add_stream("libx264", rate=FPS)
        assert isinstance(video, av.video.stream.VideoStream)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        sound = tone_stream(out) if audio else None
        frames = seconds * FPS
        for i in range(frames):
            image = Image.new("RGB", (WIDTH, HEIGHT), (255 * i // frames, 0, 0))
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            write_tone(out, sound, seconds)
    return buffer.getvalue()


def tone_stream(out: av.container.OutputContainer) -> av.audio.stream.AudioStream:
    stream = out.add_stream("aac", rate=RATE)
    assert isinstance(stream, av.audio.stream.AudioStream)
    stream.layout = "mono"
    return stream


def write_tone(
    out: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float
) -> None:
    block = 1024
    total = int(seconds * RATE)
    for start in range(0, total, block):
        count = min(block, total - start)
        frame = av.AudioFrame(format="s16", layout="mono", samples=count)
        samples = (
            int(8000 * math.sin(2 * math.pi * 440 * (start + j) / RATE)) for j in range(count)
        )
        frame.planes[0].update(struct.pack(f"<{count}h", *samples))
        frame.sample_rate = RATE
        frame.pts = start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def sample_audio(seconds: float = 1.5) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ipod") as out:
        write_tone(out, tone_stream(out), seconds)
    return buffer.getvalue()


def probe(data: bytes) -> dict[str, Any]:
    """What the bytes really decode to: sizes, frame count, duration by timestamps."""
    facts: dict[str, Any] = {"frames": 0, "audio_samples": 0, "end": 0.0}
    with av.open(io.BytesIO(data)) as container:
        facts["format"] = container.format.name
        for v in container.streams.video[:1]:
            facts["video_codec"] = v.codec_context.codec.canonical_name
        for a in container.streams.audio[:1]:
            facts["audio_codec"] = a.codec_context.codec.canonical_name
            facts["sample_rate"] = a.codec_context.sample_rate
        for frame in container.decode(*container.streams):
            if isinstance(frame, av.VideoFrame):
                facts["frames"] += 1
                facts["size"] = (frame.width, frame.height)
                if frame.time is not None and frame.duration and frame.time_base:
                    end = frame.time + float(frame.duration * frame.time_base)
                    facts["end"] = max(facts["end"], end)
                facts.setdefault("first", frame.to_image())  # type: ignore[no-untyped-call]
            else:
                assert isinstance(frame, av.AudioFrame)
                facts["audio_samples"] += frame.samples
    if "size" not in facts:
        facts["end"] = facts["audio_samples"] / (facts.get("sample_rate") or 1)
    return facts


class Converter:
    """Raw processing requests against an in-process emulator."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.http = origin.http

    async def upload(self, data: bytes) -> str:
        return str((await self.origin.upload_regular(data))["handle"])

    async def status(self, url: str, method: str = "GET") -> dict[str, Any]:
        response = await self.http.request(method, url)
        assert response.status_code == 200, response.text
        payload: dict[str, Any] = response.json()
        return payload

    async def until_done(self, url: str) -> tuple[dict[str, Any], list[str]]:
        seen: list[str] = []
        with anyio.fail_after(60):  # a generous bound; conversions here take well under a second
            while True:
                payload = await self.status(url)
                seen.append(payload["status"])
                if payload["status"] in ("completed", "failed"):
                    return payload, seen
                await anyio.sleep(0.01)

    async def convert(self, params: str, data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
        handle = await self.upload(data)
        payload, _ = await self.until_done(f"{self.origin.base}/video_convert={params}/{handle}")
        assert payload["status"] == "completed", payload
        result = await self.http.get(payload["data"]["url"])
        assert result.status_code == 200
        return payload, probe(result.content)


@pytest.fixture
def video() -> bytes:
    return sample_video()


@pytest.fixture
async def conv(make_emulator: Callable[..., Emulator]) -> AsyncIterator[Converter]:
    emulator = make_emulator(strict=True)
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        yield Converter(Origin(emulator, http, IN_PROCESS_URL, "in-process"))
    assert conversions(emulator).shutdown(timeout=30)


# -- raw status JSON ------------------------------------------------------------------------


async def test_h264_conversion_end_to_end(conv: Converter, video: bytes) -> None:
    handle = await conv.upload(video)
    url = f"{conv.origin.base}/video_convert=preset:h264,width:32/{handle}"
    first = await conv.status(url)
    assert set(first) == {"uuid", "timestamp", "status", "data", "metadata"}
    assert len(first["uuid"]) == 32 and isinstance(first["timestamp"], str)
    assert first["timestamp"].isdigit() and first["status"] in ("pending", "started", "completed")
    assert set(first["metadata"]) == {"result", "source"}
    done, seen = await conv.until_done(url)
    assert done["status"] == "completed" and done["uuid"] == first["uuid"]
    assert done["timestamp"] == first["timestamp"]
    assert set(seen) <= {"pending", "started", "completed"}
    data = done["data"]
    assert data["url"].startswith(f"{conv.origin.base}/") and (data["width"], data["height"]) == (
        32,
        24,
    )
    assert abs(data["duration"] - 2000) <= 150
    source = done["metadata"]["source"]
    assert (source["width"], source["height"], source["video_codec"]) == (64, 48, "h264")
    result = done["metadata"]["result"]
    assert result["mime_type"] == "video/mp4" and result["encoding_progress"] == 100
    response = await conv.http.get(data["url"])
    assert response.headers["content-type"] == "video/mp4"
    facts = probe(response.content)
    assert facts["size"] == (32, 24) and facts["video_codec"] == "h264"
    assert facts["audio_codec"] == "aac" and facts["frames"] == 20
    assert abs(facts["end"] - 2.0) < 0.15
    red = facts["first"].convert("RGB").getpixel((16, 12))
    assert isinstance(red, tuple) and max(red) < 40  # the first frame is (nearly) black


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ("aspect_mode:pad,height:40,width:40", (40, 40)),
        ("aspect_mode:letterbox,height:40,width:40", (40, 40)),
        ("aspect_mode:crop,height:40,width:40", (40, 40)),
        ("aspect_mode:preserve,height:40,width:40", (40, 30)),
        ("aspect_mode:constrain,height:400,width:400", (64, 48)),
        ("height:96", (128, 96)),
        ("upscale:false,width:640", (64, 48)),
    ],
)
async def test_sizes_and_aspect_modes(
    conv: Converter, video: bytes, params: str, size: tuple[int, int]
) -> None:
    payload, facts = await conv.convert(f"preset:h264,{params}", video)
    assert facts["size"] == size
    assert (payload["data"]["width"], payload["data"]["height"]) == size


async def test_pad_letterboxes_and_crop_fills(conv: Converter) -> None:
    bright = sample_video(1)
    _, padded = await conv.convert("aspect_mode:pad,height:64,width:32", bright)
    image = padded["first"].convert("L")
    assert image.getpixel((16, 2)) < 30  # a black band above the picture
    _, cropped = await conv.convert("aspect_mode:crop,height:64,width:32", bright)
    assert cropped["size"] == (32, 64)


async def test_fps_and_clip(conv: Converter, video: bytes) -> None:
    _, slower = await conv.convert("fps:5,preset:h264", video)
    assert slower["frames"] == 10 and abs(slower["end"] - 2.0) < 0.25
    payload, clip = await conv.convert("clip_length:00:00:00.5,clip_offset:1,preset:h264", video)
    assert clip["frames"] == 5 and abs(clip["end"] - 0.5) < 0.15
    assert abs(payload["data"]["duration"] - 500) <= 150
    first = clip["first"].convert("RGB").getpixel((10, 10))
    assert isinstance(first, tuple) and 100 < first[0] < 160  # frame 10 of 20: half red


async def test_bitrates_change_the_size(conv: Converter) -> None:
    clip = sample_video(2)
    small, low = await conv.convert("preset:webm,video_bitrate:20,width:320", clip)
    large, high = await conv.convert("preset:webm,video_bitrate:2000,width:320", clip)
    assert low["video_codec"] == high["video_codec"] == "vp8"
    assert small["metadata"]["result"]["file_size"] < large["metadata"]["result"]["file_size"]


@pytest.mark.parametrize(
    ("preset", "fmt", "video_codec", "audio_codec", "mimetype"),
    [
        ("webm", "matroska,webm", "vp8", "opus", "video/webm"),
        ("ogg", "ogg", "vp8", "opus", "video/ogg"),
        ("mp3", "mp3", None, "mp3", "audio/mpeg"),
        ("m4a", "mov,mp4,m4a,3gp,3g2,mj2", None, "aac", "audio/mp4"),
        ("aac", "aac", None, "aac", "audio/aac"),
        ("oga", "ogg", None, "opus", "audio/ogg"),
    ],
)
async def test_presets(
    conv: Converter,
    preset: str,
    fmt: str,
    video_codec: str | None,
    audio_codec: str,
    mimetype: str,
) -> None:
    payload, facts = await conv.convert(f"audio_bitrate:64,preset:{preset}", sample_video(1))
    assert facts["format"] == fmt and facts.get("video_codec") == video_codec
    assert facts["audio_codec"] == audio_codec
    assert payload["metadata"]["result"]["mime_type"] == mimetype
    assert abs(facts["end"] - 1.0) < 0.2


async def test_audio_source_to_mp3_with_sample_rate_and_channels(conv: Converter) -> None:
    payload, facts = await conv.convert(
        "audio_channels:2,audio_sample_rate:44100,preset:mp3", sample_audio(1.5)
    )
    assert facts["audio_codec"] == "mp3" and facts["sample_rate"] == 44100
    assert abs(facts["end"] - 1.5) < 0.15
    assert payload["metadata"]["result"]["audio_channels"] == 2


async def test_the_stored_file_gets_the_asked_name_and_place(conv: Converter, video: bytes) -> None:
    payload, _ = await conv.convert(
        'container:bucket,filename:clip.mp4,path:"videos/",preset:h264,title:Hi', video
    )
    handle = payload["data"]["url"].rsplit("/", 1)[-1]
    meta = await conv.http.get(
        f"{conv.origin.base}/{handle}/metadata",
        params={"filename": "true", "mimetype": "true", "container": "true", "path": "true"},
    )
    assert meta.json() == {
        "filename": "clip.mp4",
        "mimetype": "video/mp4",
        "container": "bucket",
        "path": "videos/",
    }


async def test_polling_is_idempotent_and_post_works_too(conv: Converter, video: bytes) -> None:
    handle = await conv.upload(video)
    base = conv.origin.base
    url = f"{base}/video_convert=preset:webm,width:32/{handle}"
    first = await conv.status(url, "POST")
    again = await conv.status(url)
    other = await conv.status(f"{base}/video_convert=preset:webm,width:16/{handle}")
    assert first["uuid"] == again["uuid"] != other["uuid"]
    done, _ = await conv.until_done(url)
    assert done["uuid"] == first["uuid"]
    # the other conversion must be done too, or its result could land between the counts
    await conv.until_done(f"{base}/video_convert=preset:webm,width:16/{handle}")
    stored_before = len(await conv.origin.emulator.run(conv.origin.emulator.storage.list_files))
    assert (await conv.status(url))["data"]["url"] == done["data"]["url"]
    stored_after = len(await conv.origin.emulator.run(conv.origin.emulator.storage.list_files))
    assert stored_after == stored_before  # asking again does not convert again


async def test_a_held_conversion_stays_pending(conv: Converter, video: bytes) -> None:
    jobs = conversions(conv.origin.emulator)
    jobs.hold()
    handle = await conv.upload(video)
    url = f"{conv.origin.base}/video_convert=preset:h264/{handle}"
    try:
        for _ in range(3):
            payload = await conv.status(url)
            assert payload["status"] == "pending" and payload["data"] == {}
    finally:
        jobs.release()
    done, _ = await conv.until_done(url)
    assert done["status"] == "completed"


async def test_a_source_that_is_not_video_fails(conv: Converter) -> None:
    handle = await conv.upload(b"this is plain text, not a video")
    url = f"{conv.origin.base}/video_convert=preset:h264/{handle}"
    done, _ = await conv.until_done(url)
    assert done["status"] == "failed"
    assert "not an audio or video file" in done["data"]["error"]
    assert "data" in done and "url" not in done["data"]
    again = await conv.status(url)
    assert again["status"] == "failed" and again["uuid"] == done["uuid"]


async def test_an_audio_preset_needs_an_audio_stream(conv: Converter) -> None:
    payload, _ = await conv.until_done(
        f"{conv.origin.base}/video_convert=preset:mp3/{await conv.upload(sample_video(1, audio=False))}"
    )
    assert payload["status"] == "failed"
    assert "the source has no audio stream" in payload["data"]["error"]


async def test_clip_offset_past_the_end_fails(conv: Converter, video: bytes) -> None:
    handle = await conv.upload(video)
    done, _ = await conv.until_done(
        f"{conv.origin.base}/video_convert=clip_offset:00:00:30,preset:h264/{handle}"
    )
    assert done["status"] == "failed" and "past the end" in done["data"]["error"]


async def test_force_restarts_a_reported_failure(conv: Converter) -> None:
    handle = await conv.upload(b"not a video")
    url = f"{conv.origin.base}/video_convert=force:true,preset:h264/{handle}"
    failed, _ = await conv.until_done(url)
    assert failed["status"] == "failed"
    restarted = await conv.status(url)
    assert restarted["uuid"] == failed["uuid"]
    again, _ = await conv.until_done(url)
    assert again["status"] == "failed"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("preset:hls.variant", "does not implement preset 'hls.variant'"),
        ("preset:h264,watermark_url:x", "does not implement watermark_url"),
    ],
)
async def test_what_is_not_implemented_is_a_400(conv: Converter, params: str, message: str) -> None:
    handle = await conv.upload(b"x")
    response = await conv.http.get(f"{conv.origin.base}/video_convert={params}/{handle}")
    assert response.status_code == 400 and message in response.json()["error"]
    assert response.json()["code"] == "NotImplementedByEmulator"


async def test_video_convert_must_be_alone(conv: Converter) -> None:
    handle = await conv.upload(b"x")
    response = await conv.http.get(f"{conv.origin.base}/flip/video_convert=preset:h264/{handle}")
    assert response.status_code == 400 and "only task" in response.json()["error"]


async def test_a_missing_source_is_a_404(conv: Converter) -> None:
    response = await conv.http.get(
        f"{conv.origin.base}/video_convert=preset:h264/AbCdEfGhIjKlMnOpQrSt"
    )
    assert response.status_code == 404


async def test_finished_jobs_survive_a_restart(
    make_emulator: Callable[..., Emulator], tmp_path: Path, video: bytes
) -> None:
    folder = tmp_path / "persistent"
    first = make_emulator(data_dir=folder)
    async with httpx.AsyncClient(transport=EmulatorTransport(first.app)) as http:
        conv = Converter(Origin(first, http, IN_PROCESS_URL, "in-process"))
        handle = await conv.upload(video)
        url = f"{IN_PROCESS_URL}/video_convert=preset:h264,width:32/{handle}"
        done, _ = await conv.until_done(url)
    assert conversions(first).shutdown()
    first.close()
    second = make_emulator(data_dir=folder)
    async with httpx.AsyncClient(transport=EmulatorTransport(second.app)) as http:
        again = (await http.get(url)).json()
    assert again == done


def test_plan_geometry() -> None:
    assert plan_geometry((64, 48), 33, None) == plan_geometry((64, 48), 32, None)
    assert plan_geometry((64, 48), None, None).width == 64
    assert plan_geometry((64, 48), 640, None, upscale=False).width == 64
    assert plan_geometry((64, 48), 100, 100, "crop").mode == "crop"
    assert plan_geometry((65, 49), None, None).height % 2 == 0


# -- the SDK: AudioVisual against the emulator --------------------------------------------------


async def short_sleep(seconds: float) -> None:
    await anyio.sleep(min(seconds, 0.01))


@pytest.fixture
def sdk_emulator(make_emulator: Callable[..., Emulator]) -> Iterator[Emulator]:
    emulator = make_emulator(strict=True)
    yield emulator
    assert conversions(emulator).shutdown(timeout=30)


async def test_sdk_wait_until_complete(sdk_emulator: Emulator, video: bytes) -> None:
    seen: list[str] = []
    async with sdk_emulator.client(retry=RetryPolicy(sleep=short_sleep)) as client:
        link = await client.upload(content=video)
        conversion = await link.av_convert(preset="h264", width=32, fps=5)
        converted = await conversion.wait_until_complete(
            timeout=60,
            initial_delay=0.01,
            max_delay=0.02,
            progress=lambda p: seen.append(p["status"]),
        )
        assert seen[-1] == "completed" and conversion.last_payload is not None
        assert converted.handle != link.handle
        facts = probe(await converted.get_content())
        assert facts["size"] == (32, 24) and facts["frames"] == 10
        assert abs(facts["end"] - 2.0) < 0.25
        assert await conversion.status() == "completed"
        assert (await conversion.to_filelink()).handle == converted.handle


async def test_sdk_failed_conversion_raises(sdk_emulator: Emulator) -> None:
    async with sdk_emulator.client(retry=RetryPolicy(sleep=short_sleep)) as client:
        link = await client.upload(content=b"a text file")
        conversion = await link.av_convert(preset="webm")
        with pytest.raises(ConversionError, match="not an audio or video file"):
            await conversion.wait_until_complete(timeout=60, initial_delay=0.01, max_delay=0.02)


async def test_sdk_timeout(sdk_emulator: Emulator, video: bytes) -> None:
    fake = FakeTime()
    jobs = conversions(sdk_emulator)
    async with sdk_emulator.client(retry=RetryPolicy(sleep=fake.sleep)) as client:
        link = await client.upload(content=video)
        jobs.hold()
        try:
            conversion = await link.av_convert(preset="h264")
            with pytest.raises(TimeoutError, match="last status 'pending'"):
                await conversion.wait_until_complete(
                    timeout=20, initial_delay=1, max_delay=4, jitter=False, clock=fake.clock
                )
        finally:
            jobs.release()
    assert fake.sleeps[:4] == [1, 2, 4, 4] and sum(fake.sleeps) == pytest.approx(20)


async def test_sdk_cancellation_stops_polling(sdk_emulator: Emulator, video: bytes) -> None:
    jobs = conversions(sdk_emulator)
    polls: list[str] = []
    async with sdk_emulator.client(retry=RetryPolicy(sleep=anyio.sleep)) as client:
        link = await client.upload(content=video)
        jobs.hold()
        try:
            conversion = await link.av_convert(preset="h264", width=16)
            polled = anyio.Event()

            def progress(payload: dict[str, Any]) -> None:
                polls.append(payload["status"])
                polled.set()

            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:

                    async def wait() -> None:
                        await conversion.wait_until_complete(
                            timeout=600, initial_delay=300, max_delay=300, progress=progress
                        )

                    tg.start_soon(wait)
                    await polled.wait()
                    tg.cancel_scope.cancel()  # the wait is in a 300 s sleep: it must stop now
            assert polls == ["pending"]
        finally:
            jobs.release()
        assert await conversion.status() in ("pending", "started", "completed")
