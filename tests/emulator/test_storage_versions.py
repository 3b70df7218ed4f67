"""Storage: every version is a new blob, switched in one transaction; readers keep theirs.

`Storage` is used directly here (it blocks, so these are plain sync tests).
"""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from filestack_async.emulator import disk
from filestack_async.emulator.storage import Piece, Storage, StoredFile


def _file(handle: str, data: bytes) -> StoredFile:
    md5 = hashlib.md5(data).hexdigest()
    return StoredFile(
        handle=handle,
        filename="f.bin",
        mimetype="application/octet-stream",
        size=len(data),
        etag=f'"{md5}"',
        md5=md5,
        uploaded=1,
        location="S3",
        key=f"{handle}_f.bin",
    )


def _store(storage: Storage, handle: str, data: bytes) -> StoredFile:
    temp = storage.incoming_path()
    temp.write_bytes(data)
    return storage.store_blob(temp, _file(handle, data))


def _entries(storage: Storage) -> set[str]:
    return {entry.name for entry in (storage.root / "files").iterdir()}


def _assembled(storage: Storage, handle: str, chunks: list[bytes]) -> StoredFile:
    """A file made of several pieces (kept as segments), as a multipart upload leaves it."""
    upload = storage.create_upload(
        apikey="K",
        filename="f.bin",
        mimetype="application/octet-stream",
        size=sum(map(len, chunks)),
        fii=False,
        store={},
    )
    pieces = []
    for number, chunk in enumerate(chunks, start=1):
        md5 = hashlib.md5(chunk).hexdigest()
        piece = Piece(number, 0, len(chunk), md5, f'"{md5}"')
        temp = storage.temp_path(upload.upload_id)
        temp.write_bytes(chunk)
        storage.record_piece(upload.upload_id, piece, temp)
        pieces.append(piece)
    return storage.assemble(upload.upload_id, pieces, _file(handle, b"".join(chunks)))


HANDLE = "AbCdEfGhIjKlMnOpQrSt"


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    opened = Storage(tmp_path / "data")
    yield opened
    opened.close()


def test_an_overwrite_is_a_new_blob_and_the_old_one_goes(storage: Storage) -> None:
    first = _store(storage, HANDLE, b"version one")
    second = _store(storage, HANDLE, b"version two, longer")
    assert first.blob != second.blob
    assert storage.read_bytes(HANDLE) == b"version two, longer"
    assert _entries(storage) == {second.blob}  # the old blob is removed, nothing else left
    current = storage.get_file(HANDLE)
    assert current is not None and current.etag == second.etag and current.blob == second.blob


def test_a_reader_keeps_its_version_while_the_file_is_overwritten(storage: Storage) -> None:
    old = _store(storage, HANDLE, b"A" * 100_000)
    reading = storage.open_file(HANDLE)
    assert reading is not None
    new = _store(storage, HANDLE, b"B" * 10)
    assert reading.file.etag == old.etag and reading.file.size == 100_000
    assert b"".join(reading.iter_bytes()) == b"A" * 100_000
    assert b"".join(reading.iter_bytes(99_990, 5)) == b"A" * 5
    assert storage.read_bytes(HANDLE) == b"B" * 10  # a new reader gets the new version
    assert _entries(storage) == {old.blob, new.blob}  # held: not removed yet
    reading.close()
    assert _entries(storage) == {new.blob}
    reading.close()  # idempotent
    assert _entries(storage) == {new.blob}


def test_segments_of_a_multipart_file_stay_whole_for_their_reader(storage: Storage) -> None:
    chunks = [os.urandom(3000), os.urandom(5000), os.urandom(10)]
    segmented = _assembled(storage, HANDLE, chunks)
    assert segmented.segments is not None and len(segmented.segments) == 3
    with storage.open_file(HANDLE) as reading:  # type: ignore[union-attr]
        new = _store(storage, HANDLE, b"replaced")
        assert b"".join(reading.iter_bytes()) == b"".join(chunks)
        assert b"".join(reading.iter_bytes(2990, 20)) == b"".join(chunks)[2990:3010]
    assert _entries(storage) == {new.blob}
    assert not list((storage.root / "uploads").iterdir())  # the upload's folder is gone


def test_a_reader_finishes_reading_a_deleted_file(storage: Storage) -> None:
    _store(storage, HANDLE, b"soon gone")
    reading = storage.open_file(HANDLE)
    assert reading is not None
    assert storage.delete_file(HANDLE)
    assert storage.open_file(HANDLE) is None and storage.get_file(HANDLE) is None
    assert b"".join(reading.iter_bytes()) == b"soon gone"
    reading.close()
    assert _entries(storage) == set()


def test_a_reader_that_is_dropped_without_close_lets_go(storage: Storage) -> None:
    _store(storage, HANDLE, b"one")
    reading = storage.open_file(HANDLE)
    new = _store(storage, HANDLE, b"two")
    del reading  # collected: its hold ends with it
    assert _entries(storage) == {new.blob}


