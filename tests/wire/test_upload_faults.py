"""Faults on parts: retries re-read the same bytes, one failure stops the rest, honest progress."""

from __future__ import annotations

import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
import respx

from filestack_async import (
    Client,
    InternalServerError,
    RetryPolicy,
    UploadConfig,
    UploadError,
    UploadProgress,
)

from ._upload_fake import FakeUploadAPI, md5_b64
from .conftest import APIKEY, Sleeps

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found,unused-ignore]

MiB = 1024 * 1024
DATA = random.Random(4).randbytes(21 * MiB + 5)


@pytest.fixture
async def client(retry_policy: RetryPolicy) -> AsyncIterator[Client]:
    config = UploadConfig(part_size=5 * MiB, concurrency=2, multipart_threshold=0)
    async with Client(APIKEY, retry=retry_policy, upload=config) as c:
        yield c


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "data.bin"
    p.write_bytes(DATA)
    return p


@respx.mock
async def test_5xx_resets_and_timeouts_on_parts_are_retried(
    client: Client, path: Path, sleeps: Sleeps
) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    fake.inject("upload", 503, httpx.ConnectError, 500)
    fake.inject("put", httpx.ReadError, httpx.WriteTimeout, 502, httpx.RemoteProtocolError)
    link = await client.upload(filepath=path)
    assert fake.assembled() == DATA
    assert len(fake.of("put")) == 5 + 4 and len(fake.of("upload")) == 5 + 3
    # each retried PUT re-read exactly its part's range from the file
    for request in fake.of("put"):
        part = int(request.url.path.split("/")[2])
        begin = (part - 1) * 5 * MiB
        assert request.content == DATA[begin : begin + 5 * MiB]
        assert request.headers["Content-MD5"] == md5_b64(request.content)
    assert len(sleeps) == 7
    assert link.upload_response is not None


@respx.mock
async def test_retries_exhausted_on_one_part_fail_the_upload_once(
    client: Client, path: Path
) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    seen: list[UploadProgress] = []
    fake.hooks["put"] = lambda r: httpx.Response(500) if "/3/" in r.url.path else None
    with pytest.raises(UploadError) as info:
        await client.upload(filepath=path, progress=seen.append)
    error = info.value
    assert type(error) is UploadError
    assert error.upload_id == "UPID"
    assert error.parts_total == 5
    assert 1 <= error.parts_done <= 4
    assert error.parts_done * (MiB + 5) <= error.bytes_sent <= error.parts_done * 5 * MiB
    assert "500" in str(error) and "at part" in str(error)
    group = error.__cause__
    assert isinstance(group, BaseExceptionGroup)
    assert [type(e) for e in group.exceptions] == [InternalServerError]
    assert fake.of("complete") == []
    assert seen and all(p.bytes_acknowledged < p.total for p in seen)


@respx.mock
async def test_a_failing_part_cancels_the_parts_in_flight(retry_policy: RetryPolicy) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    started = anyio.Event()
    cancelled: list[int] = []

    async def slow_put(request: httpx.Request) -> httpx.Response:
        part = int(request.url.path.split("/")[2])
        if part == 2:
            await started.wait()
            return httpx.Response(400, text="bad digest")
        started.set()
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.append(part)
        raise AssertionError("unreachable")

    respx.put(url__startswith="https://s3.fake").mock(side_effect=slow_put)
    config = UploadConfig(part_size=5 * MiB, concurrency=2)
    async with Client(APIKEY, retry=retry_policy, upload=config) as client:
        with pytest.raises(UploadError, match="400"):
            await client.upload(content=DATA[: 10 * MiB])
    assert cancelled == [1]
    assert fake.of("complete") == []


