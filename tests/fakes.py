"""Test doubles shared by several test packages."""

from __future__ import annotations

import io
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import anyio


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
