"""Resumable uploads against the emulator: stopped (cancelled, the emulator restarted, the
process killed with SIGKILL) and continued, byte-exact, with no acknowledged part sent again."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from filestack_async import Client, RetryPolicy, UploadConfig, UploadError, UploadProgress
from filestack_async.emulator import Emulator, EmulatorConfig, EmulatorServer, Faults, RouteFault

from .conftest import NoSleep, free_port

MiB = 1024 * 1024
PART = 5 * MiB
SIZE = 5 * PART + 12345  # six parts
PARTS = 6
CONFIG = UploadConfig(part_size=PART, concurrency=1, multipart_threshold=0)
#: a rule that never fires: the emulator then counts every PUT it receives
COUNT_PUTS = Faults(rules=(RouteFault("put"),))


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, bytes]:
    data = random.Random(12).randbytes(SIZE)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    return path, data


def emulator_on(data_dir: Path) -> Emulator:
    return Emulator(EmulatorConfig(data_dir=data_dir, faults=COUNT_PUTS))


def puts(emulator: Emulator) -> int:
    return emulator.faults.decided["put"]


def acknowledged_parts(checkpoint: Path) -> list[int]:
    return [p["part_number"] for p in json.loads(checkpoint.read_bytes())["parts"]]


async def cancel_after(emulator: Emulator, path: Path, checkpoint: Path, acknowledged: int) -> None:
    """Upload with ``resume=checkpoint`` and cancel once ``acknowledged`` bytes are in."""
    async with emulator.client(upload=CONFIG) as client:
        with anyio.CancelScope() as scope:

            def stop(report: UploadProgress) -> None:
                if report.bytes_acknowledged >= acknowledged:
                    scope.cancel()

            await client.upload(filepath=path, resume=checkpoint, progress=stop)
        assert scope.cancelled_caught


async def test_a_cancelled_upload_continues_on_a_restarted_emulator(
    tmp_path: Path, source: tuple[Path, bytes]
) -> None:
    path, data = source
    checkpoint = tmp_path / "big.checkpoint"
    first = emulator_on(tmp_path / "data")
    try:
        await cancel_after(first, path, checkpoint, 2 * PART)
        assert acknowledged_parts(checkpoint) == [1, 2]
    finally:
        first.close()

    second = emulator_on(tmp_path / "data")  # a new emulator on the same folder
    try:
        reports: list[int] = []
        async with second.client(upload=CONFIG) as client:
            link = await client.upload(
                filepath=path,
                resume=checkpoint,
                progress=lambda r: reports.append(r.bytes_acknowledged),
            )
            assert await link.get_content() == data
        assert puts(second) == PARTS - 2  # parts 1 and 2 were not sent again
        assert reports[0] == 2 * PART  # progress starts from what was acknowledged
        assert not checkpoint.exists()
    finally:
        second.close()


async def test_an_upload_continues_after_the_emulator_was_killed_and_restarted(
    tmp_path: Path, source: tuple[Path, bytes], http_backend: str | None
) -> None:
    path, data = source
    checkpoint = tmp_path / "big.checkpoint"
    port = free_port()
    retry = RetryPolicy(max_retries=2, sleep=NoSleep(), random=lambda: 0.5)
    server = EmulatorServer(data_dir=tmp_path / "data", port=port, faults=COUNT_PUTS)
    await anyio.to_thread.run_sync(server.start)
    try:
        async with Client(
            "E2E-KEY",
            base_url=server.url,
            upload=CONFIG,
            retry=retry,
            http_backend=http_backend,  # type: ignore[arg-type]
        ) as client:

            async def kill_after_three(report: UploadProgress) -> None:
                if (
                    report.bytes_acknowledged >= 3 * PART
                    and server.emulator.storage.closed is False
                ):
                    await anyio.to_thread.run_sync(server.stop)

            with pytest.raises(UploadError):
                await client.upload(filepath=path, resume=checkpoint, progress=kill_after_three)
    finally:
        await anyio.to_thread.run_sync(server.stop)
    assert acknowledged_parts(checkpoint) == [1, 2, 3]

    async with EmulatorServer(data_dir=tmp_path / "data", port=port, faults=COUNT_PUTS) as again:
        async with Client(
            "E2E-KEY",
            base_url=again.url,
            upload=CONFIG,
            retry=retry,
            http_backend=http_backend,  # type: ignore[arg-type]
        ) as client:
            link = await client.upload(filepath=path, resume=checkpoint)
            assert await link.get_content() == data
        assert puts(again.emulator) == PARTS - 3
    assert not checkpoint.exists()


async def test_an_expired_upload_starts_afresh(
    tmp_path: Path, source: tuple[Path, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    path, data = source
    checkpoint = tmp_path / "big.checkpoint"
    now = [1000.0]
    first = emulator_on(tmp_path / "data")
    try:
        await cancel_after(first, path, checkpoint, PART)
    finally:
        first.close()
    expiring = Emulator(
        EmulatorConfig(data_dir=tmp_path / "data", faults=COUNT_PUTS, upload_expiry=60)
    )
    expiring.storage.clock = lambda: now[0]
    now[0] = 10**10  # long past the upload's expiry
    try:
        async with expiring.client(upload=CONFIG) as client:
            link = await client.upload(filepath=path, resume=checkpoint)
            assert await link.get_content() == data
        assert puts(expiring) == PARTS  # every part again, in a new upload
        assert any("no longer knows this upload" in r.getMessage() for r in caplog.records)
    finally:
        expiring.close()


#: the child: uploads with resume=, printing each acknowledged total, until it is killed
CHILD = """
import sys, anyio
from filestack_async import Client, UploadConfig

async def main() -> None:
    config = UploadConfig(part_size={part}, concurrency=2, multipart_threshold=0)
    async with Client("E2E-KEY", base_url=sys.argv[1], upload=config) as client:
        def report(progress):
            print(progress.bytes_acknowledged, flush=True)
        await client.upload(filepath=sys.argv[2], resume=sys.argv[3], progress=report)
    print("done", flush=True)

anyio.run(main)
"""


def test_an_upload_killed_with_sigkill_continues_byte_exact(
    tmp_path: Path, source: tuple[Path, bytes]
) -> None:
    path, data = source
    checkpoint = tmp_path / "big.checkpoint"
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(part=PART))
    with EmulatorServer(data_dir=tmp_path / "data", faults=COUNT_PUTS) as server:
        child = subprocess.Popen(
            [sys.executable, str(script), server.url, str(path), str(checkpoint)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert child.stdout is not None
            for line in child.stdout:
                if line.strip() != "done" and int(line) >= 3 * PART:
                    break
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait()
            if child.stdout is not None:
                child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        before = acknowledged_parts(checkpoint)
        assert len(before) >= 3
        sent_before = puts(server.emulator)

        async def resume() -> bytes:
            async with Client("E2E-KEY", base_url=server.url, upload=replace(CONFIG)) as client:
                link = await client.upload(filepath=path, resume=checkpoint)
                return await link.get_content()

        stored = anyio.run(resume)
        resent = puts(server.emulator) - sent_before
    assert hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()
    assert resent == PARTS - len(before)  # no acknowledged part again
    assert not checkpoint.exists()
