"""Storage: unfinished uploads expire and are swept (on start and while running);
what a crash left in upload folders goes on start; live uploads survive a restart."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pytest

from filestack_async.emulator import EmulatorConfig
from filestack_async.emulator.app import Emulator
from filestack_async.emulator.storage import Piece, Storage, Upload


class Clock:
    """A settable time source for `Storage`."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _start(storage: Storage) -> Upload:
    return storage.create_upload(
        apikey="K", filename="f", mimetype="text/plain", size=3, fii=False, store={}
    )


def _piece(storage: Storage, upload: Upload, data: bytes = b"abc") -> Piece:
    md5 = hashlib.md5(data).hexdigest()
    piece = Piece(1, 0, len(data), md5, f'"{md5}"')
    temp = storage.temp_path(upload.upload_id)
    temp.write_bytes(data)
    storage.record_piece(upload.upload_id, piece, temp)
    return piece


def _folders(storage: Storage) -> set[str]:
    return {entry.name for entry in (storage.root / "uploads").iterdir()}


def test_an_unfinished_upload_expires_and_is_swept(tmp_path: Path) -> None:
    clock = Clock()
    storage = Storage(tmp_path / "data", upload_expiry=100, clock=clock)
    try:
        upload = _start(storage)
        _piece(storage, upload)
        clock.now += 100
        assert storage.sweep() == 0 and storage.get_upload(upload.upload_id) is not None
        clock.now += 1
        assert storage.get_upload(upload.upload_id) is None  # expired, even before a sweep
        assert storage.sweep() == 1
        assert _folders(storage) == set() and storage.pieces(upload.upload_id) == []
    finally:
        storage.close()


def test_starting_an_upload_sweeps_the_expired_ones(tmp_path: Path) -> None:
    clock = Clock()
    storage = Storage(tmp_path / "data", upload_expiry=60, clock=clock)
    try:
        abandoned = [_start(storage) for _ in range(5)]
        for upload in abandoned:
            _piece(storage, upload)
        clock.now += 61
        fresh = _start(storage)
        assert _folders(storage) == {fresh.upload_id}
        assert all(storage.pieces(u.upload_id) == [] for u in abandoned)
    finally:
        storage.close()


def test_a_piece_for_an_expired_upload_is_refused_and_not_kept(tmp_path: Path) -> None:
    clock = Clock()
    storage = Storage(tmp_path / "data", upload_expiry=10, clock=clock)
    try:
        upload = _start(storage)
        temp = storage.temp_path(upload.upload_id)
        temp.write_bytes(b"abc")
        clock.now += 11
        md5 = hashlib.md5(b"abc").hexdigest()
        with pytest.raises(Exception, match="does not exist") as raised:
            storage.record_piece(upload.upload_id, Piece(1, 0, 3, md5, f'"{md5}"'), temp)
        assert getattr(raised.value, "code", None) == "NoSuchUpload"
        assert list((storage.root / "uploads" / upload.upload_id).iterdir()) == []
    finally:
        storage.close()


def test_a_restart_keeps_live_uploads_and_drops_expired_ones_and_leftovers(
    tmp_path: Path,
) -> None:
    clock = Clock()
    root = tmp_path / "data"
    storage = Storage(root, upload_expiry=1000, clock=clock)
    old = _start(storage)
    _piece(storage, old)
    clock.now += 600
    live = _start(storage)
    piece = _piece(storage, live)
    storage.close()
    live_folder = root / "uploads" / live.upload_id
    (live_folder / ".incoming-0123456789abcdef").write_bytes(b"a PUT cut by the crash")
    (live_folder / "2-0-0123456789abcdef0123456789abcdef").write_bytes(b"no row")
    (root / "uploads" / "folder-without-a-row").mkdir()
    clock.now += 500  # old: 1100 s (expired); live: 500 s
    reopened = Storage(root, upload_expiry=1000, clock=clock)
    try:
        assert _folders(reopened) == {live.upload_id}
        assert reopened.get_upload(old.upload_id) is None
        assert reopened.get_upload(live.upload_id) is not None
        assert reopened.pieces(live.upload_id) == [piece]
        assert [p.name for p in live_folder.iterdir()] == [
            reopened.piece_path(live.upload_id, piece).name
        ]
    finally:
        reopened.close()


@pytest.mark.parametrize("expiry", [0, -1, math.nan])
def test_the_expiry_must_be_positive(tmp_path: Path, expiry: float) -> None:
    with pytest.raises(ValueError, match="upload_expiry must be a positive number"):
        Storage(tmp_path / "data", upload_expiry=expiry)


def test_the_emulator_takes_the_expiry_from_its_config(tmp_path: Path) -> None:
    emulator = Emulator(EmulatorConfig(data_dir=tmp_path / "data", upload_expiry=5.0))
    try:
        assert emulator.storage.upload_expiry == 5.0
    finally:
        emulator.close()
    assert EmulatorConfig().upload_expiry == 24 * 3600
