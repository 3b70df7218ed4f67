"""Test doubles shared by several test packages."""

from __future__ import annotations

import errno
import io
import os
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
