"""The cancellation campaign: uploads of random sizes, flows and sources cancelled at random
moments (a random deadline, or after a random number of progress reports). Afterwards no
task, no busy worker thread, no file handle and no connection is left over, no file the
emulator stored is half-finished, and the same client completes a fresh upload.

The normal test run cancels ``campaign.cancellations`` uploads of the quick subset;
``nox -s reliability`` cancels 100. Run with ``-s`` to see the summary. It runs on both
HTTP pools (aiohttp and httpx's own, see the ``http_backend`` fixture), looking at the
pool through `HTTPSession.pool_state`.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from filestack_async import Client, RetryPolicy, UploadConfig, UploadProgress
from filestack_async._http import PoolState
from filestack_async.emulator import EmulatorServer, Faults, NetworkProfile

from ..fakes import Unseekable
from .conftest import Campaign

MiB = 1024 * 1024
#: the emulator's pace, so that uploads last long enough to be cut at any moment
BANDWIDTH = 48 * MiB
LATENCY = 0.004
SOURCES = ("path", "bytes", "file_obj", "unseekable+size", "stream+size", "stream")


async def _blocks(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        await anyio.sleep(0)
        yield data[start : start + size]


# -- what a process holds ----------------------------------------------------------------


def open_files(exclude: Path) -> Counter[str]:
    """Regular files this process holds open, outside ``exclude`` (the emulator's data)."""
    held: Counter[str] = Counter()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed while listing
            continue
        if target.startswith(("socket:", "pipe:", "anon_inode:", "/dev/")):
            continue
        if target.startswith(str(exclude)):
            continue
        held[target] += 1
    return held


def established_to(port: int) -> int:
    """Client-side TCP connections of this host to ``port`` that are ESTABLISHED."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01":  # 01 = ESTABLISHED
                count += 1
    return count


def pool_state(client: Client) -> PoolState:
    """What the client's connection pool holds now."""
    http = client.context.http
    assert http is not None
    state = http.pool_state()
    assert state is not None
    return state


def worker_threads_are_idle() -> bool:
    """True when no anyio worker thread runs work for this event loop."""
    return anyio.to_thread.current_default_thread_limiter().borrowed_tokens == 0


async def assert_nothing_left(
    client: Client,
    server: EmulatorServer,
    tasks: set[asyncio.Task[Any]],
    threads: set[threading.Thread],
    files: Counter[str],
    where: str,
) -> float:
    """No task, busy thread, file or active connection beyond the baseline.

    What a cancel closes can take a few loop turns to go (an aborted socket is closed by
    a callback), so the checks are repeated for up to 5 s; a real leak stays. Returns how
    long it took to settle.
    """
    began = time.perf_counter()
    while True:
        problems = leftovers(client, server, tasks, threads, files)
        waited = time.perf_counter() - began
        if not problems or waited > 5.0:
            break
        await anyio.sleep(0.005)
    assert not problems, f"{where}: {problems}"
    return waited


def leftovers(
    client: Client,
    server: EmulatorServer,
    tasks: set[asyncio.Task[Any]],
    threads: set[threading.Thread],
    files: Counter[str],
) -> list[str]:
    """What is left beyond the baseline, described."""
    problems: list[str] = []
    left = asyncio.all_tasks() - tasks
    if left:
        problems.append(f"tasks left: {left}")
    new_threads = set(threading.enumerate()) - threads
    if any(t.name != "AnyIO worker thread" for t in new_threads):
        problems.append(f"new threads: {new_threads}")
    if not worker_threads_are_idle():
        problems.append("a worker thread is still busy")
    now_open = open_files(server.emulator.data_dir)
    if now_open != files:
        problems.append(f"files left open: {now_open - files}")
    pool = pool_state(client)
    if pool.in_use:
        problems.append(f"connections still in use: {pool}")
    established = established_to(server.port)
    if established > pool.open:
        problems.append(f"{established} sockets open, {pool.open} in the pool: {pool}")
    return problems


# -- the campaign ----------------------------------------------------------------------------


async def test_cancelled_uploads_leave_nothing_behind(
    campaign: Campaign, tmp_path: Path, record_property: Any, http_backend: str
) -> None:
    seed = 7_2026
    rng = random.Random(seed)
    sources_dir = tmp_path / "sources"
    sources_dir.mkdir()
    outcomes: Counter[str] = Counter()
    by_source: Counter[str] = Counter()
    sha_of_sources: set[str] = set()
    completed: list[tuple[str, str]] = []  # (handle, sha256) of uploads that finished
    settle_times: list[float] = []
    started = time.perf_counter()
    profile = NetworkProfile(latency=LATENCY, bandwidth=BANDWIDTH)
    async with EmulatorServer(
        data_dir=tmp_path / "emulator", strict=True, faults=Faults(network=profile)
    ) as server:
        config = UploadConfig(part_size=5 * MiB, concurrency=3, intelligent_chunk_size=1 * MiB)
        retry = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.05)
        async with Client("CANCEL-KEY", base_url=server.url, upload=config, retry=retry) as client:
            # warm up once so lazily created pieces (the pool, worker threads) are in the baseline
            await client.upload(content=b"warm-up")
            assert client.context.http is not None
            assert client.context.http.backend == http_backend
            tasks = set(asyncio.all_tasks())
            threads = set(threading.enumerate())
            files = open_files(server.emulator.data_dir)
            for index in range(campaign.cancellations):
                size = rng.randint(1, campaign.fault_max_size)
                intelligent = rng.random() < 0.5
                kind = SOURCES[index % len(SOURCES)]
                data = random.Random(f"{seed}:{index}").randbytes(size)
                digest = hashlib.sha256(data).hexdigest()
                sha_of_sources.add(digest)
                by_source[kind] += 1
                expected = size / BANDWIDTH + 0.05
                by_progress = rng.random() < 0.3
                deadline = rng.uniform(0.0, 1.3 * expected)
                after_reports = rng.randint(1, 3)
                reports = 0
                path = sources_dir / f"{index}.bin"
                opened: io.BufferedReader | None = None
                kwargs: dict[str, Any]
                if kind == "path":
                    path.write_bytes(data)
                    kwargs = {"filepath": path}
                elif kind == "bytes":
                    kwargs = {"content": data}
                elif kind == "file_obj":
                    path.write_bytes(data)
                    opened = path.open("rb")
                    kwargs = {"file_obj": opened}
                elif kind == "unseekable+size":
                    kwargs = {"file_obj": Unseekable(data), "size": size}
                elif kind == "stream+size":
                    kwargs = {"stream": _blocks(data), "size": size}
                else:
                    kwargs = {"stream": _blocks(data)}

                with anyio.CancelScope() as scope:

                    def on_progress(
                        update: UploadProgress,
                        scope: anyio.CancelScope = scope,
                        by_progress: bool = by_progress,
                        after_reports: int = after_reports,
                    ) -> None:
                        nonlocal reports
                        reports += 1
                        if by_progress and reports >= after_reports:
                            scope.cancel()

                    if not by_progress:
                        scope.deadline = anyio.current_time() + deadline
                    link = await client.upload(
                        **kwargs, intelligent=intelligent, progress=on_progress
                    )
                    completed.append((link.handle, digest))
                if opened is not None:
                    opened.close()
                outcome = "cancelled" if scope.cancelled_caught else "completed"
                outcomes[f"{outcome} ({'progress' if by_progress else 'deadline'})"] += 1
                settled = await assert_nothing_left(
                    client, server, tasks, threads, files, f"upload {index} ({kind}, {size} B)"
                )
                settle_times.append(settled)
            # the same client still works
            fresh = random.Random(seed).randbytes(6 * MiB + 7)
            for intelligent in (False, True):
                link = await client.upload(content=fresh, intelligent=intelligent)
                stored = await anyio.to_thread.run_sync(
                    server.emulator.storage.read_bytes, link.handle
                )
                assert stored == fresh
            await assert_nothing_left(
                client, server, tasks, threads, files, "after the fresh upload"
            )
        # closed: no connection of the client is left
        for _ in range(50):
            if established_to(server.port) == 0:
                break
            await anyio.sleep(0.02)
        assert established_to(server.port) == 0
        # nothing half-finished was stored: each stored file is one source, whole
        stored_files = server.emulator.storage.list_files()
        for file in stored_files:
            content = await anyio.to_thread.run_sync(
                server.emulator.storage.read_bytes, file.handle
            )
            digest = hashlib.sha256(content).hexdigest()
            assert file.size == len(content)
            assert digest in sha_of_sources or content in (b"warm-up", fresh), file.handle
        for handle, digest in completed:
            content = server.emulator.storage.read_bytes(handle)
            assert hashlib.sha256(content).hexdigest() == digest
        assert [v.message for v in server.emulator.violations.snapshot()] == []
    seconds = time.perf_counter() - started
    figures = {
        "uploads": campaign.cancellations,
        "outcomes": dict(sorted(outcomes.items())),
        "sources": dict(sorted(by_source.items())),
        "stored_files": len(stored_files) - 3,
        "settle_ms_max": round(1000 * max(settle_times), 1),
        "seconds": round(seconds, 1),
    }
    print(f"\ncancellation campaign: {figures}")
    record_property("cancellation_campaign", figures)
    cancelled = sum(n for k, n in outcomes.items() if k.startswith("cancelled"))
    assert cancelled >= campaign.cancellations // 2, figures
