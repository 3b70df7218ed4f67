"""The emulator under load over a real loopback socket.

``campaign.load_clients`` SDK clients (50 in the full campaign), each with its own
connection pool, loop for ``campaign.load_seconds``: upload a file of random size
(1 byte to 6 MiB; regular multipart and intelligent ingestion in turn), download it
whole, and download a random ``Range`` of it, comparing bytes every time. The run
must end with zero errors, zero mismatches, zero retries and no protocol deviation
logged by the emulator; the figures (operations, bytes, latency percentiles) are
printed, not asserted.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx

from filestack_async import Client, RetryPolicy, Timeouts, UploadConfig
from filestack_async.emulator import EmulatorServer

from .conftest import Campaign

MiB = 1024 * 1024
APIKEY = "LOAD-APIKEY"


@dataclass
class Figures:
    """What the load run measured."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    bytes_up: int = 0
    bytes_down: int = 0
    errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    retries: list[float] = field(default_factory=list)

    @property
    def operations(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def report(self, clients: int, seconds: float, elapsed: float) -> str:
        lines = [
            f"emulator load: {clients} clients, {seconds:g} s asked, {elapsed:.1f} s run",
            f"  operations {self.operations} ({self.operations / elapsed:.1f}/s), "
            f"uploaded {self.bytes_up / MiB:.1f} MiB, downloaded {self.bytes_down / MiB:.1f} MiB",
            f"  errors {len(self.errors)}, mismatches {len(self.mismatches)}, "
            f"retries {len(self.retries)}",
        ]
        for name, values in sorted(self.latencies.items()):
            lines.append(
                f"  {name:<18} n={len(values):<5} p50={_percentile(values, 50) * 1000:7.1f} ms"
                f"  p99={_percentile(values, 99) * 1000:7.1f} ms"
                f"  max={max(values) * 1000:7.1f} ms"
            )
        return "\n".join(lines)


def _percentile(values: list[float], pct: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def _size(rng: random.Random) -> int:
    """Mostly small files, some medium, a few over one 5 MiB part."""
    roll = rng.random()
    if roll < 0.5:
        return rng.randint(1, 64 * 1024)
    if roll < 0.85:
        return rng.randint(64 * 1024, MiB)
    return rng.randint(MiB, 6 * MiB)


async def _client_loop(
    number: int, base_url: str, deadline: float, figures: Figures, seed: int
) -> None:
    rng = random.Random(seed)

    async def record_retry(seconds: float) -> None:
        figures.retries.append(seconds)
        await anyio.sleep(seconds)

    client = Client(
        APIKEY,
        base_url=base_url,
        retry=RetryPolicy(sleep=record_retry),
        timeout=Timeouts(connect=30, read=120, write=120, pool=120),
        upload=UploadConfig(part_size=5 * MiB, intelligent_chunk_size=512 * 1024),
    )
    async with client, httpx.AsyncClient(base_url=base_url, timeout=120) as raw:
        iteration = 0
        while iteration == 0 or time.monotonic() < deadline:  # at least one round each
            iteration += 1
            intelligent = (number + iteration) % 2 == 0
            flow = "intelligent" if intelligent else "regular"
            data = rng.randbytes(_size(rng))
            where = f"client {number} #{iteration} ({flow}, {len(data)} B)"
            try:
                started = time.monotonic()
                link = await client.upload(content=data, intelligent=intelligent)
                figures.latencies[f"upload {flow}"].append(time.monotonic() - started)
                figures.bytes_up += len(data)

                started = time.monotonic()
                content = await link.get_content()
                figures.latencies["download"].append(time.monotonic() - started)
                figures.bytes_down += len(content)
                if content != data:
                    figures.mismatches.append(f"{where}: full download differs")

                first = rng.randrange(len(data))
                last = rng.randrange(first, len(data))
                started = time.monotonic()
                response = await raw.get(
                    f"/{link.handle}", headers={"Range": f"bytes={first}-{last}"}
                )
                figures.latencies["range"].append(time.monotonic() - started)
                figures.bytes_down += len(response.content)
                if response.status_code != 206:
                    figures.errors.append(f"{where}: range answered {response.status_code}")
                elif response.content != data[first : last + 1]:
                    figures.mismatches.append(f"{where}: range {first}-{last} differs")
            except Exception as err:  # every failure is a finding: keep going, report them all
                figures.errors.append(f"{where}: {type(err).__name__}: {err}")


async def test_many_clients_upload_and_download_with_no_error(
    campaign: Campaign, tmp_path: Path
) -> None:
    figures = Figures()
    async with EmulatorServer(data_dir=tmp_path / "load-emulator") as server:
        started = time.monotonic()
        deadline = started + campaign.load_seconds
        with anyio.fail_after(campaign.load_seconds + 600):  # a hang fails, slowness does not
            async with anyio.create_task_group() as tg:
                for number in range(campaign.load_clients):
                    tg.start_soon(_client_loop, number, server.url, deadline, figures, number)
        elapsed = time.monotonic() - started
        violations = [v.message for v in server.emulator.violations.snapshot()]
    print()
    print(figures.report(campaign.load_clients, campaign.load_seconds, elapsed))
    assert figures.errors == []
    assert figures.mismatches == []
    assert figures.retries == []
    assert violations == []
    assert figures.latencies["download"]  # every client got to do something
    assert len(figures.latencies["range"]) >= campaign.load_clients
