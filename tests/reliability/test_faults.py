"""The fault campaign: uploads of random sizes, both flows, through an emulator that fails
10% of part and chunk PUTs with 503 (half with ``Retry-After``), resets 5% of them and
holds 2% beyond the client's timeouts. Every upload must complete with the stored bytes
equal to the source; the retries each upload needed are counted and summarised.

The normal test run takes the campaign's quick subset; ``nox -s reliability``
(``FILESTACK_RELIABILITY=full``) runs 100 uploads per flow of 0 bytes to 20 MiB. Run
with ``-s`` to see the summary table; the figures also go to the test's
``user_properties`` (the JUnit XML report).
"""

from __future__ import annotations

import contextvars
import hashlib
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from filestack_async import Client, RetryPolicy, Timeouts, UploadConfig
from filestack_async.emulator import EmulatorServer, Faults, RouteFault

from .conftest import Campaign

MiB = 1024 * 1024
PART_SIZE = 5 * MiB
CHUNK_SIZE = 1 * MiB
#: the client's read and write timeouts (inactivity limits), short so held requests are cheap
TIMEOUT = 1.0
#: how long the emulator holds a delayed PUT: beyond the client's timeouts
DELAY = 2.5
#: what the emulator sends as ``Retry-After`` (backoff delays never equal it)
RETRY_AFTER = 0.2
#: what the emulator logs for a PUT to an upload that is already completed
LATE_PUT = "the upload does not exist (completed or unknown)"
#: uploads in flight at once within a flow
CONCURRENT_UPLOADS = 4


def campaign_faults(seed: int) -> Faults:
    """The issue's fault mix, on every part (regular) and chunk (intelligent) PUT."""
    rule = RouteFault(
        route="put",
        error_rate=0.10,
        status=503,
        retry_after=RETRY_AFTER,
        retry_after_rate=0.5,
        reset_rate=0.05,
        delay_rate=0.02,
        delay=DELAY,
    )
    assert DELAY > TIMEOUT
    return Faults(seed=seed, rules=(rule,))


def campaign_sizes(campaign: Campaign, rng: random.Random) -> list[int]:
    """``campaign.fault_uploads`` sizes from 0 to the maximum: 0, 1, the part and chunk
    boundaries that fit, then uniformly random sizes."""
    top = campaign.fault_max_size
    boundaries = (0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, PART_SIZE - 1, PART_SIZE, PART_SIZE + 1)
    fixed = [size for size in (*boundaries, 2 * PART_SIZE, top) if size <= top]
    sizes = fixed[: campaign.fault_uploads]
    sizes += [rng.randint(0, top) for _ in range(campaign.fault_uploads - len(sizes))]
    rng.shuffle(sizes)
    return sizes


#: the retry waits of the upload running in this context
_WAITS: contextvars.ContextVar[list[float]] = contextvars.ContextVar("waits")


async def counting_sleep(seconds: float) -> None:
    """The retry policy's sleep: records the wait against the current upload, then waits."""
    _WAITS.get().append(seconds)
    await anyio.sleep(seconds)


def campaign_client(base_url: str | None, server: EmulatorServer) -> Client:
    """A client with short timeouts and a fast retry policy, over the socket or in-process."""
    options: dict[str, Any] = {
        "timeout": Timeouts(connect=5.0, read=TIMEOUT, write=TIMEOUT, pool=30.0),
        "retry": RetryPolicy(
            max_retries=10, initial_delay=0.01, max_delay=0.1, sleep=counting_sleep
        ),
        "upload": UploadConfig(
            part_size=PART_SIZE,
            concurrency=3,
            intelligent_chunk_size=CHUNK_SIZE,
            min_chunk_size=64 * 1024,
        ),
    }
    if base_url is None:
        return server.emulator.client("CAMPAIGN-KEY", **options)
    return Client("CAMPAIGN-KEY", base_url=base_url, **options)


@dataclass
class Outcome:
    """One upload of the campaign."""

    size: int
    via: str
    source: str
    waits: list[float]
    seconds: float

    @property
    def retries(self) -> int:
        return len(self.waits)


