"""``upload(..., resume=PATH)`` on the wire: a resumed upload sends no acknowledged part again."""

from __future__ import annotations

import itertools
import json
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import respx

from filestack_async import CheckpointError, Client, RetryPolicy, UploadError, UploadProgress

from ._upload_fake import FakeUploadAPI
from .conftest import APIKEY, MULTIPART

MiB = 1024 * 1024
ONE_AT_A_TIME = replace(MULTIPART, part_size=5 * MiB, concurrency=1)


@pytest.fixture
def fake() -> FakeUploadAPI:
    return FakeUploadAPI()


@pytest.fixture
async def client(retry_policy: RetryPolicy) -> AsyncIterator[Client]:
    async with Client(APIKEY, retry=retry_policy, upload=ONE_AT_A_TIME) as c:
        yield c


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, bytes]:
    data = random.Random(7).randbytes(17 * MiB + 3)  # four parts: 5, 5, 5, 2 MiB + 3
    path = tmp_path / "movie.bin"
    path.write_bytes(data)
    return path, data


async def interrupted(
    fake: FakeUploadAPI, client: Client, path: Path, checkpoint: Path, *puts: int | None
) -> None:
    """Install the fake and run an upload that fails on the PUT answers ``puts`` give."""
    fake.install(respx.mock)
    fake.inject("put", *puts)
    with pytest.raises(UploadError):
        await client.upload(filepath=path, resume=checkpoint)


def put_parts(fake: FakeUploadAPI) -> list[int]:
    return [part for part, _offset, _size in fake.put_sizes]


@respx.mock
async def test_a_resumed_regular_upload_sends_no_acknowledged_part_again(
    fake: FakeUploadAPI, client: Client, source: tuple[Path, bytes], tmp_path: Path
) -> None:
    fake.install(respx.mock)
    fake.inject("put", None, None, 400)  # parts 1 and 2 go through, part 3 is refused
    path, data = source
    checkpoint = tmp_path / "movie.checkpoint"

    with pytest.raises(UploadError):
        await client.upload(filepath=path, resume=checkpoint)
    saved = json.loads(checkpoint.read_bytes())
    assert saved["upload_id"] == "UPID"
    assert [p["part_number"] for p in saved["parts"]] == [1, 2]
    assert APIKEY not in checkpoint.read_text()
    assert put_parts(fake) == [1, 2, 3]

    link = await client.upload(filepath=path, resume=checkpoint)

    assert fake.starts == 1  # no new upload was started
    assert put_parts(fake) == [1, 2, 3, 3, 4]  # only the parts never acknowledged
    assert [b["part"] for b in fake.bodies("upload")] == [1, 2, 3, 3, 4]
    (complete,) = fake.bodies("complete")
    assert complete["upload_id"] == "UPID"
    assert [p["part_number"] for p in complete["parts"]] == [1, 2, 3, 4]
    assert fake.assembled("UPID") == data
    assert link.handle
    assert not checkpoint.exists()  # removed on success


@respx.mock
async def test_a_resumed_intelligent_upload_continues_inside_a_part(
    fake: FakeUploadAPI, retry_policy: RetryPolicy, source: tuple[Path, bytes], tmp_path: Path
) -> None:
    fake.install(respx.mock)
    config = replace(ONE_AT_A_TIME, intelligent_chunk_size=2 * MiB, min_chunk_size=2 * MiB)
    # part 1: chunks at 0, 2 and 4 MiB; part 2: the chunk at 0 goes through, at 2 MiB is refused
    fake.inject("put", None, None, None, None, 403)
    path, data = source
    checkpoint = tmp_path / "fii.checkpoint"
    async with Client(APIKEY, retry=retry_policy, upload=config) as client:
        with pytest.raises(UploadError):
            await client.upload(filepath=path, intelligent=True, resume=checkpoint)
        saved = json.loads(checkpoint.read_bytes())
        assert saved["flow"] == "intelligent"
        assert saved["committed"] == [1]
        assert saved["chunks"] == [{"part_number": 2, "bytes": 2 * MiB}]
        before = list(fake.put_sizes)

        await client.upload(filepath=path, intelligent=True, resume=checkpoint)

    assert fake.starts == 1
    resent = fake.put_sizes[len(before) :]
    assert (1, 0, 2 * MiB) not in resent and (2, 0, 2 * MiB) not in resent
    assert resent[0] == (2, 2 * MiB, 2 * MiB)  # where part 2 stopped
    assert [b["part"] for b in fake.bodies("commit")] == [1, 2, 3, 4]
    assert fake.assembled("UPID") == data
    assert not checkpoint.exists()


