"""``Client(on_event=...)``: retries, chunk-size changes, parts done and resumed uploads."""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from filestack_async import (
    ChunkSizeChanged,
    Client,
    ConfigurationError,
    FallbackSwitched,
    PartDone,
    RetryEvent,
    RetryPolicy,
    UploadError,
    UploadResumed,
)

from ._upload_fake import FakeUploadAPI, s3_error
from .conftest import APIKEY, MULTIPART

MiB = 1024 * 1024
CONFIG = replace(MULTIPART, part_size=5 * MiB, concurrency=1)


@pytest.fixture
def fake() -> FakeUploadAPI:
    return FakeUploadAPI()


def data_file(tmp_path: Path, size: int) -> tuple[Path, bytes]:
    data = random.Random(9).randbytes(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    return path, data


@respx.mock
async def test_retries_and_parts_done_reach_the_hook_in_order(
    fake: FakeUploadAPI, retry_policy: RetryPolicy, tmp_path: Path
) -> None:
    fake.install(respx.mock)
    fake.inject("put", 503)
    path, _ = data_file(tmp_path, 11 * MiB)
    events: list[Any] = []
    async with Client(APIKEY, retry=retry_policy, upload=CONFIG, on_event=events.append) as c:
        await c.upload(filepath=path)

    retry, *done = events
    assert isinstance(retry, RetryEvent)
    assert retry.attempt == 1 and retry.delay > 0
    assert retry.what.startswith("PUT https://s3.fake/UPID/1/")
    assert "503" in retry.cause
    assert "X-Amz-Signature=SIGNED" not in retry.what  # credentials removed
    assert [(e.part_number, e.size, e.parts_done, e.parts_total) for e in done] == [
        (1, 5 * MiB, 1, 3),
        (2, 5 * MiB, 2, 3),
        (3, MiB, 3, 3),
    ]
    assert all(isinstance(e, PartDone) and e.upload_id == "UPID" for e in done)


@respx.mock
async def test_an_async_hook_sees_chunk_size_changes_of_intelligent_ingestion(
    fake: FakeUploadAPI, retry_policy: RetryPolicy, tmp_path: Path
) -> None:
    fake.install(respx.mock)
    fake.inject("put", httpx.WriteError("connection reset"))  # the link struggles: halve
    path, data = data_file(tmp_path, 6 * MiB)
    events: list[Any] = []

    async def hook(event: Any) -> None:
        events.append(event)

    config = replace(CONFIG, intelligent_chunk_size=4 * MiB, min_chunk_size=MiB)
    async with Client(APIKEY, retry=retry_policy, upload=config, on_event=hook) as c:
        await c.upload(filepath=path, intelligent=True)

    changed = [e for e in events if isinstance(e, ChunkSizeChanged)]
    assert changed[0] == ChunkSizeChanged("UPID", 1, 4 * MiB, 2 * MiB)
    retries = [e for e in events if isinstance(e, RetryEvent)]
    assert retries and retries[0].what == "PUT part 1 chunk at offset 0"
    assert [e.part_number for e in events if isinstance(e, PartDone)] == [1, 2]
    assert fake.assembled() == data


@respx.mock
async def test_a_storage_code_retry_of_a_regular_put_reaches_the_hook(
    fake: FakeUploadAPI, retry_policy: RetryPolicy, tmp_path: Path
) -> None:
    fake.install(respx.mock)
    fake.inject("put", s3_error(400, "RequestTimeout", "Your socket connection was not read"))
    path, data = data_file(tmp_path, 6 * MiB)
    events: list[Any] = []
    async with Client(APIKEY, retry=retry_policy, upload=CONFIG, on_event=events.append) as c:
        await c.upload(filepath=path)
    retry, *done = events
    assert isinstance(retry, RetryEvent)
    assert retry.what == "PUT part 1 (the storage answered 400 RequestTimeout)"
    assert retry.attempt == 1 and retry.delay > 0
    assert "RequestTimeout" in retry.cause
    assert [e.part_number for e in done if isinstance(e, PartDone)] == [1, 2]
    assert fake.assembled() == data


@respx.mock
async def test_a_fallback_switch_reaches_the_hook_once(
    fake: FakeUploadAPI, retry_policy: RetryPolicy, tmp_path: Path
) -> None:
    fake.install(respx.mock)
    fake.inject("put", None, httpx.ReadError("reset"), httpx.ReadError("reset"))
    path, data = data_file(tmp_path, 16 * MiB)
    events: list[Any] = []
    config = replace(CONFIG, intelligent_chunk_size=4 * MiB)
    async with Client(APIKEY, retry=retry_policy, upload=config, on_event=events.append) as c:
        await c.upload(filepath=path, intelligent="fallback")
    switched = [e for e in events if isinstance(e, FallbackSwitched)]
    assert len(switched) == 1
    assert switched[0].upload_id == "UPID" and switched[0].part_number == 2
    assert "reset" in switched[0].cause or "ReadError" in switched[0].cause
    assert [e.part_number for e in events if isinstance(e, PartDone)] == [1, 2, 3, 4]
    assert fake.assembled() == data


@respx.mock
async def test_a_resumed_upload_says_so(
    fake: FakeUploadAPI, retry_policy: RetryPolicy, tmp_path: Path
) -> None:
    fake.install(respx.mock)
    fake.inject("put", None, 400)
    path, _ = data_file(tmp_path, 11 * MiB)
    checkpoint = tmp_path / "cp"
    events: list[Any] = []
    async with Client(APIKEY, retry=retry_policy, upload=CONFIG, on_event=events.append) as c:
        with pytest.raises(UploadError):
            await c.upload(filepath=path, resume=checkpoint)
        events.clear()
        await c.upload(filepath=path, resume=checkpoint)
    assert events[0] == UploadResumed("UPID", str(checkpoint), 1, 5 * MiB)


@respx.mock
async def test_events_are_logged_at_debug(
    fake: FakeUploadAPI, retry_policy: RetryPolicy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.install(respx.mock)
    path, _ = data_file(tmp_path, 6 * MiB)
    with caplog.at_level(logging.DEBUG, logger="filestack_async"):
        async with Client(APIKEY, retry=retry_policy, upload=CONFIG) as c:
            await c.upload(filepath=path)
    logged = [r.getMessage() for r in caplog.records if r.name == "filestack_async.events"]
    assert len(logged) == 2 and all(m.startswith("PartDone(") for m in logged)


def test_a_hook_that_is_not_callable_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="on_event must be a callable"):
        Client(APIKEY, on_event="print")  # type: ignore[arg-type]
