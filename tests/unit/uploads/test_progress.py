"""The progress tracker: ordered, monotonic, the total once and last."""

from __future__ import annotations

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
    assert seen[-1] == UploadProgress(100, 100, 3)
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
