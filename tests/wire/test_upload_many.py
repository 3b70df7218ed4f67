"""``Client.upload_many``: one result per item, failures as values, a bound on files in flight."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import respx

from filestack_async import (
    Client,
    ConfigurationError,
    Filelink,
    RetryPolicy,
    UploadItem,
    UploadProgress,
)

from ._upload_fake import FakeUploadAPI
from .conftest import APIKEY


@respx.mock
async def test_results_follow_the_items_and_failures_are_values(
    client: Client, tmp_path: Path
) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    path = tmp_path / "a.txt"
    path.write_bytes(b"from a path")
    items: list[Any] = [
        path,
        str(path),
        b"raw bytes",
        tmp_path / "missing.txt",
        UploadItem(file_obj=io.BytesIO(b"file object"), store_params={"filename": "f.bin"}),
        {"content": b"from a dict", "store_params": {"filename": "d.txt"}},
        {"colour": "red"},
        42,
    ]
    results = await client.upload_many(items, concurrency=3, store_params={"path": "up/"})
    assert len(results) == len(items)
    for index in (0, 1, 2, 4, 5):
        assert isinstance(results[index], Filelink)
    assert isinstance(results[3], ConfigurationError) and "no such file" in str(results[3])
    assert isinstance(results[6], ConfigurationError) and "colour" in str(results[6])
    assert isinstance(results[7], ConfigurationError) and "int" in str(results[7])
    starts = fake.bodies("start")
    assert sorted(s["filename"] for s in starts) == [
        "a.txt",
        "a.txt",
        "d.txt",
        "f.bin",
        "unnamed_file",
    ]
    assert all(s["store"] == {"location": "S3", "path": "up/"} for s in starts)
    contents = sorted(data for stored in fake.stored.values() for data in stored.values())
    assert contents == sorted(
        [b"from a path", b"from a path", b"raw bytes", b"file object", b"from a dict"]
    )


@respx.mock
async def test_a_failing_upload_does_not_stop_the_others(client: Client) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    fake.hooks["put"] = lambda r: httpx.Response(400) if r.content == b"bad" else None
    results = await client.upload_many([b"good 1", b"bad", b"good 2"])
    assert isinstance(results[0], Filelink) and isinstance(results[2], Filelink)
    assert "400" in str(results[1])


@respx.mock
async def test_files_in_flight_are_bounded(client: Client) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    active = {"now": 0, "max": 0}

    def started(request: httpx.Request) -> None:
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])

    def finished(request: httpx.Request) -> None:
        active["now"] -= 1

    fake.hooks["start"] = started
    fake.hooks["complete"] = finished
    results = await client.upload_many([b"x%d" % i for i in range(12)], concurrency=3)
    assert all(isinstance(r, Filelink) for r in results)
    assert 1 <= active["max"] <= 3


@respx.mock
async def test_progress_carries_the_item_index(client: Client) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    seen: list[UploadProgress] = []
    await client.upload_many([b"a", b"bb", b"ccc"], progress=seen.append)
    finals = sorted((p.index, p.bytes_acknowledged) for p in seen if p.done)
    assert finals == [(0, 1), (1, 2), (2, 3)]


@respx.mock
async def test_cancellation_is_not_turned_into_results(client: Client) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    fake.hooks["put"] = lambda r: scope.cancel()
    results = None
    with anyio.CancelScope() as scope:
        results = await client.upload_many([b"a", b"b"])
    assert results is None


@pytest.mark.parametrize(
    ("items", "kwargs", "message"),
    [
        ("a.txt", {}, "wrap a single one in a list"),
        (b"abc", {}, "wrap a single one in a list"),
        ([b"a"], {"concurrency": 0}, "concurrency must be"),
        ([b"a"], {"store_params": {"nope": 1}}, "unknown store parameter"),
    ],
)
async def test_bad_calls(items: Any, kwargs: dict[str, Any], message: str, client: Client) -> None:
    with pytest.raises(ConfigurationError, match=message):
        await client.upload_many(items, **kwargs)


async def test_an_empty_list(retry_policy: RetryPolicy) -> None:
    async with Client(APIKEY, retry=retry_policy) as client:
        assert await client.upload_many([]) == []
