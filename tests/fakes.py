"""Test doubles shared by several test packages."""

from __future__ import annotations

import errno
import io
import os
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import anyio
import pytest


class FakeTime:
    """A clock that moves only when the fake sleep is awaited (so nothing really waits).

    The sleep still yields to the event loop once, so other tasks (an in-process
    emulator converting a video) make progress between polls.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.sleep(0)


class FullDisk(io.FileIO):
    """A real file on a disk with room for ``capacity`` bytes, then ENOSPC as the kernel says it."""

    def __init__(self, path: Any, mode: str, capacity: int) -> None:
        super().__init__(path, mode)
        self.capacity = capacity

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self.capacity:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)


def fill_disk_after(monkeypatch: pytest.MonkeyPatch, capacity: int) -> None:
    """Make every file opened for writing (by anyio or ``Path.open``) full after ``capacity`` bytes.

    The files are real (so what is left behind can be checked); only their writes fail.
    """
    real_open_file: Any = anyio.open_file
    real_path_open = Path.open

    async def open_file(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "x" in mode or "w" in mode:
            return anyio.AsyncFile(FullDisk(path, mode.replace("b", ""), capacity))
        return await real_open_file(path, mode, *args, **kwargs)

    def path_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if ("x" in mode or "w" in mode) and "b" in mode:
            return io.BufferedWriter(FullDisk(self, mode.replace("b", ""), capacity))
        return real_path_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(anyio, "open_file", open_file)
    monkeypatch.setattr(Path, "open", path_open)


@dataclass(frozen=True)
class FormFile:
    """The one file field of a ``multipart/form-data`` body."""

    field: str
    filename: str
    content_type: str
    data: bytes


def form_file(content_type: str, body: bytes) -> FormFile:
    """Parse a multipart body that has exactly one field (a file), as a server would."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts = list(message.iter_parts())
    assert len(parts) == 1, f"{len(parts)} fields in the form"
    part = parts[0]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return FormFile(
        str(part.get_param("name", header="content-disposition")),
        str(part.get_filename()),
        part.get_content_type(),
        payload,
    )


class Unseekable(io.RawIOBase):
    """A pipe-like binary reader over ``data``: readable, not seekable."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._inner.readinto(buffer)
