"""The sync facade's streaming download: a sync context manager yielding a sync iterator
of bytes, over the same resumable stream as the async API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")

from filestack_async.emulator.config import DownloadCut, Faults
from filestack_async.sync import ConfigurationError, Filelink, SyncDownloadStream

from .test_emulator import Target, open_target

KiB = 1024


@pytest.fixture(params=["in-process", "socket"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    with open_target(request.param, tmp_path, secret=None) as found:
        yield found


def test_a_sync_stream_iterates_and_resumes(target: Target) -> None:
    data = os.urandom(900 * KiB + 3)
    link = target.client.upload(content=data, store_params={"mimetype": "text/plain"})
    target.emulator.set_faults(
        Faults(seed=1, download_cut=DownloadCut(rate=1.0, offset=100 * KiB, max_offset=300 * KiB))
    )
    with link.stream() as body:
        assert isinstance(body, SyncDownloadStream)
        assert (body.size, body.length, body.mimetype) == (len(data), len(data), "text/plain")
        assert body.etag is not None
        got = b"".join(body)
        assert body.resumes >= 2 and body.received == len(data)
    assert got == data
    with link.stream(start=10, end=19) as body:
        assert (body.start, body.end, body.length) == (10, 19, 10)
        assert list(body) and body.received == 10


def test_leaving_the_block_early_closes_the_stream(target: Target) -> None:
    data = os.urandom(600 * KiB)
    link = target.client.upload(content=data)
    with link.stream() as body:
        first = next(iter(body))
    assert data.startswith(first)
    # the pool is free again: the next call goes through
    assert link.get_content() == data
    with link.stream(end=0) as body:
        assert b"".join(body) == data[:1]


def test_a_link_made_without_a_client_holds_the_loop_for_the_block(target: Target) -> None:
    link = target.client.upload(content=b"standalone bytes")
    # the sync twin of a link built outside the client: its calls take a lease per call,
    # and a stream holds one for the whole block
    alone = Filelink(link.handle, context=target.client.context)
    with alone.stream(start=11) as body:
        assert b"".join(body) == b"bytes"
    with pytest.raises(ConfigurationError, match="before start"):
        alone.stream(start=5, end=1)
