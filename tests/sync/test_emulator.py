"""The sync client end to end against the emulator, in-process and over a loopback socket."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found,unused-ignore]

# the emulator extra
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("PIL")

from filestack_async import NotFoundError, Security, UploadError, UploadProgress
from filestack_async.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorServer,
    EmulatorTransport,
)
from filestack_async.emulator.app import IN_PROCESS_URL
from filestack_async.sync import Client, Filelink, UploadConfig

MiB = 1024 * 1024
SECRET = "SYNC-E2E-SECRET"


@dataclass
class Target:
    client: Client
    emulator: Emulator


@contextmanager
def open_target(kind: str, tmp_path: Path, *, secret: str | None) -> Iterator[Target]:
    """A sync client and the emulator it talks to, in-process or over a loopback socket."""
    options: dict[str, Any] = {"upload": UploadConfig(part_size=5 * MiB, concurrency=3)}
    settings: dict[str, Any] = {"strict": True}
    if secret is not None:
        options["security"] = Security.create(secret, expires_in=3600)
        settings["secret"] = secret
    if kind == "in-process":
        emulator = Emulator(EmulatorConfig(data_dir=tmp_path / "emu", **settings))
        try:
            transport = EmulatorTransport(emulator.app)
            with Client("SYNC-KEY", base_url=IN_PROCESS_URL, transport=transport, **options) as c:
                yield Target(c, emulator)
            assert [v.message for v in emulator.violations.snapshot()] == []
        finally:
            emulator.close()
    else:
        with EmulatorServer(data_dir=tmp_path / "srv", **settings) as server:
            with Client("SYNC-KEY", base_url=server.url, **options) as c:
                yield Target(c, server.emulator)
            assert [v.message for v in server.emulator.violations.snapshot()] == []


@pytest.fixture(params=["in-process", "socket"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """A security-enforcing emulator and a client with a policy."""
    with open_target(request.param, tmp_path, secret=SECRET) as found:
        yield found


@pytest.fixture(params=["in-process", "socket"])
def open_emulator_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """An emulator without an app secret, and a client without security."""
    with open_target(request.param, tmp_path, secret=None) as found:
        yield found


@pytest.mark.parametrize("intelligent", [False, True], ids=["regular", "intelligent"])
def test_upload_read_and_download(target: Target, tmp_path: Path, intelligent: bool) -> None:
    data = os.urandom(11 * MiB + 7)
    path = tmp_path / "movie.bin"
    path.write_bytes(data)
    reports: list[UploadProgress] = []
    link = target.client.upload(filepath=path, intelligent=intelligent, progress=reports.append)
    assert isinstance(link, Filelink)
    assert reports[0].bytes_acknowledged == 0 and reports[-1].done
    assert link.get_content() == data
    assert link.download(tmp_path / "copy.bin") == len(data)
    assert (tmp_path / "copy.bin").read_bytes() == data
    assert link.metadata(["size", "filename"]) == {"size": len(data), "filename": "movie.bin"}


def test_many_uploads_overwrite_and_delete(target: Target) -> None:
    results = target.client.upload_many([b"one", b"two", b"three"], concurrency=2)
    links = [r for r in results if isinstance(r, Filelink)]
    assert [link.get_content() for link in links] == [b"one", b"two", b"three"]
    first = links[0]
    assert first.store(filename="signed-copy.txt").get_content() == b"one"
    first.overwrite(content=b"replaced")
    assert first.get_content() == b"replaced"
    first.delete()
    with pytest.raises(NotFoundError):
        first.get_content()


def test_store_a_copy(open_emulator_target: Target) -> None:
    link = open_emulator_target.client.upload(
        content=b"original bytes", store_params={"filename": "a.txt"}
    )
    copy = link.store(filename="copy.txt")
    assert isinstance(copy, Filelink)
    assert copy.handle != link.handle
    assert copy.get_content() == b"original bytes"


@pytest.mark.parametrize("intelligent", [False, True], ids=["regular", "intelligent"])
def test_an_interrupted_upload_resumes_through_the_sync_facade(
    target: Target, tmp_path: Path, intelligent: bool
) -> None:
    data = os.urandom(16 * MiB + 5)  # four parts of 5 MiB
    path = tmp_path / "movie.bin"
    path.write_bytes(data)
    checkpoint = tmp_path / "movie.checkpoint"

    class Stop(Exception):
        """Raised by the progress callback: the upload stops as a failing app would."""

    def stop_after_a_part(report: UploadProgress) -> None:
        if report.bytes_acknowledged >= 5 * MiB:
            raise Stop

    with pytest.raises(UploadError) as info:
        target.client.upload(
            filepath=path, intelligent=intelligent, resume=checkpoint, progress=stop_after_a_part
        )
    assert isinstance(info.value.__cause__, BaseExceptionGroup)
    assert checkpoint.exists()
    link = target.client.upload(filepath=path, intelligent=intelligent, resume=checkpoint)
    assert link.get_content() == data
    assert not checkpoint.exists()