@dataclass
class FlowReport:
    """The figures of one flow's campaign."""

    flow: str
    outcomes: list[Outcome] = field(default_factory=list)
    injected: Counter[str] = field(default_factory=Counter)
    #: PUTs (parts or chunks, retries included) the emulator decided faults for
    puts: int = 0
    seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        retries = [o.retries for o in self.outcomes]
        waits = [w for o in self.outcomes for w in o.waits]
        return {
            "flow": self.flow,
            "uploads": len(self.outcomes),
            "over_socket": sum(o.via == "socket" for o in self.outcomes),
            "bytes": sum(o.size for o in self.outcomes),
            "min_size": min(o.size for o in self.outcomes),
            "max_size": max(o.size for o in self.outcomes),
            "puts": self.puts,
            "injected": dict(sorted(self.injected.items())),
            "injected_rates": {
                kind: round(self.injected[f"put:{kind}"] / max(self.puts, 1), 4)
                for kind in ("503", "503+retry-after", "reset", "delay")
            },
            "retries_total": sum(retries),
            "retries_mean": round(statistics.fmean(retries), 2),
            "retries_max": max(retries),
            "uploads_retried": sum(r > 0 for r in retries),
            "retries_histogram": dict(sorted(Counter(retries).items())),
            "retry_after_waits": sum(w == RETRY_AFTER for w in waits),
            "seconds": round(self.seconds, 1),
        }


def table(reports: list[FlowReport]) -> str:
    """The summary as a text table."""
    rows = [r.figures() for r in reports]
    lines = [
        "fault campaign",
        f"{'flow':<12}{'uploads':>8}{'socket':>8}{'MiB':>9}{'retries':>9}{'mean':>7}"
        f"{'max':>5}{'retried':>9}{'R-A':>6}{'secs':>7}  injected",
    ]
    for row in rows:
        lines.append(
            f"{row['flow']:<12}{row['uploads']:>8}{row['over_socket']:>8}"
            f"{row['bytes'] / MiB:>9.1f}{row['retries_total']:>9}{row['retries_mean']:>7}"
            f"{row['retries_max']:>5}{row['uploads_retried']:>9}{row['retry_after_waits']:>6}"
            f"{row['seconds']:>7}  {row['injected']}"
        )
    return "\n".join(lines)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def run_flow(
    flow: str,
    sizes: list[int],
    server: EmulatorServer,
    tmp_path: Path,
    seed: int,
) -> FlowReport:
    """Upload every size with one flow; half over the socket, half in-process."""
    report = FlowReport(flow)
    intelligent = flow == "intelligent"
    injector = server.emulator.faults
    before = Counter(injector.injected)
    puts_before = injector.decided["put"]
    started = time.perf_counter()
    async with (
        campaign_client(server.url, server) as socket_client,
        campaign_client(None, server) as local_client,
    ):
        jobs = list(enumerate(sizes))
        queue = iter(jobs)

        async def one(index: int, size: int) -> None:
            via = "socket" if index % 2 == 0 else "in-process"
            client = socket_client if via == "socket" else local_client
            data = random.Random(f"{seed}:{flow}:{index}").randbytes(size)
            waits: list[float] = []
            _WAITS.set(waits)
            began = time.perf_counter()
            if index % 3 == 0:
                path = tmp_path / f"{flow}-{index}.bin"
                await anyio.to_thread.run_sync(path.write_bytes, data)
                link = await client.upload(filepath=path, intelligent=intelligent)
                path.unlink()
                source = "path"
            else:
                link = await client.upload(content=data, intelligent=intelligent)
                source = "bytes"
            seconds = time.perf_counter() - began
            stored = await anyio.to_thread.run_sync(server.emulator.storage.read_bytes, link.handle)
            assert len(stored) == size, f"upload {index} ({flow}, {size} bytes) stored wrong size"
            assert _sha256(stored) == _sha256(data), f"upload {index} ({flow}) stored other bytes"
            report.outcomes.append(Outcome(size, via, source, waits, seconds))

        async def worker() -> None:
            for index, size in queue:
                await one(index, size)

        with anyio.fail_after(1500):
            async with anyio.create_task_group() as tg:
                for _ in range(CONCURRENT_UPLOADS):
                    tg.start_soon(worker)
    report.seconds = time.perf_counter() - started
    report.puts = injector.decided["put"] - puts_before
    report.injected = Counter(injector.injected)
    report.injected.subtract(before)
    report.injected = +report.injected
    return report


