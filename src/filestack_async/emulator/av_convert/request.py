"""Reading a ``video_convert`` task: its preset, the parameters the emulator refuses, the
job's uuid and the converted file's name."""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import Any

from ..._tasks import Task
from ..strict import ProtocolError
from .presets import DEFAULT_PRESET, PRESETS, Preset

__all__ = ["check_task", "job_uuid", "output_filename"]

_UNSUPPORTED = ("watermark_url", "two_pass")


def check_task(task: Task) -> Preset:
    """The preset ``task`` converts to.

    Raises:
        ProtocolError: (``NotImplementedByEmulator``) an unknown preset, or a parameter
            the emulator does not implement (``watermark_*``, ``two_pass``).
    """
    params = task.as_dict()
    name = str(params.get("preset", DEFAULT_PRESET)).lower()
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


def job_uuid(source: str, version: str, task: Task) -> str:
    """The job's uuid: the same source, source version and parameters, the same job."""
    return hashlib.md5(f"{source}\n{version}\n{task.render()}".encode()).hexdigest()


def output_filename(source_filename: str, preset: Preset, params: dict[str, Any]) -> str:
    """The converted file's name: ``filename``, else the source's stem with ``extname``
    or the preset's extension."""
    stem = PurePosixPath(source_filename).stem or "file"
    extension = str(params.get("extname") or preset.extension).lstrip(".")
    return str(params.get("filename") or f"{stem}.{extension}")
