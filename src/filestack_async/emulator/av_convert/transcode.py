"""Audio/video conversion with PyAV: the output geometry, decoding, re-timing and
encoding (blocking; `jobs` runs it in a worker thread)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageOps

from .presets import Preset

if TYPE_CHECKING:
    import av.container
    from av.audio.stream import AudioStream
    from av.video.stream import VideoStream

__all__ = ["ConversionFailed", "Geometry", "parse_time", "plan_geometry", "transcode"]


class ConversionFailed(Exception):
    """The conversion cannot be done; the message is the job's error text."""


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


def transcode(
    source: Path,
    target: Path,
    preset: Preset,
    params: dict[str, Any],
    *,
    on_source: Callable[[dict[str, Any]], None],
    on_progress: Callable[[float], None],
) -> dict[str, Any]:
    """Convert ``source`` to ``target`` per ``preset`` and the task's ``params`` (blocking).

    ``on_source`` gets the facts about the source once it is open (duration in ms,
    size, codecs...); ``on_progress`` gets the share of the clip done (0..1) after each
    video frame, and stops the conversion by raising. Returns the same facts about
    the result, read back from ``target``.

    Raises:
        ConversionFailed: the source cannot be decoded or has no usable stream.
    """
    import av

    with _open_input(source) as inp:
        on_source(_probe(inp))
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
                        on_progress((frame.time - offset) / span if span > 0 else 0)
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
