"""Empty files upload end to end (both flows, every source kind) against the emulator."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .conftest import Target


async def _nothing() -> AsyncIterator[bytes]:
    empty: tuple[bytes, ...] = ()
    for block in empty:
        yield block


@pytest.mark.parametrize("intelligent", [False, True], ids=["regular", "intelligent"])
async def test_an_empty_file_uploads(target: Target, tmp_path: Path, intelligent: bool) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    link = await target.client.upload(
        filepath=path, intelligent=intelligent, store_params={"path": "e2e/empty.txt"}
    )
    assert target.emulator.storage.read_bytes(link.handle) == b""
    assert await link.get_content() == b""
    meta = await link.metadata()
    assert meta["size"] == 0 and meta["filename"] == "empty.txt"
    assert meta["mimetype"] == "text/plain" and meta["path"] == "e2e/empty.txt"


async def test_every_empty_source_kind(target: Target) -> None:
    links = [
        await target.client.upload(content=b""),
        await target.client.upload(file_obj=io.BytesIO()),
        await target.client.upload(stream=_nothing()),
        await target.client.upload(stream=_nothing(), size=0),
    ]
    assert len({link.handle for link in links}) == 4
    for link in links:
        assert await link.get_content() == b""
