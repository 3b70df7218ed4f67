"""The progress tracker: ordered, monotonic, the total once and last."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import anyio
import anyio.lowlevel

from filestack_async import UploadProgress
from filestack_async._uploads.progress import ProgressTracker


async def test_reports_are_monotonic_and_the_total_waits_for_finish() -> None:
    seen: list[UploadProgress] = []
    tracker = ProgressTracker(100, seen.append, index=3)
    await tracker.begin()
    await tracker.advance(40)
    await tracker.advance(0)
    await tracker.advance(60)  # reaches the total: held back
    assert [p.bytes_acknowledged for p in seen] == [0, 40]
    await tracker.finish()
    await tracker.finish()
    assert [p.bytes_acknowledged for p in seen] == [0, 40, 100]
    last = seen[-1]
    assert (last.bytes_acknowledged, last.total, last.index, last.bytes_sent) == (100, 100, 3, 100)
    assert seen[-1].done and seen[1].fraction == 0.4


async def test_concurrent_async_callbacks_stay_in_order() -> None:
    seen: list[int] = []

    async def slow(p: UploadProgress) -> None:
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        seen.append(p.bytes_acknowledged)

    tracker = ProgressTracker(1000, slow)
    async with anyio.create_task_group() as tg:
        for _ in range(9):
            tg.start_soon(tracker.advance, 100)
    await tracker.finish()
    assert seen == sorted(set(seen)) and seen[-1] == 1000


async def test_without_a_callback_nothing_happens() -> None:
    tracker = ProgressTracker(10, None)
    await tracker.advance(10)
    await tracker.finish()
    assert tracker.acknowledged == 10


def test_fraction_of_an_empty_total() -> None:
    assert UploadProgress(0, 0).fraction == 1.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def blocks_of(*sizes: int) -> Callable[[], AsyncIterator[bytes]]:
    async def body() -> AsyncIterator[bytes]:
        for size in sizes:
            yield b"x" * size

    return body


async def drain(body: object) -> None:
    assert callable(body)
    async for _ in body():
        pass


async def test_bytes_are_counted_as_the_transport_pulls_them_and_rewound_on_a_retry() -> None:
    seen: list[UploadProgress] = []
    tracker = ProgressTracker(100, seen.append, interval=0)
    await tracker.begin()
    body = tracker.counted("part-1", blocks_of(10, 20, 30))
    await drain(body)
    assert tracker.sent == 60
    await drain(body)  # the same piece sent again: its first attempt no longer counts
    assert tracker.sent == 60
    await tracker.advance(60, "part-1")
    assert (tracker.sent, tracker.acknowledged) == (60, 60)
    sent = [p.bytes_sent for p in seen]
    assert sent == [0, 10, 30, 60, 10, 30, 60, 60]
    assert [p.bytes_acknowledged for p in seen] == [0, 0, 0, 0, 0, 0, 0, 60]
    await tracker.finish()
    assert (seen[-1].bytes_sent, seen[-1].eta) == (100, 0.0)


async def test_written_bytes_are_reported_at_most_every_interval() -> None:
    seen: list[UploadProgress] = []
    clock = Clock()
    tracker = ProgressTracker(1000, seen.append, interval=1.0, clock=clock)
    await tracker.begin()  # at 0 s
    body = tracker.counted(1, blocks_of(*[100] * 5))

    async def pull() -> None:
        assert callable(body)
        async for _ in body():
            clock.now += 0.4

    # a block counts once the transport comes back for the next one (it was written):
    # at 0.4, 0.8, 1.2, 1.6 and 2.0 s; one second after the first report, 1.2 s is due
    await pull()
    assert [(p.bytes_sent, p.bytes_acknowledged) for p in seen] == [(0, 0), (300, 0)]
    await tracker.advance(500, 1)  # an acknowledgement is never held back
    assert seen[-1].bytes_acknowledged == 500


async def test_rate_and_eta_come_from_the_written_bytes() -> None:
    seen: list[UploadProgress] = []
    clock = Clock()
    tracker = ProgressTracker(1000, seen.append, interval=0, clock=clock)
    await tracker.begin()
    assert seen[0].rate is None and seen[0].eta is None
    body = tracker.counted(1, blocks_of(100, 100))

    async def pull() -> None:
        assert callable(body)
        async for _ in body():
            clock.now += 1.0

    await pull()  # 100 bytes written by 1 s, 200 by 2 s
    last = seen[-1]
    assert last.bytes_sent == 200 and last.rate == 100.0
    assert last.eta == 8.0  # 800 bytes left at 100 B/s


async def test_a_resumed_upload_starts_from_its_acknowledged_bytes() -> None:
    seen: list[UploadProgress] = []
    tracker = ProgressTracker(100, seen.append)
    tracker.resume_from(40)
    await tracker.begin()
    assert (seen[0].bytes_acknowledged, seen[0].bytes_sent) == (40, 40)