@respx.mock
async def test_an_upload_the_service_forgot_starts_afresh_and_says_so(
    fake: FakeUploadAPI,
    client: Client,
    source: tuple[Path, bytes],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path, data = source
    checkpoint = tmp_path / "movie.checkpoint"
    await interrupted(fake, client, path, checkpoint, None, 400)
    forgot = httpx.Response(404, json={"error": "no such upload", "code": "NoSuchUpload"})
    fake.inject("upload", lambda _request: forgot)

    with caplog.at_level(logging.WARNING, logger="filestack_async"):
        await client.upload(filepath=path, resume=checkpoint)

    assert fake.starts == 2
    assert fake.assembled("UPID-2") == data
    assert any("no longer knows this upload" in r.getMessage() for r in caplog.records)
    assert not checkpoint.exists()


@respx.mock
async def test_a_changed_source_is_refused_before_any_request(
    fake: FakeUploadAPI, client: Client, source: tuple[Path, bytes], tmp_path: Path
) -> None:
    path, data = source
    checkpoint = tmp_path / "movie.checkpoint"
    await interrupted(fake, client, path, checkpoint, 400)
    sent = len(fake.requests)
    changed = bytearray(data)
    changed[-1] ^= 0xFF
    path.write_bytes(changed)

    with pytest.raises(CheckpointError) as info:
        await client.upload(filepath=path, resume=checkpoint)

    assert info.value.reason == "changed"
    assert "the source changed" in str(info.value)
    assert len(fake.requests) == sent
    assert checkpoint.exists()  # kept: the user decides


@respx.mock
async def test_a_checkpoint_of_another_file_is_refused(
    fake: FakeUploadAPI, client: Client, source: tuple[Path, bytes], tmp_path: Path
) -> None:
    path, _ = source
    checkpoint = tmp_path / "movie.checkpoint"
    await interrupted(fake, client, path, checkpoint, 400)
    other = tmp_path / "other.bin"
    other.write_bytes(random.Random(8).randbytes(6 * MiB))

    with pytest.raises(CheckpointError) as info:
        await client.upload(filepath=other, resume=checkpoint)

    assert info.value.reason == "other-file"
    assert "movie.bin" in str(info.value)


@respx.mock
async def test_a_seekable_file_object_resumes(
    fake: FakeUploadAPI, client: Client, source: tuple[Path, bytes], tmp_path: Path
) -> None:
    fake.install(respx.mock)
    fake.inject("put", None, 400)
    path, data = source
    checkpoint = tmp_path / "obj.checkpoint"
    with path.open("rb") as file, pytest.raises(UploadError):
        await client.upload(file_obj=file, resume=checkpoint)
    with path.open("rb") as file:
        await client.upload(file_obj=file, resume=checkpoint)
    assert put_parts(fake) == [1, 2, 2, 3, 4]
    assert fake.assembled("UPID") == data


@respx.mock
async def test_a_hostile_checkpoint_is_a_typed_error_and_nothing_is_sent(
    fake: FakeUploadAPI, client: Client, source: tuple[Path, bytes], tmp_path: Path
) -> None:
    fake.install(respx.mock)
    path, _ = source
    checkpoint = tmp_path / "bad.checkpoint"
    checkpoint.write_bytes(b'{"version": 1, "kind": "filestack-async upload checkpoint", ')
    with pytest.raises(CheckpointError) as info:
        await client.upload(filepath=path, resume=checkpoint)
    assert info.value.reason == "corrupt"
    assert fake.requests == []


@respx.mock
async def test_progress_counts_written_bytes_and_rewinds_a_retried_part(
    fake: FakeUploadAPI, retry_policy: RetryPolicy, source: tuple[Path, bytes]
) -> None:
    fake.install(respx.mock)
    fake.inject("put", 503)  # part 1's first PUT: its body was written, then refused
    path, _ = source
    reports: list[UploadProgress] = []
    config = replace(ONE_AT_A_TIME, progress_interval=0)
    async with Client(APIKEY, retry=retry_policy, upload=config) as client:
        await client.upload(filepath=path, progress=reports.append)

    assert all(r.bytes_sent is not None for r in reports)
    sent = [r.bytes_sent or 0 for r in reports]
    # blocks of part 1 counted before any part was acknowledged
    assert max(r.bytes_sent or 0 for r in reports if r.bytes_acknowledged == 0) == 5 * MiB
    # the retried part rewinds: written bytes drop back to the start of the part
    assert any(later < earlier for earlier, later in itertools.pairwise(sent))
    acknowledged = [r.bytes_acknowledged for r in reports]
    assert acknowledged == sorted(acknowledged)  # never goes back
    assert reports[-1].bytes_sent == reports[-1].total == 17 * MiB + 3
