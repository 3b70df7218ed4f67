"""What ``video_convert`` converts to: each preset's container, codecs and bit rates."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_PRESET", "PRESETS", "Preset"]


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

#: The preset of a task that names none.
DEFAULT_PRESET = "h264"