def test_a_failed_switch_keeps_the_old_version_and_nothing_of_the_new(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _store(storage, HANDLE, b"the old bytes")

    def full(path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(disk, "fsync_dir", full)
    temp = storage.incoming_path()
    temp.write_bytes(b"the new bytes")
    with pytest.raises(OSError) as raised:
        storage.store_blob(temp, _file(HANDLE, b"the new bytes"))
    assert disk.is_disk_full(raised.value)
    assert storage.read_bytes(HANDLE) == b"the old bytes"
    assert _entries(storage) == {old.blob}


def test_an_overwrite_does_not_bring_back_a_deleted_file(storage: Storage) -> None:
    _store(storage, HANDLE, b"one")
    assert storage.delete_file(HANDLE)
    temp = storage.incoming_path()
    temp.write_bytes(b"two")
    with pytest.raises(Exception, match="not found") as raised:
        storage.store_blob(temp, _file(HANDLE, b"two"), replace_only=True)
    assert getattr(raised.value, "status", None) == 404
    assert storage.get_file(HANDLE) is None and _entries(storage) == set()


def test_a_stale_md5_is_not_cached_on_a_newer_version(storage: Storage) -> None:
    _store(storage, HANDLE, b"one")
    reading = storage.open_file(HANDLE)
    assert reading is not None
    new = _store(storage, HANDLE, b"two")
    storage.set_md5(reading.file, reading.hexdigest("md5"))
    reading.close()
    current = storage.get_file(HANDLE)
    assert current is not None and current.md5 == new.md5 == hashlib.md5(b"two").hexdigest()


def test_start_removes_what_no_row_references(tmp_path: Path) -> None:
    root = tmp_path / "data"
    storage = Storage(root)
    kept = _store(storage, HANDLE, b"kept")
    storage.close()
    files = root / "files"
    (files / f"{HANDLE}.0123456789abcdef").write_bytes(b"a blob a crash left")
    (files / ".incoming-0123456789abcdef").write_bytes(b"half written")
    (files / "OtherHandleAbCdEfGhI.feedfacefeedface.d").mkdir()
    (files / "OtherHandleAbCdEfGhI.feedfacefeedface.d" / "1-0").write_bytes(b"segment")
    (root / "uploads" / "an-upload-with-no-row").mkdir()
    reopened = Storage(root)
    try:
        assert _entries(reopened) == {kept.blob}
        assert not list((root / "uploads").iterdir())
        assert reopened.read_bytes(HANDLE) == b"kept"
    finally:
        reopened.close()


def test_a_re_sent_piece_replaces_the_old_one_on_disk_and_in_the_file(storage: Storage) -> None:
    upload = storage.create_upload(
        apikey="K", filename="f", mimetype="text/plain", size=3, fii=False, store={}
    )
    for data in (b"bad", b"abc"):
        md5 = hashlib.md5(data).hexdigest()
        temp = storage.temp_path(upload.upload_id)
        temp.write_bytes(data)
        storage.record_piece(upload.upload_id, Piece(1, 0, 3, md5, f'"{md5}"'), temp)
    folder = storage.root / "uploads" / upload.upload_id
    [piece] = storage.pieces(upload.upload_id)
    assert [p.name for p in folder.iterdir()] == [storage.piece_path(upload.upload_id, piece).name]
    storage.assemble(upload.upload_id, [piece], _file(HANDLE, b"abc"))
    assert storage.read_bytes(HANDLE) == b"abc"


def test_a_data_folder_of_the_previous_layout_is_still_served(tmp_path: Path) -> None:
    """Rows without a ``blob`` column and bytes at ``files/<handle>`` (before versions)."""
    root = tmp_path / "data"
    (root / "files").mkdir(parents=True)
    db = sqlite3.connect(root / "emulator.sqlite3")
    db.execute(
        "CREATE TABLE files (handle TEXT PRIMARY KEY, filename TEXT NOT NULL, "
        "mimetype TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL, md5 TEXT, "
        "uploaded INTEGER NOT NULL, location TEXT NOT NULL, path TEXT, container TEXT, "
        "key TEXT NOT NULL, upload_tags TEXT, workflows TEXT, source_url TEXT, "
        "width INTEGER, height INTEGER, segments TEXT)"
    )
    db.execute(
        "INSERT INTO files (handle, filename, mimetype, size, etag, uploaded, location, key) "
        "VALUES (?, 'f', 'text/plain', 3, '\"e\"', 1, 'S3', 'k')",
        (HANDLE,),
    )
    db.commit()
    db.close()
    (root / "files" / HANDLE).write_bytes(b"old")
    storage = Storage(root)
    try:
        assert storage.read_bytes(HANDLE) == b"old"
        new = _store(storage, HANDLE, b"new")
        assert storage.read_bytes(HANDLE) == b"new" and _entries(storage) == {new.blob}
    finally:
        storage.close()


def test_sqlite_full_is_a_full_disk() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (v TEXT)")
    db.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.OperationalError) as raised:
        for _ in range(100):
            db.execute("INSERT INTO t VALUES (?)", ("x" * 4000,))
    db.close()
    converted = disk.disk_full_from_sqlite(raised.value)
    assert converted is not None and disk.is_disk_full(converted)
    assert disk.disk_full_from_sqlite(sqlite3.OperationalError("no such table: t")) is None
