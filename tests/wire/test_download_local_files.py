"""Downloads to local files the file system resists: long names, full disks, read-only folders.

A legal file name (up to the folder's NAME_MAX bytes) downloads; a longer one is a
`ConfigurationError` before any request. A full disk or a folder that refuses files
is a `LocalFileError` (also an `OSError`) naming the destination, and nothing is left
behind: no temporary file, the old destination untouched.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import filestack_async as fa
from filestack_async import Client, ConfigurationError, LocalFileError
from filestack_async._files import name_max, partial_path
from tests.fakes import fill_disk_after

from .conftest import CDN, HANDLE, SECURITY

BODY = bytes(range(256)) * 40  # 10 KiB


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


class _Watching(httpx.AsyncByteStream):
    """A body that records the folder's names while the download is under way."""

    def __init__(self, folder: Path, seen: list[list[str]]) -> None:
        self.folder, self.seen = folder, seen

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield BODY[:5000]
        self.seen.append(_names(self.folder))
        yield BODY[5000:]


@pytest.mark.parametrize(
    "name",
    ["a" * 250, "b" * 251 + ".bin", "é" * 127, "目" * 85, "x" * 240 + "目" * 5],
    ids=["250 bytes", "255 bytes", "254 bytes of é", "255 bytes of CJK", "mixed, cut inside"],
)
@respx.mock
async def test_a_long_legal_name_downloads_through_a_temporary_name_that_fits(
    client: Client, tmp_path: Path, name: str
) -> None:
    limit = name_max(tmp_path)
    assert len(os.fsencode(name)) <= limit
    seen: list[list[str]] = []
    respx.get(f"{CDN}/{HANDLE}").mock(
        return_value=httpx.Response(200, stream=_Watching(tmp_path, seen))
    )
    target = tmp_path / name
    target.write_bytes(b"old version")
    assert await client.filelink(HANDLE).download(target) == len(BODY)
    assert target.read_bytes() == BODY
    assert _names(tmp_path) == [name]
    (during,) = seen
    (temporary,) = [n for n in during if n != name]
    assert temporary.startswith(".") and temporary.endswith(".part")
    assert len(os.fsencode(temporary)) <= limit
    assert name.startswith(temporary[1:].rsplit(".", 2)[0])  # a prefix of the name, whole chars


def test_the_temporary_name_keeps_short_names_whole_and_cuts_long_ones(tmp_path: Path) -> None:
    short = partial_path(tmp_path / "photo.jpg")
    assert short.parent == tmp_path
    assert short.name.startswith(".photo.jpg.") and short.name.endswith(".part")
    limit = name_max(tmp_path)
    long = partial_path(tmp_path / ("é" * 127))
    assert len(os.fsencode(long.name)) <= limit
    assert long.name.startswith(".é")
    assert partial_path(tmp_path / "a") != partial_path(tmp_path / "a")  # fresh every time


@respx.mock
async def test_a_name_longer_than_the_file_system_takes_is_refused_before_any_request(
    client: Client, tmp_path: Path
) -> None:
    route = respx.get(f"{CDN}/{HANDLE}").respond(200, content=BODY)
    too_long = "a" * (name_max(tmp_path) + 1)
    with pytest.raises(ConfigurationError, match=r"file name is \d+ bytes"):
        await client.filelink(HANDLE).download(tmp_path / too_long)
    with pytest.raises(ConfigurationError, match=r"file name is \d+ bytes"):
        await client.filelink(HANDLE).flip().download(tmp_path / too_long)
    assert route.call_count == 0 and _names(tmp_path) == []


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files the SDK opens for writing fill up after 3000 bytes."""
    fill_disk_after(monkeypatch, 3000)


@pytest.mark.usefixtures("full_disk")
@pytest.mark.parametrize("chain", [False, True], ids=["file", "transformation"])
@respx.mock
async def test_a_full_disk_is_a_local_file_error_and_leaves_nothing_behind(
    client: Client, tmp_path: Path, chain: bool
) -> None:
    respx.get(url__regex=rf"{CDN}/.*{HANDLE}").respond(200, content=BODY)
    target = tmp_path / "out.bin"
    target.write_bytes(b"old version")
    link = client.filelink(HANDLE, security=SECURITY)
    with pytest.raises(LocalFileError) as caught:
        await (link.flip().download(target) if chain else link.download(target))
    error = caught.value
    assert isinstance(error, OSError) and isinstance(error, fa.FilestackError)
    assert error.errno == errno.ENOSPC and error.path == str(target)
    assert str(target) in str(error) and os.strerror(errno.ENOSPC) in str(error)
    assert isinstance(error.__cause__, OSError)
    for secret in SECURITY.secrets():
        assert secret not in str(error) and secret not in repr(error)
    assert _names(tmp_path) == ["out.bin"] and target.read_bytes() == b"old version"


@respx.mock
async def test_a_rename_the_folder_refuses_is_a_local_file_error(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: Any, destination: Any) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(destination))

    respx.get(f"{CDN}/{HANDLE}").respond(200, content=BODY)
    monkeypatch.setattr(os, "replace", refuse)
    target = tmp_path / "out.bin"
    with pytest.raises(LocalFileError, match="could not write") as caught:
        await client.filelink(HANDLE).download(target)
    assert caught.value.errno == errno.EACCES
    assert _names(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores modes")
@respx.mock
async def test_a_read_only_folder_is_a_local_file_error(client: Client, tmp_path: Path) -> None:
    route = respx.get(f"{CDN}/{HANDLE}").respond(200, content=BODY)
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(LocalFileError, match="could not write") as caught:
            await client.filelink(HANDLE).download(folder / "out.bin")
        assert caught.value.errno == errno.EACCES
        assert route.call_count == 0  # the temporary file is made before the request
        assert _names(folder) == []
    finally:
        folder.chmod(0o700)


def _sysfs_folder() -> Iterator[Path]:
    """A folder nobody can create files in, root included (sysfs), when there is one."""
    folder = Path("/sys/kernel")
    if sys.platform.startswith("linux") and folder.is_dir():
        probe = folder / ".filestack-probe"
        try:
            probe.open("xb").close()
        except OSError:
            yield folder
            return
        probe.unlink()


@pytest.mark.parametrize("folder", list(_sysfs_folder()), ids=str)
@respx.mock
async def test_a_folder_that_refuses_files_even_to_root_is_a_local_file_error(
    client: Client, folder: Path
) -> None:
    respx.get(f"{CDN}/{HANDLE}").respond(200, content=BODY)
    target = folder / "filestack-download.bin"
    with pytest.raises(LocalFileError, match=str(target)) as caught:
        await client.filelink(HANDLE).download(target)
    assert caught.value.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
    assert not target.exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@respx.mock
async def test_a_full_file_object_is_a_local_file_error(client: Client) -> None:
    respx.get(f"{CDN}/{HANDLE}").respond(200, content=BODY)
    with open("/dev/full", "wb", buffering=0) as full:
        with pytest.raises(LocalFileError, match="/dev/full") as caught:
            await client.filelink(HANDLE).download(full)
    assert caught.value.errno == errno.ENOSPC and caught.value.path == "/dev/full"
