"""A full disk (ENOSPC, EDQUOT) answers 507 with a JSON body saying so, and nothing
half-written is kept: no temporary file, no row, the old version of an overwritten file."""

from __future__ import annotations

import base64
import errno
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from filestack_async.emulator import Emulator, EmulatorTransport, disk
from filestack_async.emulator.app import IN_PROCESS_URL

from .conftest import APIKEY, Origin

_real_open = Path.open
POLICY = {
    "policy": base64.urlsafe_b64encode(b'{"expiry": 4102444800}').decode(),
    "signature": "a" * 64,
}


class _FullDiskFile:
    """A file open for writing on a disk that has room for ``room`` more bytes."""

    def __init__(self, real: Any, room: int, code: int) -> None:
        self.real, self.room, self.code = real, room, code

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(self.code, "No space left on device")
        self.room -= len(data)
        written: int = self.real.write(data)
        return written

    def writelines(self, blocks: list[bytes]) -> None:
        for block in blocks:
            self.write(block)

    def close(self) -> None:
        self.real.close()

    def __enter__(self) -> _FullDiskFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def fill_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int, int], None]]:
    """``fill_disk(room, errno)``: from now on, files opened for writing get ``room`` bytes."""

    def fill(room: int, code: int = errno.ENOSPC) -> None:
        def open_(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            real = _real_open(self, mode, *args, **kwargs)
            return _FullDiskFile(real, room, code) if "w" in mode else real

        monkeypatch.setattr(Path, "open", open_)

    yield fill


@pytest.fixture
async def origin(make_emulator: Callable[..., Emulator]) -> Any:
    emulator = make_emulator()
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        yield Origin(emulator, http, IN_PROCESS_URL, "in-process")


def _leftovers(emulator: Emulator) -> list[str]:
    root = emulator.data_dir
    return sorted(str(p.relative_to(root)) for p in root.rglob(".incoming-*"))


def _says_disk_full(r: httpx.Response) -> None:
    assert r.status_code == 507, r.text
    body = r.json()
    assert "disk is full" in body["error"] and body["code"] == "InsufficientStorage"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
async def test_store_on_a_full_disk_is_507_and_keeps_nothing(
    origin: Origin, fill_disk: Callable[[int, int], None], code: int
) -> None:
    fill_disk(1000, code)
    r = await origin.http.post(
        f"{origin.base}/api/store/S3", params={"key": APIKEY}, content=b"x" * 5000
    )
    _says_disk_full(r)
    assert _leftovers(origin.emulator) == []
    assert origin.emulator.storage.list_files() == []


async def test_a_part_on_a_full_disk_is_507_and_keeps_nothing(
    origin: Origin, fill_disk: Callable[[int, int], None]
) -> None:
    start = await origin.start(3000)
    fill_disk(100, errno.ENOSPC)
    r = await origin.put_piece(start, 1, b"y" * 3000)
    _says_disk_full(r)
    assert _leftovers(origin.emulator) == []
    assert origin.emulator.storage.pieces(start["upload_id"]) == []


async def test_an_overwrite_on_a_full_disk_is_507_and_keeps_the_old_version(
    origin: Origin, fill_disk: Callable[[int, int], None]
) -> None:
    stored = await origin.http.post(
        f"{origin.base}/api/store/S3", params={"key": APIKEY}, content=b"old version"
    )
    handle = stored.json()["url"].rsplit("/", 1)[1]
    fill_disk(10, errno.ENOSPC)
    files = {"fileUpload": ("x.bin", b"n" * 4000, "application/octet-stream")}
    r = await origin.http.post(f"{origin.base}/api/file/{handle}", params=POLICY, files=files)
    _says_disk_full(r)
    assert _leftovers(origin.emulator) == []
    got = await origin.http.get(f"{origin.base}/{handle}")
    assert got.content == b"old version"
    assert got.headers["etag"] == f'"{hashlib.md5(b"old version").hexdigest()}"'


async def test_a_full_disk_at_the_switch_is_507_and_keeps_the_old_version(
    origin: Origin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bytes are written but flushing their folder fails: no version switch."""
    stored = await origin.http.post(
        f"{origin.base}/api/store/S3", params={"key": APIKEY}, content=b"old version"
    )
    handle = stored.json()["url"].rsplit("/", 1)[1]
    before = {p.name for p in (origin.emulator.data_dir / "files").iterdir()}

    def full(path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(disk, "fsync_dir", full)
    files = {"fileUpload": ("x.bin", b"new version", "application/octet-stream")}
    r = await origin.http.post(f"{origin.base}/api/file/{handle}", params=POLICY, files=files)
    _says_disk_full(r)
    assert {p.name for p in (origin.emulator.data_dir / "files").iterdir()} == before
    assert (await origin.http.get(f"{origin.base}/{handle}")).content == b"old version"


async def test_other_os_errors_are_not_called_a_full_disk(
    origin: Origin, fill_disk: Callable[[int, int], None]
) -> None:
    fill_disk(0, errno.EIO)
    with pytest.raises(OSError) as raised:  # in-process, the app's exception surfaces
        await origin.http.post(f"{origin.base}/api/store/S3", params={"key": APIKEY}, content=b"x")
    assert raised.value.errno == errno.EIO
