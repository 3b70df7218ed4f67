"""Intelligent ingestion after a read timeout: the chunk's whole body was sent and the
service may still store it, so the retry keeps the offset *and* the size (a late copy
then equals the retry instead of overlapping smaller chunks after it)."""

from __future__ import annotations

import random

import httpx
import pytest
import respx

from filestack_async import Client, PartUploadError, RetryPolicy, UploadConfig

from ._upload_fake import FakeUploadAPI
from .conftest import APIKEY, Sleeps

MiB = 1024 * 1024
DATA = random.Random(9).randbytes(3 * MiB + 5)


def _client(retry_policy: RetryPolicy) -> Client:
    config = UploadConfig(concurrency=1, intelligent_chunk_size=MiB, min_chunk_size=64 * 1024)
    return Client(APIKEY, retry=retry_policy, upload=config)


@respx.mock
async def test_a_read_timeout_keeps_the_chunk_size(retry_policy: RetryPolicy) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    fake.inject("put", None, httpx.ReadTimeout, httpx.ReadTimeout, httpx.WriteTimeout, 503)
    async with _client(retry_policy) as client:
        await client.upload(content=DATA, intelligent=True)
    # the chunk at 1 MiB keeps its size through two read timeouts, then a write timeout
    # (which would otherwise halve it) and a 503; nothing at that offset is smaller
    assert fake.put_sizes[:6] == [(1, 0, MiB)] + [(1, MiB, MiB)] * 5
    assert [size for _, offset, size in fake.put_sizes if offset == MiB] == [MiB] * 5
    assert fake.assembled() == DATA


@respx.mock
async def test_a_write_timeout_still_halves(retry_policy: RetryPolicy) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    fake.inject("put", httpx.WriteTimeout, httpx.ConnectTimeout)
    async with _client(retry_policy) as client:
        await client.upload(content=DATA, intelligent=True)
    assert [size for _, _, size in fake.put_sizes[:3]] == [MiB, MiB // 2, MiB // 4]
    assert fake.assembled() == DATA


@respx.mock
async def test_read_timeouts_are_bounded_by_max_retries(sleeps: Sleeps) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    fake.inject("put", *([httpx.ReadTimeout] * 10))
    policy = RetryPolicy(max_retries=3, sleep=sleeps, random=lambda: 0.5)
    async with _client(policy) as client:
        with pytest.raises(PartUploadError, match="retries exhausted") as caught:
            await client.upload(content=DATA, intelligent=True)
    assert caught.value.offset == 0 and caught.value.attempts == 4
    assert {size for _, _, size in fake.put_sizes} == {MiB}
