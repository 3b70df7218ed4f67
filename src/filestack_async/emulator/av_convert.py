"""``video_convert``: audio/video conversion with PyAV in background threads.

The first request for a conversion URL fetches the source, starts a job and answers
the status JSON at once; asking the same URL again (GET or POST) answers the same
job's current status, so polling is idempotent: the ``uuid`` is derived from the
source (and, for a file of this emulator, its version) and the task's parameters.
A job goes ``pending`` (queued) → ``started`` → ``completed`` with ``data.url``, the
CDN URL of the new stored file, or ``failed`` with ``data.error``.

Conversions run in their own threads, never on the event loop; at most
`MAX_PARALLEL` run at once. Finished jobs are also written to ``<data dir>/av/`` so a
restarted emulator with the same data folder still answers them.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from PIL import Image, ImageOps
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._tasks import ParsedPath, Task
from .fetch import discard, fetch
from .storage import Storage, StoredFile, new_handle
from .strict import ProtocolError
from .web import origin

if TYPE_CHECKING:
    import av.container
    from av.audio.stream import AudioStream
    from av.video.stream import VideoStream

    from .app import Emulator

__all__ = ["MAX_PARALLEL", "PRESETS", "Conversions", "Preset", "conversions", "convert"]

#: Conversions running at the same time per emulator; the others wait as ``pending``.
MAX_PARALLEL = 2


@dataclass(frozen=True)
class Preset:
    """What a preset writes: container, extension, MIME type, codecs, default bit rates."""

    format: str
    extension: str
    mimetype: str
    video_codec: str | None
    audio_codec: str
    video_kbps: int = 1000
    audio_kbps: int = 128
    crf: int | None = None


_H264 = Preset("mp4", "mp4", "video/mp4", "libx264", "aac", crf=23)
_WEBM = Preset("webm", "webm", "video/webm", "libvpx", "libopus")
#: PyAV's FFmpeg has no Theora encoder; Ogg video is written as VP8 + Opus in Ogg.
_OGG = Preset("ogg", "ogv", "video/ogg", "libvpx", "libopus")

#: Presets (and container names) the emulator converts to.
PRESETS: dict[str, Preset] = {
    "h264": _H264,
    "h264.hi": Preset("mp4", "mp4", "video/mp4", "libx264", "aac", 2500, 192, crf=18),
    "mp4": _H264,
    "webm": _WEBM,
    "webm.hi": Preset("webm", "webm", "video/webm", "libvpx", "libopus", 2500, 192),
    "ogg": _OGG,
    "ogg.hi": Preset("ogg", "ogv", "video/ogg", "libvpx", "libopus", 2500, 192),
    "mp3": Preset("mp3", "mp3", "audio/mpeg", None, "libmp3lame"),
    "m4a": Preset("ipod", "m4a", "audio/mp4", None, "aac"),
    "aac": Preset("adts", "aac", "audio/aac", None, "aac"),
    "oga": Preset("ogg", "oga", "audio/ogg", None, "libopus"),
}

_UNSUPPORTED = ("watermark_url", "two_pass")


class ConversionFailed(Exception):
    """The conversion cannot be done; the message is the job's error text."""


class _Aborted(Exception):
    """The emulator is shutting down its conversions."""


# -- jobs --------------------------------------------------------------------------------


@dataclass
class Job:
    """One conversion and its status."""

    uuid: str
    timestamp: str
    preset: Preset
    params: dict[str, Any]
    origin: str
    filename: str
    status: str = "pending"
    data: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0
    #: a failure has been answered once (``force:true`` then restarts the job)
    reported: bool = False

    def payload(self) -> dict[str, Any]:
        """The status JSON, in the service's shape."""
        return {
            "uuid": self.uuid,
            "timestamp": self.timestamp,
            "status": self.status,
            "data": dict(self.data),
            "metadata": {"result": dict(self.result), "source": dict(self.source)},
        }