async def test_every_upload_survives_the_fault_mix(
    campaign: Campaign, tmp_path: Path, record_property: Any
) -> None:
    seed = 20261126
    rng = random.Random(seed)
    reports: list[FlowReport] = []
    async with EmulatorServer(
        data_dir=tmp_path / "emulator", strict=True, faults=campaign_faults(seed)
    ) as server:
        for flow in ("regular", "intelligent"):
            sizes = campaign_sizes(campaign, rng)
            reports.append(await run_flow(flow, sizes, server, tmp_path, seed))
        violations = [v.message for v in server.emulator.violations.snapshot()]
    # a PUT held beyond the client's timeout is still served once the delay is over; when
    # the upload was completed meanwhile, the emulator refuses it (and logs that)
    late = [m for m in violations if m == LATE_PUT]
    histograms = "\n".join(
        f"{r.flow}: {r.puts} PUTs, injected rates {r.figures()['injected_rates']}, "
        f"uploads by retry count {r.figures()['retries_histogram']}"
        for r in reports
    )
    summary = (
        f"{table(reports)}\n{histograms}\n"
        f"late PUTs refused after their upload completed: {len(late)}"
    )
    print("\n" + summary)
    for report in reports:
        record_property(f"fault_campaign_{report.flow}", report.figures())
    record_property("fault_campaign_late_puts", len(late))
    assert [m for m in violations if m != LATE_PUT] == [], summary
    for report in reports:
        figures = report.figures()
        assert figures["uploads"] == campaign.fault_uploads
        assert figures["min_size"] == 0
    # the faults really happened (every kind in the full campaign), and each was retried
    total = sum((r.injected for r in reports), Counter[str]())
    faults = total["put:503"] + total["put:reset"] + total["put:delay"]
    assert faults > 0, summary
    assert sum(r.figures()["retries_total"] for r in reports) >= total["put:503"], summary
    if campaign.full:
        for kind in ("put:503", "put:503+retry-after", "put:reset", "put:delay"):
            assert total[kind] > 0, summary


@pytest.mark.parametrize("answer", ["reset", "RequestTimeout", "IncompleteBody"])
async def test_intelligent_ingestion_halves_its_way_under_a_chunk_limit(
    campaign: Campaign, tmp_path: Path, record_property: Any, answer: str
) -> None:
    """A link that cannot carry chunks over 256 KiB, as it shows itself: the connection
    dropped, or S3's 400 ``RequestTimeout``/``IncompleteBody`` XML answer. Intelligent
    ingestion halves its 1 MiB chunks under the limit and every upload completes."""
    seed = 20261203
    limit = 256 * 1024
    faults = Faults(
        seed=seed, max_chunk_size=limit, chunk_s3_code=None if answer == "reset" else answer
    )
    async with EmulatorServer(data_dir=tmp_path / "emulator", strict=True, faults=faults) as server:
        sizes = campaign_sizes(campaign, random.Random(seed))
        report = await run_flow("intelligent", sizes, server, tmp_path, seed)
        violations = [v.message for v in server.emulator.violations.snapshot()]
    figures = report.figures()
    record_property(f"chunk_limit_{answer}", figures)
    assert violations == [], figures
    assert figures["uploads"] == campaign.fault_uploads
    # chunks over the limit were refused (each one halved the chunk), and yet all stored
    assert any(size > limit for size in sizes)
    assert report.injected["put:too-big"] > 0, figures
