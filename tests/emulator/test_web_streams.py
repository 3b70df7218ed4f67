"""Streamed answers let go of their source as soon as they end, however they end: an
abandoned body's generator is closed at once (its open file with it), not left
suspended until the garbage collector finds it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from starlette.types import Message

from filestack_async.emulator.web import ClosingStreamingResponse, paced

SCOPE = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "method": "GET"}


class Source:
    """A body of many blocks that records how far it got and whether it was closed."""

    def __init__(self) -> None:
        self.sent = 0
        self.closed = False

    async def blocks(self) -> AsyncIterator[bytes]:
        try:
            for _ in range(1000):
                self.sent += 1
                yield b"x" * 1024
        finally:
            self.closed = True


async def _receive() -> Message:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


@pytest.mark.parametrize("bandwidth", [None, 10**9])
async def test_a_body_the_client_stops_taking_is_closed_at_once(bandwidth: int | None) -> None:
    source = Source()
    response = ClosingStreamingResponse(paced(source.blocks(), bandwidth))
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)
        if len(messages) == 3:  # the start and two blocks, then the client is gone
            raise OSError("the client went away")

    with pytest.raises(Exception):  # noqa: B017 - starlette's or the OSError
        await response(SCOPE, _receive, send)
    assert source.closed  # closed by the response, not by a later collection
    assert source.sent < 1000


async def test_closing_paced_closes_its_source() -> None:
    source = Source()
    stream = paced(source.blocks(), None)
    assert await stream.__anext__() == b"x" * 1024
    await stream.aclose()  # type: ignore[attr-defined]
    assert source.closed


async def test_a_body_sent_whole_is_closed_too() -> None:
    source = Source()
    response = ClosingStreamingResponse(paced(source.blocks(), None))
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    await response(SCOPE, _receive, send)
    assert source.closed and source.sent == 1000
    assert sum(len(m.get("body", b"")) for m in messages) == 1000 * 1024
