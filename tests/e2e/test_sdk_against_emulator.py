"""The SDK's whole job against the emulator: uploads of every source kind and both flows,
faults, cancellation, and the File API, in-process and over a real loopback socket."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import pytest

import filestack_async as fa
from filestack_async import Client, RetryPolicy, UploadConfig
from filestack_async.emulator import Faults, NetworkProfile, RouteFault
from filestack_async.testing import EmulatorFactory

from .conftest import NoSleep, Target

MiB = 1024 * 1024


def stored(target: Target, link: fa.Filelink) -> bytes:
    return target.emulator.storage.read_bytes(link.handle)


@pytest.mark.parametrize("intelligent", [False, True], ids=["regular", "intelligent"])
@pytest.mark.parametrize("size", [1, 8 * MiB, 8 * MiB + 1, 19 * MiB + 5])
async def test_upload_by_path(target: Target, tmp_path: Path, intelligent: bool, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    link = await target.client.upload(filepath=path, intelligent=intelligent)
    assert stored(target, link) == data
    assert link.upload_response is not None
    assert link.upload_response["filename"] == "photo.jpg"
    assert link.upload_response["mimetype"] == "image/jpeg"
    assert await link.get_content() == data


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


class Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("intelligent", [False, True], ids=["regular", "intelligent"])
@pytest.mark.parametrize(
    "kind", ["content", "file_obj", "unseekable+size", "unseekable", "stream+size", "stream"]
)
async def test_every_source_kind(target: Target, kind: str, intelligent: bool) -> None:
    data = os.urandom(9 * MiB + 123)
    upload = target.client.upload
    if kind == "content":
        link = await upload(content=data, intelligent=intelligent)
    elif kind == "file_obj":
        link = await upload(file_obj=io.BytesIO(data), intelligent=intelligent)
    elif kind == "unseekable+size":
        link = await upload(file_obj=Unseekable(data), size=len(data), intelligent=intelligent)
    elif kind == "unseekable":
        link = await upload(file_obj=Unseekable(data), intelligent=intelligent)
    elif kind == "stream+size":
        link = await upload(stream=_chunks(data, 100_000), size=len(data), intelligent=intelligent)
    else:
        link = await upload(stream=_chunks(data, 100_000), intelligent=intelligent)
    assert stored(target, link) == data


async def test_store_params_reach_the_stored_file(target: Target) -> None:
    link = await target.client.upload(
        content=b"tagged",
        store_params={
            "filename": "t.txt",
            "mimetype": "text/plain",
            "path": "/docs/",
            "container": "box",
            "workflows": ["wf1"],
            "upload_tags": {"team": "a"},
        },
    )
    response = link.upload_response or {}
    assert response["upload_tags"] == {"team": "a"} and response["workflows"] == ["wf1"]
    meta = await link.metadata(["filename", "mimetype", "path", "container", "size"])
    assert meta == {
        "filename": "t.txt",
        "mimetype": "text/plain",
        "path": "/docs/",
        "container": "box",
        "size": 6,
    }


async def test_file_api_round_trip(target: Target, tmp_path: Path) -> None:
    data = os.urandom(2 * MiB + 3)
    link = await target.client.upload(content=data)
    out = tmp_path / "out.bin"
    assert await link.download(out) == len(data)
    assert out.read_bytes() == data
    meta = await link.metadata(["size", "md5", "sha256"])
    assert meta == {
        "size": len(data),
        "md5": hashlib.md5(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert link.signed_url().startswith(f"{target.client.endpoints.cdn}/security=p:")
    copy = await target.client.upload_url(link.signed_url(), {"filename": "copy.bin"})
    assert await copy.get_content() == data
    await link.overwrite(content=b"second version")
    assert await link.get_content() == b"second version"
    source = tmp_path / "third.bin"
    source.write_bytes(b"third version")
    await link.overwrite(filepath=source)
    assert await link.get_content() == b"third version"
    await link.overwrite(url=copy.signed_url())
    assert await link.get_content() == data
    await link.delete()
    with pytest.raises(fa.NotFoundError):
        await link.get_content()
    stored_copy = await copy.store(filename="stored-copy.bin")
    assert await stored_copy.get_content() == data


async def test_a_policy_that_forbids_uploads_is_a_permission_error(target: Target) -> None:
    from .conftest import SECRET

    read_only = fa.Security.create(SECRET, expires_in=60, call=["read"])
    with pytest.raises(fa.PermissionDeniedError, match="does not allow the 'pick' call"):
        await target.client.upload(content=b"nope", security=read_only)
    target.emulator.violations.clear()


async def test_intelligent_chunks_halve_until_they_fit(make_target: Callable[..., Target]) -> None:
    target = make_target(strict=True, faults=Faults(max_chunk_size=MiB))
    data = os.urandom(9 * MiB)
    async with target.client:
        link = await target.client.upload(content=data, intelligent=True)
    assert stored(target, link) == data
    assert target.emulator.faults.injected["put:too-big"] >= 3  # 8 -> 4 -> 2 -> 1 MiB
    assert target.emulator.violations.snapshot() == []


async def test_intelligent_upload_fails_clearly_at_the_floor(
    make_target: Callable[..., Target],
) -> None:
    target = make_target(faults=Faults(max_chunk_size=1000))
    async with target.client:
        with pytest.raises(fa.PartUploadError) as caught:
            await target.client.upload(content=os.urandom(100_000), intelligent=True)
    assert caught.value.part_number == 1 and caught.value.offset == 0
    assert caught.value.upload_id


async def test_faults_are_retried_and_bytes_arrive_intact(
    make_target: Callable[..., Target],
) -> None:
    faults = Faults(
        seed=11,
        rules=(
            RouteFault("put", error_rate=0.4, status=503, retry_after=0.5),
            RouteFault("upload", reset_rate=0.3),
        ),
        complete_202=2,
    )
    target = make_target(strict=True, faults=faults)
    data = os.urandom(30 * MiB + 1)
    async with target.client:
        regular = await target.client.upload(content=data)
        intelligent = await target.client.upload(content=data, intelligent=True)
    assert stored(target, regular) == data and stored(target, intelligent) == data
    injected = target.emulator.faults.injected
    assert injected["put:503"] > 0 and injected["upload:reset"] > 0
    assert injected["complete:202"] == 4
    assert 0.5 in target.sleeps  # a Retry-After was honoured


@pytest.mark.parametrize("concurrency", [1, 2])
@pytest.mark.parametrize("intelligent", [False, True])
async def test_non_seekable_parts_reuse_buffers_without_mixing_bytes(
    filestack_emulator_factory: EmulatorFactory, concurrency: int, intelligent: bool
) -> None:
    """A pipe-like source reuses released part buffers; with retried PUTs and several
    parts in flight, every part must still carry its own bytes."""
    faults = Faults(seed=5, rules=(RouteFault("put", error_rate=0.3, status=503),))
    emulator = filestack_emulator_factory(strict=True, faults=faults)
    data = os.urandom(4 * 5 * MiB + 12345)  # four whole 5 MiB parts and a short one

    config = UploadConfig(
        part_size=5 * MiB, concurrency=concurrency, intelligent_chunk_size=2 * MiB
    )
    retry = RetryPolicy(max_retries=10, sleep=NoSleep(), random=lambda: 0.5)
    async with emulator.client(upload=config, retry=retry) as client:
        link = await client.upload(
            file_obj=Unseekable(data), size=len(data), intelligent=intelligent
        )
        assert await link.get_content() == data
    assert emulator.faults.injected["put:503"] > 0
    assert [v.message for v in emulator.violations.snapshot()] == []


async def test_cancelling_an_upload_leaves_nothing_running(
    make_target: Callable[..., Target],
) -> None:
    profile = NetworkProfile(latency=0.01, bandwidth=20 * MiB)
    target = make_target(faults=Faults(network=profile))
    data = os.urandom(24 * MiB)
    async with target.client:
        before = len(asyncio.all_tasks())
        with anyio.move_on_after(0.3) as scope:
            await target.client.upload(content=data)
        assert scope.cancelled_caught
        await anyio.sleep(0.05)
        assert len(asyncio.all_tasks()) == before
        target.emulator.set_faults(Faults())
        link = await target.client.upload(content=b"after the cancel")
        assert await link.get_content() == b"after the cancel"


async def test_upload_many_reports_each_result(target: Target, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"from a path")
    results = await target.client.upload_many(
        [path, b"raw bytes", fa.UploadItem(content=b"item"), tmp_path / "missing.txt"],
        concurrency=3,
    )
    assert [type(r).__name__ for r in results] == [
        "Filelink",
        "Filelink",
        "Filelink",
        "ConfigurationError",
    ]
    contents = [await r.get_content() for r in results if isinstance(r, fa.Filelink)]
    assert contents == [b"from a path", b"raw bytes", b"item"]


async def test_custom_part_size_and_concurrency(filestack_emulator_server) -> None:  # type: ignore[no-untyped-def]
    config = UploadConfig(part_size=5 * MiB, concurrency=2, max_parts_in_flight=3)
    data = os.urandom(16 * MiB)
    async with Client("K", base_url=filestack_emulator_server.url, upload=config) as client:
        link = await client.upload(content=data)
        assert await link.get_content() == data


async def test_the_shipped_client_fixture(filestack_client: Client) -> None:
    link = await filestack_client.upload(content=b"fixture")
    assert await link.get_content() == b"fixture"


async def test_retries_give_up_with_a_typed_error(make_target: Callable[..., Target]) -> None:
    target = make_target(faults=Faults(rules=(RouteFault("cdn", error_rate=1.0, status=503),)))
    async with target.client:
        link = await target.client.upload(content=b"x")
        with pytest.raises(fa.InternalServerError):
            await link.get_content()
    assert len(target.sleeps) == RetryPolicy().max_retries