@respx.mock
async def test_parts_flow_through_a_sliding_window_not_waves(retry_policy: RetryPolicy) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    release_first = anyio.Event()
    order: list[str] = []

    async def put(request: httpx.Request) -> httpx.Response:
        part = int(request.url.path.split("/")[2])
        order.append(f"start {part}")
        if part == 1:
            await release_first.wait()
        if part == 4:
            release_first.set()  # parts 2, 3 and 4 went by while part 1 was in flight
        order.append(f"end {part}")
        return httpx.Response(200, headers={"ETag": f'"e{part}"'})

    respx.put(url__startswith="https://s3.fake").mock(side_effect=put)
    config = UploadConfig(part_size=5 * MiB, concurrency=2)
    async with Client(APIKEY, retry=retry_policy, upload=config) as client:
        await client.upload(content=DATA[: 20 * MiB])
    assert order.index("start 3") < order.index("end 1")
    assert order.index("start 4") < order.index("end 1")
    (complete,) = fake.bodies("complete")
    assert complete["parts"] == [{"part_number": n, "etag": f'"e{n}"'} for n in (1, 2, 3, 4)]


@respx.mock
async def test_parts_in_flight_respect_concurrency_and_the_client_limit(
    retry_policy: RetryPolicy,
) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    in_flight = {"now": 0, "max": 0, "started": 0, "target": 3, "total": 12}

    async def put(request: httpx.Request) -> httpx.Response:
        in_flight["now"] += 1
        in_flight["started"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        # hold each PUT until as many as allowed are in flight (or no more will come)
        while in_flight["now"] < in_flight["target"] and in_flight["started"] < in_flight["total"]:
            await anyio.lowlevel.checkpoint()
        in_flight["now"] -= 1
        return httpx.Response(200, headers={"ETag": '"e"'})

    respx.put(url__startswith="https://s3.fake").mock(side_effect=put)
    config = UploadConfig(part_size=5 * MiB, concurrency=4, max_parts_in_flight=3)
    async with Client(APIKEY, retry=retry_policy, upload=config) as client:
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(lambda: client.upload(content=DATA[: 20 * MiB]))
    assert in_flight["max"] == 3

    in_flight.update(max=0, started=0, target=2, total=4)
    config = UploadConfig(part_size=5 * MiB, concurrency=2, max_parts_in_flight=16)
    async with Client(APIKEY, retry=retry_policy, upload=config) as client:
        await client.upload(content=DATA[: 20 * MiB])
    assert in_flight["max"] == 2


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@respx.mock
async def test_progress_is_monotonic_and_ends_with_the_total_once(
    client: Client, path: Path, asynchronous: bool
) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    fake.inject("put", None, httpx.ReadError, 503)  # two parts are retried
    seen: list[UploadProgress] = []

    async def async_callback(p: UploadProgress) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(p)

    callback: Any = async_callback if asynchronous else seen.append
    await client.upload(filepath=path, progress=callback)
    values = [p.bytes_acknowledged for p in seen]
    assert values[0] == 0
    assert values == sorted(set(values))  # strictly increasing
    assert values[-1] == len(DATA) and values.count(len(DATA)) == 1
    sizes = [5 * MiB] * 4 + [MiB + 5]
    sums = {sum(s for i, s in enumerate(sizes) if mask >> i & 1) for mask in range(32)}
    assert set(values) <= sums  # whole parts only
    assert len(values) <= 1 + 5  # a retried part is counted once, when acknowledged
    assert all(p.total == len(DATA) and p.index is None for p in seen)
    assert seen[-1].done and seen[-1].fraction == 1.0


@respx.mock
async def test_progress_never_reports_done_when_complete_fails(client: Client) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    fake.inject("complete", 400)
    seen: list[UploadProgress] = []
    with pytest.raises(UploadError, match="every part was sent but complete failed"):
        await client.upload(content=DATA[:100], progress=seen.append)
    assert [p.bytes_acknowledged for p in seen] == [0]


@respx.mock
async def test_intelligent_progress_counts_chunks(retry_policy: RetryPolicy) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    fake.inject("put", None, httpx.ConnectError)
    config = UploadConfig(concurrency=1, intelligent_chunk_size=2 * MiB)
    seen: list[int] = []
    async with Client(APIKEY, retry=retry_policy, upload=config) as client:
        await client.upload(
            content=DATA[: 6 * MiB],
            intelligent=True,
            progress=lambda p: seen.append(p.bytes_acknowledged),
        )
    assert seen == [0, 2 * MiB, 3 * MiB, 4 * MiB, 5 * MiB, 6 * MiB]
