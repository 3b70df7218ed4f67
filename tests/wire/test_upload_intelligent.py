"""Every request of an intelligent-ingestion upload (protocol §4), and chunk adaptation."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import respx

from filestack_async import (
    Client,
    PartUploadError,
    RetryPolicy,
    UploadConfig,
)

from ._upload_fake import HANDLE, LOCATION, STORAGE, FakeUploadAPI, md5_b64
from .conftest import APIKEY, POLICY, SECURITY, SIGNATURE, Sleeps

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found,unused-ignore]

MiB = 1024 * 1024
KiB = 1024


def data_of(size: int, seed: int = 2) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture
def fake() -> FakeUploadAPI:
    return FakeUploadAPI()


def config(**kwargs: Any) -> UploadConfig:
    return UploadConfig(**{"concurrency": 1, **kwargs})


@pytest.fixture
def make_client(retry_policy: RetryPolicy) -> Any:
    def make(**kwargs: Any) -> Client:
        return Client(APIKEY, retry=retry_policy, upload=config(**kwargs))

    return make


@respx.mock
async def test_every_request_of_an_intelligent_upload(
    fake: FakeUploadAPI, retry_policy: RetryPolicy, tmp_path: Path
) -> None:
    fake.install(respx.mock)
    data = data_of(9 * MiB)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    async with Client(APIKEY, security=SECURITY, retry=retry_policy) as client:
        link = await client.upload(
            filepath=path,
            intelligent=True,
            store_params={"path": "p/big.bin", "workflows": ["wf1"], "upload_tags": {"k": "v"}},
        )
    start_body = {
        "apikey": APIKEY,
        "filename": "big.bin",
        "mimetype": "application/octet-stream",
        "size": 9 * MiB,
        "fii": True,
        "store": {"location": "S3", "path": "p/big.bin"},
        "policy": POLICY,
        "signature": SIGNATURE,
    }
    assert fake.bodies("start") == [start_body]
    common = {
        "apikey": APIKEY,
        "uri": "/bucket/key/file",
        "region": "us-east-1",
        "upload_id": "UPID",
        "store": {"location": "S3"},
        "policy": POLICY,
        "signature": SIGNATURE,
    }
    assert sorted(fake.bodies("upload"), key=lambda b: b["part"]) == [
        {**common, "part": 1, "size": 8 * MiB, "md5": md5_b64(data[: 8 * MiB]), "offset": 0,
         "fii": True},
        {**common, "part": 2, "size": MiB, "md5": md5_b64(data[8 * MiB :]), "offset": 0,
         "fii": True},
    ]  # fmt: skip
    assert sorted(fake.bodies("commit"), key=lambda b: b["part"]) == [
        {**common, "part": 1, "size": 9 * MiB},
        {**common, "part": 2, "size": 9 * MiB},
    ]
    for request in fake.of("upload") + fake.of("commit") + fake.of("complete"):
        assert str(request.url).startswith(f"https://{LOCATION}/multipart/")
        assert request.headers["Filestack-Upload-Region"] == "eu-west-1"
    for request in fake.of("put"):
        assert str(request.url).startswith(STORAGE)
        assert "Filestack-Trace-Id" not in request.headers
        assert request.headers["Content-MD5"] == md5_b64(request.content)
    assert fake.bodies("complete") == [
        {
            **start_body,
            "store": {"location": "S3", "path": "p/big.bin", "workflows": ["wf1"]},
            "uri": "/bucket/key/file",
            "region": "us-east-1",
            "upload_id": "UPID",
            "upload_tags": {"k": "v"},
        }
    ]
    # every chunk of a part is acknowledged before that part is committed
    kinds = [kind for kind, _ in fake.requests]
    assert kinds.index("commit") > kinds.index("put")
    assert fake.assembled() == data
    assert link.handle == HANDLE and link.security == SECURITY


@respx.mock
async def test_chunks_go_in_order_at_offsets_within_each_part(
    fake: FakeUploadAPI, make_client: Any
) -> None:
    fake.install(respx.mock)
    data = data_of(12 * MiB)
    async with make_client(part_size=5 * MiB, intelligent_chunk_size=2 * MiB) as client:
        await client.upload(content=data, intelligent=True)
    chunks = [(b["part"], b["offset"], b["size"], b["md5"]) for b in fake.bodies("upload")]
    expected = []
    for part, part_start in ((1, 0), (2, 5 * MiB), (3, 10 * MiB)):
        part_size = min(5 * MiB, len(data) - part_start)
        for offset in range(0, part_size, 2 * MiB):
            size = min(2 * MiB, part_size - offset)
            begin = part_start + offset
            expected.append((part, offset, size, md5_b64(data[begin : begin + size])))
    assert chunks == expected
    assert [b["part"] for b in fake.bodies("commit")] == [1, 2, 3]
    assert fake.assembled() == data


@respx.mock
async def test_chunk_halves_on_network_errors_and_retries_5xx_at_the_same_size(
    fake: FakeUploadAPI, make_client: Any, sleeps: Sleeps
) -> None:
    fake.install(respx.mock)
    fake.inject("put", httpx.ConnectError, 503, httpx.WriteTimeout, httpx.ReadError, 408)
    data = data_of(8 * MiB)
    async with make_client() as client:
        await client.upload(content=data, intelligent=True)
    sizes = [size for _, _, size in fake.put_sizes]
    # connect error halves; 503 retries at the same size; write timeout, reset and 408 halve
    # (a read timeout keeps the size: tests/wire/test_reliability_fii_wire.py)
    failed = [8 * MiB, 4 * MiB, 4 * MiB, 2 * MiB, MiB]
    # 512 KiB sticks until 4 chunks in a row succeed, then doubles (capped by what is left)
    assert sizes == failed + [512 * KiB] * 4 + [MiB] * 4 + [2 * MiB]
    offsets = [offset for _, offset, _ in fake.put_sizes]
    assert offsets[:6] == [0] * 6  # the failed chunk is retried where it started
    assert sleeps == [0.375, 0.75, 1.5, 3.0, 6.0]  # backoff between attempts
    assert fake.assembled() == data


@respx.mock
async def test_a_failing_upload_post_is_retried_without_shrinking_the_chunk(
    fake: FakeUploadAPI, make_client: Any
) -> None:
    fake.install(respx.mock)
    fake.inject("upload", 502, httpx.ReadError)
    data = data_of(6 * MiB)
    async with make_client(intelligent_chunk_size=4 * MiB) as client:
        await client.upload(content=data, intelligent=True)
    assert [b["size"] for b in fake.bodies("upload")][:3] == [4 * MiB] * 3
    assert [size for _, _, size in fake.put_sizes] == [4 * MiB, 2 * MiB]
    assert fake.assembled() == data


@respx.mock
async def test_the_chunk_grows_back_after_a_run_of_successes(
    fake: FakeUploadAPI, make_client: Any
) -> None:
    fake.install(respx.mock)
    fake.inject("put", httpx.ConnectError)
    data = data_of(8 * MiB)
    async with make_client(intelligent_chunk_size=MiB) as client:
        await client.upload(content=data, intelligent=True)
    sizes = [size for _, _, size in fake.put_sizes]
    assert sizes == [MiB] + [512 * KiB] * 4 + [MiB] * 6
    assert fake.assembled() == data


@respx.mock
async def test_the_minimum_chunk_size_failing_ends_the_upload(
    fake: FakeUploadAPI, make_client: Any
) -> None:
    fake.install(respx.mock)
    fake.inject("put", *([httpx.ReadError] * 20))
    async with make_client(intelligent_chunk_size=MiB, min_chunk_size=256 * KiB) as client:
        with pytest.raises(PartUploadError) as info:
            await client.upload(content=data_of(6 * MiB), intelligent=True)
    error = info.value
    # halved to the floor, then retried there max_retries (4) times
    assert [size for _, _, size in fake.put_sizes] == [MiB, 512 * KiB] + [256 * KiB] * 5
    assert (error.part_number, error.offset, error.attempts) == (1, 0, 7)
    assert error.upload_id == "UPID" and error.parts_done == 0 and error.parts_total == 1
    assert "minimum chunk size (262144 bytes)" in str(error)
    assert "ReadError" in str(error)
    assert isinstance(error.__cause__, BaseExceptionGroup)
    assert fake.of("commit") == [] and fake.of("complete") == []


@respx.mock
async def test_the_failure_is_reported_at_its_offset_after_earlier_chunks(
    fake: FakeUploadAPI, make_client: Any
) -> None:
    fake.install(respx.mock)
    fake.inject("put", None, None, 403)
    async with make_client(intelligent_chunk_size=MiB) as client:
        with pytest.raises(PartUploadError) as info:
            await client.upload(content=data_of(6 * MiB), intelligent=True)
    assert (info.value.part_number, info.value.offset, info.value.attempts) == (1, 2 * MiB, 1)
    assert info.value.bytes_sent == 2 * MiB
    assert "not retryable" in str(info.value)


@pytest.mark.parametrize("status", [400, 401, 403, 404])
@respx.mock
async def test_4xx_is_not_retried(status: int, fake: FakeUploadAPI, make_client: Any) -> None:
    fake.install(respx.mock)
    fake.inject("put", status)
    async with make_client() as client:
        with pytest.raises(PartUploadError) as info:
            await client.upload(content=b"x" * 100, intelligent=True)
    assert len(fake.of("put")) == 1 and info.value.attempts == 1


@respx.mock
async def test_429_is_retried_at_the_same_size_after_retry_after(
    fake: FakeUploadAPI, make_client: Any, sleeps: Sleeps
) -> None:
    fake.install(respx.mock)
    fake.inject("put", lambda r: httpx.Response(429, headers={"Retry-After": "2"}))
    async with make_client() as client:
        await client.upload(content=data_of(MiB), intelligent=True)
    assert [size for _, _, size in fake.put_sizes] == [MiB, MiB]
    assert sleeps == [2.0]


@respx.mock
async def test_commit_is_retried_and_complete_202_polled(
    fake: FakeUploadAPI, make_client: Any, sleeps: Sleeps
) -> None:
    fake.complete_202s = 1
    fake.install(respx.mock)
    fake.inject("commit", 500)
    async with make_client() as client:
        link = await client.upload(content=b"abc", intelligent=True)
    assert len(fake.bodies("commit")) == 2 and len(fake.bodies("complete")) == 2
    assert fake.bodies("commit")[0] == fake.bodies("commit")[1]
    assert sleeps == [0.375, 0.375]
    assert link.handle == HANDLE


@respx.mock
async def test_two_uploads_at_once_keep_their_own_chunk_size(
    fake: FakeUploadAPI, retry_policy: RetryPolicy
) -> None:
    fake.install(respx.mock)
    failures = {"left": 3}
    seen: list[tuple[bytes, int]] = []

    def fail_a(request: httpx.Request) -> httpx.Response | None:
        seen.append((request.content[:1], len(request.content)))
        if request.content[:1] == b"A" and failures["left"] > 0:
            failures["left"] -= 1
            fake.faults["put"].insert(0, fail_a)
            raise httpx.ConnectError("injected")
        fake.faults["put"].insert(0, fail_a)
        return None

    fake.inject("put", fail_a)
    cfg = UploadConfig(concurrency=2, intelligent_chunk_size=MiB)
    async with Client(APIKEY, retry=retry_policy, upload=cfg) as client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: client.upload(content=b"A" * (3 * MiB), intelligent=True))
            tg.start_soon(lambda: client.upload(content=b"B" * (3 * MiB), intelligent=True))
    b_sizes = [size for first, size in seen if first == b"B"]
    a_sizes = [size for first, size in seen if first == b"A"]
    assert b_sizes == [MiB, MiB, MiB]
    assert a_sizes[:4] == [MiB, 512 * KiB, 256 * KiB, 128 * KiB]
    assert {fake.assembled("UPID"), fake.assembled("UPID-2")} == {b"A" * 3 * MiB, b"B" * 3 * MiB}


@respx.mock
async def test_a_new_upload_starts_at_the_initial_chunk_size(
    fake: FakeUploadAPI, make_client: Any
) -> None:
    fake.install(respx.mock)
    fake.inject("put", httpx.ConnectError, httpx.ConnectError)
    async with make_client(intelligent_chunk_size=MiB) as client:
        await client.upload(content=data_of(MiB), intelligent=True)
        assert [size for _, _, size in fake.put_sizes][:3] == [MiB, 512 * KiB, 256 * KiB]
        fake.put_sizes.clear()
        await client.upload(content=data_of(MiB), intelligent=True)
    assert [size for _, _, size in fake.put_sizes] == [MiB]


async def _aiter(data: bytes, step: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), step):
        yield data[i : i + step]


@respx.mock
async def test_json_bodies_are_sent_once_per_request(fake: FakeUploadAPI, make_client: Any) -> None:
    fake.install(respx.mock)
    async with make_client() as client:
        await client.upload(stream=_aiter(b"q" * 1000, 7), size=1000, intelligent=True)
    (upload,) = fake.bodies("upload")
    assert upload["size"] == 1000 and upload["offset"] == 0 and upload["fii"] is True
    assert json.loads(fake.of("commit")[0].content)["size"] == 1000


@respx.mock
async def test_5xx_on_a_chunk_is_retried_at_the_same_size_then_gives_up(
    fake: FakeUploadAPI, make_client: Any, sleeps: Sleeps
) -> None:
    fake.install(respx.mock)
    fake.inject("put", *([500] * 10))
    async with make_client(intelligent_chunk_size=MiB) as client:
        with pytest.raises(PartUploadError) as info:
            await client.upload(content=data_of(3 * MiB), intelligent=True)
    assert [size for _, _, size in fake.put_sizes] == [MiB] * 5
    assert info.value.attempts == 5 and "retries exhausted" in str(info.value)
    assert "500" in str(info.value)
    assert sleeps == [0.375, 0.75, 1.5, 3.0]


@respx.mock
async def test_a_small_tail_chunk_below_the_floor_is_retried_not_failed(
    fake: FakeUploadAPI, make_client: Any
) -> None:
    fake.install(respx.mock)
    fake.inject("put", httpx.ReadError, httpx.ReadError)
    data = data_of(100)  # one chunk, far below the 32 KiB floor
    async with make_client() as client:
        await client.upload(content=data, intelligent=True)
    assert [size for _, _, size in fake.put_sizes] == [100, 100, 100]
    assert fake.assembled() == data
