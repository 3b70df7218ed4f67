"""The CLI's download bar moves with the bytes: its total comes from the stream's first
answer and it is updated on every piece, not once at the end."""

from __future__ import annotations

import os
from pathlib import Path

from filestack_async._cli.commands import save_body
from filestack_async._cli.output import Output, Unit
from filestack_async.emulator import DownloadCut, Faults
from filestack_async.testing import EmulatorFactory

KiB = 1024


class RecordingBars:
    def __init__(self) -> None:
        self.totals: list[float | None] = []
        self.updates: list[float] = []

    def add(self, description: str, total: float | None = None, unit: Unit = "bytes") -> int:
        self.totals.append(total)
        return 0

    def update(self, bar: int, completed: float, total: float | None = None) -> None:
        self.updates.append(completed)


async def test_the_bar_counts_bytes_as_they_arrive_across_resumes(
    filestack_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emulator = filestack_emulator_factory()
    data = os.urandom(1500 * KiB)
    async with emulator.client() as client:
        link = await client.upload(content=data)
        emulator.set_faults(Faults(download_cut=DownloadCut(rate=1.0, offset=400 * KiB)))
        bars = RecordingBars()
        destination = tmp_path / "out.bin"
        async with link.stream() as body:
            written = await save_body(body, destination, Output(), bars, "download out.bin")
            assert body.resumes >= 3
    assert written == len(data) and destination.read_bytes() == data
    assert bars.totals == [len(data)]  # known before the first byte
    assert len(bars.updates) >= 6  # every 256 KiB piece, not once at the end
    assert bars.updates == sorted(bars.updates) and bars.updates[-1] == len(data)
    steps = [b - a for a, b in zip([0.0, *bars.updates[:-1]], bars.updates, strict=True)]
    assert max(steps) <= 256 * KiB