class Conversions:
    """An emulator's conversion jobs (see `conversions`).

    `hold` keeps new jobs ``pending`` until `release` (for tests of polling); `join`
    waits for the running jobs; `shutdown` stops them.
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._slots = threading.Semaphore(MAX_PARALLEL)
        self._gate = threading.Event()
        self._gate.set()
        self._closing = threading.Event()

    @property
    def records(self) -> Path:
        """Where finished jobs are written: ``<data dir>/av``."""
        return self.storage.root / "av"

    def hold(self) -> None:
        """Keep jobs that have not started yet ``pending`` until `release`."""
        self._gate.clear()

    def release(self) -> None:
        """Let held jobs start."""
        self._gate.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for every job thread to end; True if none is left running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                threads = [t for t in self._threads.values() if t.is_alive()]
            if not threads:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            threads[0].join(remaining)

    def shutdown(self, timeout: float | None = 10.0) -> bool:
        """Stop every job (they fail with "the emulator shut down") and wait for them."""
        self._closing.set()
        self._gate.set()
        return self.join(timeout)

    def get(self, uuid: str) -> Job | None:
        """A job by uuid: running ones from memory, finished ones from their record."""
        with self._lock:
            job = self._jobs.get(uuid)
        if job is not None:
            return job
        return self._load(uuid)

    def status(self, uuid: str, *, force: bool = False) -> dict[str, Any] | None:
        """The status JSON of a job, read under the lock (``None`` if unknown).

        With ``force``, a failed job whose failure was answered already counts as
        unknown, so it is started again.
        """
        job = self.get(uuid)
        if job is None:
            return None
        with self._lock:
            if job.status == "failed":
                if force and job.reported:
                    return None
                job.reported = True
            return job.payload()

    def start(self, job: Job, source: Path) -> tuple[Job, bool]:
        """Start ``job`` on the temporary file ``source`` (the job then owns it).

        If a job with the same uuid is known already, that one is returned and
        ``False``; the caller keeps ``source``.
        """
        with self._lock:
            known = self._jobs.get(job.uuid)
            if known is not None and not (known.status == "failed" and known.reported):
                return known, False
            self._jobs[job.uuid] = job
            thread = threading.Thread(
                target=self._run,
                args=(job, source),
                name=f"filestack-emulator-av-{job.uuid[:8]}",
                daemon=True,
            )
            self._threads[job.uuid] = thread
        thread.start()
        return job, True

    # -- the worker ----------------------------------------------------------------------

    def _run(self, job: Job, source: Path) -> None:
        output = self.storage.incoming_path()
        try:
            self._gate.wait()
            with self._slots:
                self._check()
                with self._lock:
                    job.status = "started"
                    job.started = time.monotonic()
                    job.result = {"encoding_progress": 0}
                info = transcode(source, output, job, self)
                file = self._store(job, output, info)
                self._finish(job, "completed", info, file)
        except (ConversionFailed, _Aborted) as err:
            self._fail(job, str(err))
        except Exception as err:  # any decoder error fails the job, with its text
            self._fail(job, f"conversion error: {type(err).__name__}: {err}")
        finally:
            source.unlink(missing_ok=True)
            output.unlink(missing_ok=True)

    def _check(self) -> None:
        if self._closing.is_set():
            raise _Aborted("the emulator shut down before the conversion finished")

    def progress(self, job: Job, fraction: float) -> None:
        """Record progress (0..1); stops the job if the emulator is shutting down."""
        self._check()
        with self._lock:
            job.result["encoding_progress"] = min(99, int(fraction * 100))

    def _store(self, job: Job, output: Path, info: dict[str, Any]) -> StoredFile:
        params = job.params
        md5 = hashlib.md5()
        with output.open("rb") as f:
            for block in iter(lambda: f.read(1024 * 1024), b""):
                md5.update(block)
        handle = new_handle()
        size = output.stat().st_size
        digest = md5.hexdigest()
        file = StoredFile(
            handle=handle,
            filename=job.filename,
            mimetype=job.preset.mimetype,
            size=size,
            etag=f'"{digest}"',
            md5=digest,
            uploaded=int(time.time() * 1000),
            location=str(params.get("location") or "S3"),
            key=f"{handle}_{job.filename}",
            path=str(params["path"]) if params.get("path") else None,
            container=str(params["container"]) if params.get("container") else None,
            width=info.get("width"),
            height=info.get("height"),
        )
        self._check()
        return self.storage.store_blob(output, file, event="converse")

    def _finish(self, job: Job, status: str, info: dict[str, Any], file: StoredFile) -> None:
        preset = job.preset
        with self._lock:
            job.status = status
            job.data = {"url": f"{job.origin}/{file.handle}", "duration": info["duration"]}
            for key in ("width", "height"):
                if info.get(key) is not None:
                    job.data[key] = info[key]
            job.result = {
                **info,
                "file_size": file.size,
                "mime_type": preset.mimetype,
                "extname": f".{PurePosixPath(job.filename).suffix.lstrip('.')}",
                "encoding_progress": 100,
                "encoding_time": round(time.monotonic() - job.started, 3),
            }
            payload = job.payload()
        self._save(job.uuid, payload, file.handle)

    def _fail(self, job: Job, message: str) -> None:
        with self._lock:
            job.status = "failed"
            job.data = {"error": message}
            job.result = {"error": message}
            payload = job.payload()
        self._save(job.uuid, payload, None)

    def _save(self, uuid: str, payload: dict[str, Any], handle: str | None) -> None:
        try:
            self.records.mkdir(exist_ok=True)
            partial = self.records / f".{uuid}.partial"
            partial.write_text(json.dumps({"payload": payload, "handle": handle}))
            partial.replace(self.records / f"{uuid}.json")
        except OSError:
            pass  # the data folder is gone (the emulator closed): the job is memory only

    def _load(self, uuid: str) -> Job | None:
        try:
            record = json.loads((self.records / f"{uuid}.json").read_text())
        except (OSError, ValueError):
            return None
        handle = record.get("handle")
        if handle is not None and self.storage.get_file(handle) is None:
            return None  # the converted file was deleted: convert again
        payload = record["payload"]
        job = Job(
            uuid=payload["uuid"],
            timestamp=payload["timestamp"],
            preset=_H264,
            params={},
            origin="",
            filename="",
            status=payload["status"],
            data=payload["data"],
            result=payload["metadata"]["result"],
            source=payload["metadata"]["source"],
        )
        with self._lock:
            self._jobs.setdefault(uuid, job)
        return job


_REGISTRY: WeakKeyDictionary[Emulator, Conversions] = WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def stop_conversions(emulator: Emulator, timeout: float | None = 10.0) -> bool:
    """Stop ``emulator``'s running conversions and forget them (a later one starts afresh).

    Returns True when no conversion thread is left running.
    """
    with _REGISTRY_LOCK:
        found = _REGISTRY.pop(emulator, None)
    return True if found is None else found.shutdown(timeout)


def conversions(emulator: Emulator) -> Conversions:
    """The conversion jobs of ``emulator`` (created on first use)."""
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(emulator)
        if found is None:
            found = _REGISTRY[emulator] = Conversions(emulator.storage)
        return found


# -- the route -----------------------------------------------------------------------------


def _check_params(task: Task) -> Preset:
    params = task.as_dict()
    name = str(params.get("preset", "h264")).lower()
    preset = PRESETS.get(name)
    if preset is None:
        raise ProtocolError(
            f"video_convert: the emulator does not implement preset {name!r} "
            f"(it converts to {', '.join(PRESETS)})",
            code="NotImplementedByEmulator",
        )
    unsupported = [k for k in params if k in _UNSUPPORTED or k.startswith("watermark_")]
    if unsupported:
        raise ProtocolError(
            f"video_convert: the emulator does not implement {', '.join(sorted(unsupported))}",
            code="NotImplementedByEmulator",
        )
    return preset


async def convert(emulator: Emulator, request: Request, parsed: ParsedPath, task: Task) -> Response:
    """Start the conversion this URL asks for, or report the one already started."""
    preset = _check_params(task)
    jobs = conversions(emulator)
    source = parsed.source
    own = "://" not in source
    version = ""
    if own:
        stored = await emulator.run(emulator.storage.get_file, source)
        if stored is None:
            raise ProtocolError(f"the source file {source} does not exist", status=404)
        version = stored.etag
    uuid = hashlib.md5(f"{source}\n{version}\n{task.render()}".encode()).hexdigest()
    payload = await emulator.run(jobs.status, uuid, force=task.get("force") is True)
    if payload is not None:
        return JSONResponse(payload)
    url = f"{origin(request)}/{source}" if own else source
    fetched = await fetch(emulator, url, request.url.netloc, authorized=own)
    params = task.as_dict()
    stem = PurePosixPath(fetched.filename).stem or "file"
    extension = str(params.get("extname") or preset.extension).lstrip(".")
    job = Job(
        uuid=uuid,
        timestamp=str(int(time.time())),
        preset=preset,
        params=params,
        origin=origin(request),
        filename=str(params.get("filename") or f"{stem}.{extension}"),
    )
    job, started = jobs.start(job, fetched.path)
    if not started:
        await discard(fetched.path)
    payload = await emulator.run(jobs.status, job.uuid)
    assert payload is not None
    return JSONResponse(payload)


# -- the conversion itself ---------------------------------------------------------------------


def parse_time(text: object) -> float:
    """Seconds from ``SS``, ``MM:SS`` or ``HH:MM:SS`` (with optional fraction)."""
    seconds = 0.0
    for part in str(text).split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


@dataclass(frozen=True)
class Geometry:
    """Output frame size, and the size of the picture inside it (letterbox/crop)."""

    width: int
    height: int
    mode: str  # "scale", "pad" or "crop"


def plan_geometry(
    source: tuple[int, int],
    width: int | None,
    height: int | None,
    aspect_mode: str = "preserve",
    upscale: bool = True,
) -> Geometry:
    """The output size for ``width``/``height`` and ``aspect_mode``.

    ``preserve`` fits the picture in the box, keeping its aspect ratio (the frame is
    the picture); ``constrain`` does the same but never enlarges; ``letterbox`` and
    ``pad`` fit it and pad to exactly the box; ``crop`` fills the box and crops. With
    one of width/height the other follows the aspect ratio. ``upscale=False`` never
    makes the picture larger than the source. Sizes are rounded to even numbers.
    """
    sw, sh = source
    if width is None and height is None:
        return Geometry(_even(sw), _even(sh), "scale")
    if width is None or height is None:
        scale = (width / sw) if width is not None else (height / sh)  # type: ignore[operator]
        if not upscale or aspect_mode == "constrain":
            scale = min(scale, 1.0)
        return Geometry(_even(sw * scale), _even(sh * scale), "scale")
    if aspect_mode == "crop":
        return Geometry(_even(width), _even(height), "crop")
    if aspect_mode in ("letterbox", "pad"):
        return Geometry(_even(width), _even(height), "pad")
    scale = min(width / sw, height / sh)
    if not upscale or aspect_mode == "constrain":
        scale = min(scale, 1.0)
    return Geometry(_even(sw * scale), _even(sh * scale), "scale")


def _reshape(image: Image.Image, geometry: Geometry, upscale: bool) -> Image.Image:
    box = (geometry.width, geometry.height)
    if geometry.mode == "crop":
        return ImageOps.fit(image, box, Image.Resampling.BICUBIC)
    if geometry.mode == "pad":
        scale = min(box[0] / image.width, box[1] / image.height)
        if not upscale:
            scale = min(scale, 1.0)
        inner = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        canvas = Image.new("RGB", box, (0, 0, 0))
        picture = image.resize(inner, Image.Resampling.BICUBIC)
        canvas.paste(picture, ((box[0] - inner[0]) // 2, (box[1] - inner[1]) // 2))
        return canvas
    return image.resize(box, Image.Resampling.BICUBIC)


def _probe(container: av.container.InputContainer) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if container.duration is not None:
        facts["duration"] = int(container.duration / 1000)  # microseconds -> ms
    for video in container.streams.video[:1]:
        facts.update(
            width=video.codec_context.width,
            height=video.codec_context.height,
            video_codec=video.codec_context.codec.canonical_name,
            fps=float(video.average_rate) if video.average_rate else None,
        )
        if video.bit_rate:
            facts["video_bitrate"] = int(video.bit_rate // 1000)
    for audio in container.streams.audio[:1]:
        facts.update(
            audio_codec=audio.codec_context.codec.canonical_name,
            audio_sample_rate=audio.codec_context.sample_rate,
            audio_channels=audio.codec_context.channels,
        )
        if audio.bit_rate:
            facts["audio_bitrate"] = int(audio.bit_rate // 1000)
    return facts


def _open_input(path: Path) -> av.container.InputContainer:
    import av

    try:
        return av.open(str(path), "r")
    except av.error.FFmpegError as err:
        raise ConversionFailed(
            f"the source is not an audio or video file the emulator can decode ({err})"
        ) from None


def transcode(source: Path, target: Path, job: Job, jobs: Conversions) -> dict[str, Any]:
    """Convert ``source`` to ``target`` per the job's preset and parameters (blocking).

    Returns facts about the result read back from ``target`` (duration in ms, size,
    codecs...).

    Raises:
        ConversionFailed: the source cannot be decoded or has no usable stream.
    """
    import av

    params = job.params
    preset = job.preset
    with _open_input(source) as inp:
        with jobs._lock:
            job.source = _probe(inp)
        video_in = inp.streams.video[0] if inp.streams.video and preset.video_codec else None
        audio_in = inp.streams.audio[0] if inp.streams.audio else None
        if video_in is None and audio_in is None:
            wanted = "video or audio" if preset.video_codec else "audio"
            raise ConversionFailed(f"the source has no {wanted} stream to convert")
        offset = parse_time(params["clip_offset"]) if params.get("clip_offset") else 0.0
        length = parse_time(params["clip_length"]) if params.get("clip_length") else None
        total = (inp.duration / 1_000_000) if inp.duration else None
        if total is not None and offset >= total:
            raise ConversionFailed(f"clip_offset {offset:g} s is past the end ({total:g} s)")
        end = offset + length if length is not None else None
        stop = end if total is None else (total if end is None else min(end, total))
        span = stop - offset if stop is not None else 0.0
        with av.open(str(target), "w", format=preset.format) as out:
            if params.get("title"):
                out.metadata["title"] = str(params["title"])
            video = _VideoOut(out, video_in, preset, params) if video_in is not None else None
            audio = _AudioOut(out, audio_in, preset, params) if audio_in is not None else None
            streams = [s for s in (video_in, audio_in) if s is not None]
            done = {id(s): False for s in streams}
            for packet in inp.demux(streams):
                stream = packet.stream
                if done[id(stream)]:
                    if all(done.values()):
                        break
                    continue
                for frame in packet.decode():
                    if frame.time is None:
                        continue
                    if end is not None and frame.time >= end:
                        done[id(stream)] = True
                        break
                    if frame.time < offset:
                        continue
                    if stream is video_in and video is not None:
                        video.add(frame, frame.time - offset)
                        jobs.progress(job, (frame.time - offset) / span if span > 0 else 0)
                    elif audio is not None:
                        audio.add(frame)
            if video is not None:
                video.finish(None if end is None else end - offset)
            if audio is not None:
                audio.finish()
    return _result_facts(target)


def _result_facts(path: Path) -> dict[str, Any]:
    import av

    with av.open(str(path), "r") as result:
        facts = _probe(result)
        if "duration" not in facts:
            facts["duration"] = _decoded_duration(result)
    return facts


def _decoded_duration(container: av.container.InputContainer) -> int:
    last = 0.0
    for frame in container.decode(*container.streams):
        if frame.time is not None:
            last = max(last, frame.time)
    return int(last * 1000)


class _VideoOut:
    """Scales, re-times (fps) and encodes video frames."""

    def __init__(
        self,
        out: av.container.OutputContainer,
        stream_in: VideoStream,
        preset: Preset,
        params: dict[str, Any],
    ) -> None:
        from av.video.stream import VideoStream

        context = stream_in.codec_context
        rate = params.get("fps") or stream_in.average_rate or stream_in.guessed_rate or 25
        self.rate = Fraction(rate).limit_denominator(1001)
        self.upscale = params.get("upscale", True) is not False
        self.geometry = plan_geometry(
            (context.width, context.height),
            params.get("width"),
            params.get("height"),
            str(params.get("aspect_mode", "preserve")),
            self.upscale,
        )
        assert preset.video_codec is not None
        stream = out.add_stream(preset.video_codec, rate=self.rate)
        assert isinstance(stream, VideoStream)
        self.stream = stream
        self.stream.width = self.geometry.width
        self.stream.height = self.geometry.height
        self.stream.pix_fmt = "yuv420p"
        if params.get("keyframe_interval"):
            self.stream.codec_context.gop_size = int(params["keyframe_interval"])
        if params.get("video_bitrate"):
            self.stream.bit_rate = int(params["video_bitrate"]) * 1000
        elif preset.crf is not None:
            self.stream.options = {"crf": str(preset.crf)}
        else:
            self.stream.bit_rate = preset.video_kbps * 1000
        self.out = out
        self.slot = 0
        self.pending: Any = None
        self.pending_time = 0.0
        self.step = 1 / float(stream_in.average_rate or self.rate)

    def _emit(self, frame: Any) -> None:
        import av

        image = _reshape(frame.to_image(), self.geometry, self.upscale)
        picture = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
        picture.pts = self.slot
        picture.time_base = 1 / self.rate
        self.slot += 1
        for packet in self.stream.encode(picture):
            self.out.mux(packet)

    def add(self, frame: Any, at: float) -> None:
        """A decoded frame shown from ``at`` seconds (relative to the clip)."""
        while self.pending is not None and self.slot / self.rate < at:
            self._emit(self.pending)
        self.pending = frame
        self.pending_time = at

    def finish(self, length: float | None) -> None:
        """Emit the last frame for the slots it covers, then flush the encoder."""
        if self.pending is not None:
            end = self.pending_time + self.step
            if length is not None:
                end = min(end, length)
            while self.slot / self.rate < end - 1e-9 or self.slot == 0:
                self._emit(self.pending)
        for packet in self.stream.encode(None):
            self.out.mux(packet)


class _AudioOut:
    """Resamples and encodes audio frames."""

    def __init__(
        self,
        out: av.container.OutputContainer,
        stream_in: AudioStream,
        preset: Preset,
        params: dict[str, Any],
    ) -> None:
        import av
        from av.audio.stream import AudioStream

        codec = av.Codec(preset.audio_codec, "w")
        context = stream_in.codec_context
        rates = list(codec.audio_rates or ())
        rate = int(params.get("audio_sample_rate") or context.sample_rate or 44100)
        if rates and rate not in rates:
            if params.get("audio_sample_rate"):
                raise ConversionFailed(
                    f"audio_sample_rate {rate} is not possible with {preset.audio_codec} "
                    f"(it takes {', '.join(map(str, rates))})"
                )
            rate = 48000 if 48000 in rates else max(rates)
        channels = int(params.get("audio_channels") or min(context.channels or 2, 2))
        layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
        stream = out.add_stream(preset.audio_codec, rate=rate)
        assert isinstance(stream, AudioStream)
        self.stream = stream
        self.stream.layout = layout
        formats = [f.name for f in (codec.audio_formats or ())]
        sample_format = formats[0] if formats else "fltp"
        self.stream.format = sample_format
        kbps = params.get("audio_bitrate") or preset.audio_kbps
        self.stream.bit_rate = int(kbps) * 1000
        self.resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
        self.out = out
        self.samples = 0

    def _encode(self, frames: Iterator[Any] | list[Any]) -> None:
        for frame in frames:
            frame.pts = self.samples
            self.samples += frame.samples
            for packet in self.stream.encode(frame):
                self.out.mux(packet)

    def add(self, frame: Any) -> None:
        """A decoded audio frame inside the clip."""
        frame.pts = None
        self._encode(self.resampler.resample(frame))

    def finish(self) -> None:
        """Flush the resampler and the encoder."""
        self._encode(self.resampler.resample(None))
        for packet in self.stream.encode(None):
            self.out.mux(packet)
