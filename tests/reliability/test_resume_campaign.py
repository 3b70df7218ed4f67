"""The resume campaign: uploads stopped mid-way, again and again, then resumed, byte-exact.

Uploads of random sizes, both flows, through an emulator that fails 10 % of part and
chunk PUTs with 503 and resets 5 % of them. Each upload is cancelled after a random
number of acknowledged bytes, then run again with the same ``resume=`` checkpoint, and
between two runs the emulator is sometimes replaced by a new one on the same data
folder (a restart). Every upload must end with the stored bytes equal to the source,
and no part the checkpoint held as acknowledged may be acknowledged again (it is never
sent again). The quick subset runs normally; ``FILESTACK_RELIABILITY=full`` runs more.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from filestack_async import PartDone, RetryPolicy, UploadConfig, UploadError, UploadProgress
from filestack_async.emulator import Emulator, EmulatorConfig, Faults, RouteFault

from .conftest import Campaign

MiB = 1024 * 1024
PART = 5 * MiB
#: runs one upload may take before the campaign calls it stuck
MAX_RUNS = 25


class NoSleep:
    async def __call__(self, seconds: float) -> None:
        await anyio.lowlevel.checkpoint()


def faults(seed: int) -> Faults:
    return Faults(seed=seed, rules=(RouteFault("put", error_rate=0.10, reset_rate=0.05),))


def held_parts(checkpoint: Path, intelligent: bool) -> set[int]:
    if not checkpoint.exists():
        return set()
    saved = json.loads(checkpoint.read_bytes())
    if intelligent:
        return set(saved["committed"])
    return {p["part_number"] for p in saved["parts"]}


@pytest.mark.parametrize("intelligent", [False, True], ids=["regular", "intelligent"])
async def test_uploads_stopped_and_resumed_end_byte_exact(
    tmp_path: Path, campaign: Campaign, intelligent: bool
) -> None:
    rng = random.Random(1212 + intelligent)
    uploads = 20 if campaign.full else 3
    largest = 24 * MiB if campaign.full else 14 * MiB
    config = UploadConfig(
        part_size=PART,
        concurrency=2,
        multipart_threshold=0,
        intelligent_chunk_size=2 * MiB,
        min_chunk_size=256 * 1024,
    )
    retry = RetryPolicy(max_retries=8, sleep=NoSleep(), random=rng.random)
    data_dir = tmp_path / "data"
    emulator = Emulator(EmulatorConfig(data_dir=data_dir, faults=faults(0)))
    runs_needed: list[int] = []
    try:
        for number in range(uploads):
            data = rng.randbytes(rng.randrange(PART + 1, largest))
            path = tmp_path / f"file-{number}.bin"
            path.write_bytes(data)
            checkpoint = tmp_path / f"file-{number}.checkpoint"
            link: Any = None
            for run in range(1, MAX_RUNS + 1):
                before = held_parts(checkpoint, intelligent)
                done: list[int] = []

                def on_event(event: object, done: list[int] = done) -> None:
                    if isinstance(event, PartDone):
                        done.append(event.part_number)

                # stop once this run got a random number of bytes more acknowledged
                stop_after = rng.randrange(1, len(data))
                async with emulator.client(retry=retry, upload=config, on_event=on_event) as c:
                    with anyio.CancelScope() as scope:
                        first: list[int] = []

                        def stop(
                            report: UploadProgress,
                            scope: Any = scope,
                            first: list[int] = first,
                            more: int = stop_after,
                        ) -> None:
                            first.append(report.bytes_acknowledged)
                            if not report.done and report.bytes_acknowledged - first[0] >= more:
                                scope.cancel()

                        try:
                            link = await c.upload(
                                filepath=path,
                                intelligent=intelligent,
                                resume=checkpoint,
                                progress=stop,
                            )
                        except UploadError:  # a run may also fail: the next one continues
                            link = None
                    if link is not None and not scope.cancelled_caught:
                        assert await link.get_content() == data
                assert not before & set(done), f"acknowledged again: {sorted(before & set(done))}"
                if link is not None and not scope.cancelled_caught:
                    runs_needed.append(run)
                    break
                if rng.random() < 0.4:  # restart the emulator on the same folder
                    emulator.close()
                    emulator = Emulator(
                        EmulatorConfig(data_dir=data_dir, faults=faults(number * 100 + run))
                    )
            else:
                pytest.fail(f"upload {number} did not finish in {MAX_RUNS} runs")
            assert not checkpoint.exists()
    finally:
        emulator.close()
    assert len(runs_needed) == uploads
    assert max(runs_needed) > 1  # the campaign did stop and resume uploads
