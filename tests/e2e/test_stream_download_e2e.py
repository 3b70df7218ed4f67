"""Streaming downloads end to end: ranges, and connections cut mid-body resumed byte-exact.

Against a strict, security-enforcing emulator, in-process and over a loopback socket on
both pools; the cuts are the emulator's seeded download-cut fault.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from filestack_async import (
    APIConnectionError,
    ContentChangedError,
    RangeNotSatisfiableError,
)
from filestack_async.emulator.config import DownloadCut, Faults

from .conftest import Target

KiB = 1024
MiB = 1024 * KiB


async def _read(
    target: Target, handle: str, start: int | None = None, end: int | None = None
) -> tuple[bytes, int]:
    async with target.client.filelink(handle).stream(start=start, end=end) as body:
        data = b"".join([chunk async for chunk in body])
        assert body.received == len(data)
        return data, body.resumes


async def test_size_type_and_etag_are_known_before_the_first_byte(target: Target) -> None:
    data = os.urandom(300 * KiB)
    link = await target.client.upload(content=data, store_params={"mimetype": "image/png"})
    async with link.stream() as body:
        assert (body.size, body.length, body.start, body.end) == (
            len(data),
            len(data),
            0,
            len(data) - 1,
        )
        assert body.mimetype == "image/png"
        assert body.etag is not None and body.etag.startswith('"')
        assert body.received == 0
        assert b"".join([chunk async for chunk in body]) == data


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 0, slice(0, 1)),
        (10, 19, slice(10, 20)),  # end=start+n-1 gives n bytes
        (None, 99, slice(0, 100)),
        (1000, None, slice(1000, None)),
        (5000, 10**9, slice(5000, None)),  # past the end: to the end
    ],
)
async def test_byte_ranges_are_inclusive(
    target: Target, start: int | None, end: int | None, expected: slice
) -> None:
    data = os.urandom(8 * KiB)
    link = await target.client.upload(content=data)
    async with link.stream(start=start, end=end) as body:
        got = b"".join([chunk async for chunk in body])
        assert body.size == len(data)
        assert body.length == len(got)
    assert got == data[expected]


async def test_a_start_past_the_end_is_a_typed_416(target: Target) -> None:
    link = await target.client.upload(content=b"0123456789")
    with pytest.raises(RangeNotSatisfiableError, match="start=10 is past the end") as caught:
        async with link.stream(start=10):
            pass
    assert caught.value.status_code == 416


async def test_cuts_mid_body_are_resumed_byte_exact(target: Target) -> None:
    data = os.urandom(3 * MiB + 7)
    link = await target.client.upload(content=data)
    # every answer is cut after 256-768 KiB: the download needs many attempts
    target.emulator.set_faults(
        Faults(seed=3, download_cut=DownloadCut(rate=1.0, offset=256 * KiB, max_offset=768 * KiB))
    )
    got, resumes = await _read(target, link.handle)
    assert got == data
    assert resumes >= 4
    cuts = target.emulator.faults.injected["cdn:cut"]
    assert cuts == resumes
    # a range is resumed inside the range
    got, resumes = await _read(target, link.handle, start=MiB + 1, end=2 * MiB + 500 * KiB)
    assert got == data[MiB + 1 : 2 * MiB + 500 * KiB + 1]
    assert resumes >= 1


async def test_download_and_get_content_resume_too(target: Target, tmp_path: Path) -> None:
    data = os.urandom(2 * MiB + 3)
    link = await target.client.upload(content=data)
    target.emulator.set_faults(
        Faults(seed=5, download_cut=DownloadCut(rate=0.7, offset=100 * KiB, max_offset=600 * KiB))
    )
    folder = tmp_path / "out"
    folder.mkdir()
    destination = folder / "out.bin"
    assert await link.download(destination) == len(data)
    assert destination.read_bytes() == data
    assert await link.get_content() == data
    assert target.emulator.faults.injected["cdn:cut"] >= 3
    assert sorted(p.name for p in folder.iterdir()) == ["out.bin"]  # no partial left


async def test_too_many_cuts_in_a_row_fail_and_leave_no_file(
    target: Target, tmp_path: Path
) -> None:
    data = os.urandom(512 * KiB)
    link = await target.client.upload(content=data)
    # every answer is cut before its first byte: no progress, so the policy runs out
    target.emulator.set_faults(Faults(download_cut=DownloadCut(rate=1.0, offset=0)))
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(APIConnectionError):
        await link.download(folder / "out.bin")
    assert list(folder.iterdir()) == []
    # the default policy: 4 retries, each a resume
    assert target.emulator.faults.injected["cdn:cut"] == 5
    assert len(target.sleeps) == 4


async def test_a_file_overwritten_between_attempts_is_never_spliced(target: Target) -> None:
    first = os.urandom(MiB)
    second = os.urandom(MiB)
    link = await target.client.upload(content=first)
    target.emulator.set_faults(Faults(download_cut=DownloadCut(rate=1.0, offset=300 * KiB)))
    received = bytearray()
    with pytest.raises(ContentChangedError, match="changed while it was being downloaded"):
        async with link.stream() as body:
            async for chunk in body:
                if not received:  # the first answer is still open, and is cut later
                    await link.overwrite(content=second)
                received += chunk
    assert 0 < len(received) < len(first)
    assert bytes(received) == first[: len(received)]


async def test_a_transformation_result_streams_in_ranges_and_resumes(target: Target) -> None:
    image = Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    link = await target.client.upload(content=buffer.getvalue())
    chain = link.flip()
    whole = await chain.get_content()
    async with chain.stream() as body:
        assert body.size == len(whole) and body.mimetype == "image/png"
        assert body.etag is not None  # the result's own ETag: it can be resumed
    async with chain.stream(start=100, end=199) as body:
        assert b"".join([c async for c in body]) == whole[100:200]
    target.emulator.set_faults(
        Faults(seed=9, download_cut=DownloadCut(rate=1.0, offset=20 * KiB, max_offset=60 * KiB))
    )
    async with chain.stream() as body:
        assert b"".join([c async for c in body]) == whole
        assert body.resumes >= 2
