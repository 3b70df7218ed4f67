"""The download campaign: files of random sizes read back through an emulator, on a real
loopback socket, that cuts half of its file answers off mid-body (at a seeded offset
between 1 KiB and 512 KiB) and also fails 5% of CDN requests with 503 and resets 2%.

Each file is read by one of ``stream()`` (whole, or a random byte range),
``download(path)`` or ``get_content()``; every result must be byte-exact, and a path
is only ever there complete. The normal run takes a quick subset (12 files up to 4 MiB);
``FILESTACK_RELIABILITY=full`` reads 100 files up to 20 MiB. Run with ``-s`` for the
figures; they also go to the test's ``user_properties``.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

import anyio

from filestack_async import Client, RetryPolicy
from filestack_async.emulator import DownloadCut, EmulatorServer, Faults, RouteFault

from .conftest import Campaign

KiB = 1024
MiB = 1024 * KiB
PIECE = 256 * KiB
#: downloads in flight at once
CONCURRENT = 4


def campaign_faults(seed: int) -> Faults:
    """Cuts mid-body on half the file answers, plus 503s and resets before the body."""
    return Faults(
        seed=seed,
        rules=(RouteFault("cdn", error_rate=0.05, status=503, reset_rate=0.02),),
        download_cut=DownloadCut(rate=0.50, offset=KiB, max_offset=512 * KiB),
    )


def sizes_for(campaign: Campaign, rng: random.Random) -> list[int]:
    count, top = (100, 20 * MiB) if campaign.full else (12, 4 * MiB)
    fixed = [0, 1, PIECE - 1, PIECE, PIECE + 1, 2 * MiB + 1, top]
    sizes = fixed + [rng.randint(0, top) for _ in range(count - len(fixed))]
    rng.shuffle(sizes)
    return sizes


async def no_wait(seconds: float) -> None:
    """The retry policy's sleep: the campaign counts waits, it does not spend them."""
    await anyio.sleep(0)


async def test_every_download_cut_mid_body_ends_byte_exact(
    campaign: Campaign, tmp_path: Path, record_property: Any
) -> None:
    rng = random.Random(20261203)
    sizes = sizes_for(campaign, rng)
    figures: Counter[str] = Counter()
    async with EmulatorServer(data_dir=tmp_path / "srv") as server:
        async with Client(
            "CAMPAIGN-KEY", base_url=server.url, retry=RetryPolicy(sleep=no_wait)
        ) as client:
            files = []
            for size in sizes:
                data = os.urandom(size)
                files.append((await client.upload(content=data), data))
            server.emulator.set_faults(campaign_faults(seed=12))
            limit = anyio.Semaphore(CONCURRENT)

            async def read_back(
                index: int, link: Any, data: bytes, start: int | None, end: int | None
            ) -> None:
                how = ("stream", "range", "download", "get_content")[index % 4]
                async with limit:
                    if how == "download":
                        destination = tmp_path / "out" / f"{index}.bin"
                        destination.parent.mkdir(exist_ok=True)
                        assert await link.download(destination) == len(data)
                        got, expected = destination.read_bytes(), data
                    elif how == "get_content":
                        got, expected = await link.get_content(), data
                    else:
                        async with link.stream(start=start, end=end) as body:
                            got = b"".join([piece async for piece in body])
                            figures["resumes"] += body.resumes
                            figures["most resumes in one download"] = max(
                                figures["most resumes in one download"], body.resumes
                            )
                        expected = data[start or 0 : None if end is None else end + 1]
                assert got == expected, f"download {index} ({how}, {len(data)} bytes) differs"
                figures[how] += 1
                figures["bytes"] += len(expected)

            async with anyio.create_task_group() as group:
                for index, (link, data) in enumerate(files):
                    start = end = None
                    if index % 4 == 1 and data:  # a random byte range
                        start = rng.randrange(len(data))
                        end = rng.randrange(start, len(data))
                    group.start_soon(read_back, index, link, data, start, end)
            injected = dict(server.emulator.faults.injected)
        leftovers = [p.name for p in (tmp_path / "out").iterdir() if not p.name.endswith(".bin")]
    figures["downloads"] = len(sizes)
    figures["cuts"] = injected.get("cdn:cut", 0)
    figures["503s"] = injected.get("cdn:503", 0)
    figures["resets"] = injected.get("cdn:reset", 0)
    summary = "download campaign: " + ", ".join(f"{k} {v}" for k, v in sorted(figures.items()))
    print("\n" + summary)
    for key, value in figures.items():
        record_property(key, value)
    assert leftovers == []  # no partial file next to a finished one
    assert figures["downloads"] == len(sizes)
    assert figures["cuts"] >= 1  # the cuts really happened (and each was resumed, or the
    # download would have failed: a cut is never retried from the top with an ETag)
