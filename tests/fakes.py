"""Test doubles shared by several test packages."""

from __future__ import annotations

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
