"""Files on disk, metadata in SQLite.

Every method here blocks (disk, SQLite); the app calls them through
``anyio.to_thread.run_sync`` so the event loop never waits on them. One connection,
guarded by a lock, serves every thread.

Each version of a file's bytes is a *blob*: one entry under ``files/`` (a file, or a
folder of the segments a multipart upload left) whose name is never reused. Storing
writes a new blob, flushes it, then switches the file's row to it in one transaction;
the old blob is removed once no row references it and no `Reading` holds it. Readers
take the row and a hold on its blob in one step (`Storage.open_file`), so a read
always gets one whole version. A crash at any point leaves each file at its old or its
new version: on start, blobs and temporary files no row references are removed, and so
are unfinished uploads past their expiry (``upload_expiry``), which are also swept
while the emulator runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import string
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from . import disk
from .config import DEFAULT_UPLOAD_EXPIRY
from .strict import ProtocolError

_ALNUM = string.ascii_letters + string.digits
_COPY_BLOCK = 8 * 1024 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    handle TEXT PRIMARY KEY, filename TEXT NOT NULL, mimetype TEXT NOT NULL,
    size INTEGER NOT NULL, etag TEXT NOT NULL, md5 TEXT, uploaded INTEGER NOT NULL,
    location TEXT NOT NULL, path TEXT, container TEXT, key TEXT NOT NULL,
    upload_tags TEXT, workflows TEXT, source_url TEXT, width INTEGER, height INTEGER,
    segments TEXT, blob TEXT
);
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY, apikey TEXT NOT NULL, filename TEXT NOT NULL,
    mimetype TEXT NOT NULL, size INTEGER NOT NULL, fii INTEGER NOT NULL,
    store TEXT NOT NULL, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL, part INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    size INTEGER NOT NULL, md5 TEXT NOT NULL, etag TEXT NOT NULL,
    PRIMARY KEY (upload_id, part, "offset")
);
CREATE TABLE IF NOT EXISTS commits (
    upload_id TEXT NOT NULL, part INTEGER NOT NULL, PRIMARY KEY (upload_id, part)
);
CREATE TABLE IF NOT EXISTS completed (
    upload_id TEXT PRIMARY KEY, handle TEXT NOT NULL, apikey TEXT
);
"""
_FILE_COLUMNS = (
    "handle",
    "filename",
    "mimetype",
    "size",
    "etag",
    "md5",
    "uploaded",
    "location",
    "path",
    "container",
    "key",
    "upload_tags",
    "workflows",
    "source_url",
    "width",
    "height",
    "segments",
    "blob",
)
_INSERT_FILE = (
    f"INSERT OR REPLACE INTO files ({', '.join(_FILE_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _FILE_COLUMNS)})"
)
#: the longest wait between two sweeps of expired uploads while the emulator runs
_SWEEP_EVERY = 3600.0


def new_handle() -> str:
    """A handle like Filestack's: 20 letters and digits."""
    return "".join(secrets.choice(_ALNUM) for _ in range(20))


@dataclass
class StoredFile:
    """One stored file's metadata."""

    handle: str
    filename: str
    mimetype: str
    size: int
    etag: str
    uploaded: int
    location: str
    key: str
    md5: str | None = None
    path: str | None = None
    container: str | None = None
    upload_tags: dict[str, str] | None = None
    workflows: list[str] | None = None
    source_url: str | None = None
    width: int | None = None
    height: int | None = None
    #: the files holding the bytes, in order, as (path under files/, size); set by
    #: `Storage` when it stores them; ``None`` (data folders of older versions only)
    #: means one file, ``files/<handle>``
    segments: list[tuple[str, int]] | None = None

    @property
    def blob(self) -> str:
        """The entry under ``files/`` holding this version's bytes (a file or a folder)."""
        if self.segments is None:
            return self.handle
        return self.segments[0][0].split("/", 1)[0]


@dataclass
class Upload:
    """An upload between ``/multipart/start`` and ``/multipart/complete``."""

    upload_id: str
    apikey: str
    filename: str
    mimetype: str
    size: int
    fii: bool
    store: dict[str, Any]
    created: float


@dataclass(frozen=True)
class Piece:
    """A part (regular) or a chunk at an offset within a part (intelligent ingestion)."""

    part: int
    offset: int
    size: int
    md5: str
    etag: str


class Reading:
    """One version of a stored file, held for reading.

    Its bytes stay on disk until `close` (or until this object is collected), even if
    the file is overwritten or deleted meanwhile: a reader gets one whole version, with
    ``file``'s size, ETag and MD5. Use it as a context manager, or call `close`.
    """

    def __init__(
        self, file: StoredFile, segments: list[tuple[Path, int]], release: Callable[[], None]
    ) -> None:
        self.file = file
        #: the files holding the bytes, in order, with their sizes
        self.segments = segments
        self._finalizer = weakref.finalize(self, release)

    def close(self) -> None:
        """Let go of the version (idempotent); an overwritten one is then removed."""
        self._finalizer()

    def __enter__(self) -> Reading:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def iter_bytes(self, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Blocks of the bytes from ``start`` (blocking; use from a thread)."""
        remaining = self.file.size - start if length is None else length
        for path, size in self.segments:
            if remaining <= 0:
                return
            if start >= size:
                start -= size
                continue
            with path.open("rb") as f:
                f.seek(start)
                start = 0
                while remaining > 0:
                    block = f.read(min(_COPY_BLOCK, remaining))
                    if not block:
                        break
                    remaining -= len(block)
                    yield block

    def hexdigest(self, algorithm: str) -> str:
        """Hex digest of the bytes (``"md5"``, ``"sha256"``...)."""
        digest = hashlib.new(algorithm)
        for block in self.iter_bytes():
            digest.update(block)
        return digest.hexdigest()

    def copy_to(self, target: Path) -> str:
        """Copy the bytes to ``target``; return their MD5 (hex)."""
        digest = hashlib.md5()
        with target.open("wb") as out:
            for block in self.iter_bytes():
                digest.update(block)
                out.write(block)
        return digest.hexdigest()


def _upload_gone() -> ProtocolError:
    return ProtocolError(
        "protocol violation: the upload does not exist (completed, expired or unknown)",
        code="NoSuchUpload",
    )


@dataclass
class Storage:
    """The emulator's files and upload sessions under ``root``.

    ``upload_expiry``: seconds an unfinished upload is kept after its start; ``clock``:
    the time source for it (``time.time``).
    """

    root: Path
    upload_expiry: float = DEFAULT_UPLOAD_EXPIRY
    clock: Callable[[], float] = field(default=time.time, repr=False)
    _db: sqlite3.Connection = field(init=False, repr=False)
    _lock: threading.RLock = field(init=False, repr=False, default_factory=threading.RLock)
    #: blob -> how many `Reading` objects hold it
    _readers: dict[str, int] = field(init=False, repr=False, default_factory=dict)
    #: blobs no row references any more, removed when their last reader lets go
    _doomed: set[str] = field(init=False, repr=False, default_factory=set)
    _last_sweep: float = field(init=False, repr=False, default=0.0)
    closed: bool = field(init=False, default=False)
    #: called with ``("store" | "overwrite" | "converse" | "delete", file)`` after a
    #: change is committed (webhooks listen here); a listener must not block or raise
    listeners: list[Callable[[str, StoredFile], None]] = field(
        init=False, repr=False, default_factory=list
    )

    def __post_init__(self) -> None:
        if not self.upload_expiry > 0:  # also refuses NaN
            raise ValueError(
                f"upload_expiry must be a positive number of seconds, not {self.upload_expiry!r}"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "files").mkdir(exist_ok=True)
        (self.root / "uploads").mkdir(exist_ok=True)
        self._db = sqlite3.connect(self.root / "emulator.sqlite3", check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._tx() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            _migrate(db)
        self.sweep()
        self._remove_leftovers()

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            if not self.closed:
                self.closed = True
                self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction; SQLite's "database or disk is full" becomes ``OSError(ENOSPC)``."""
        with self._lock:
            try:
                yield self._db
                self._db.commit()
            except BaseException as err:
                self._db.rollback()
                full = disk.disk_full_from_sqlite(err) if isinstance(err, sqlite3.Error) else None
                if full is not None:
                    raise full from err
                raise

    # -- keys -----------------------------------------------------------------------

    def signing_key(self) -> bytes:
        """A random key kept with the data, for signing part URLs (survives restarts)."""
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'put_key'").fetchone()
            if row is None:
                value = secrets.token_hex(32)
                db.execute("INSERT INTO meta (key, value) VALUES ('put_key', ?)", (value,))
                return bytes.fromhex(value)
            return bytes.fromhex(row["value"])

    # -- uploads --------------------------------------------------------------------

    def create_upload(
        self,
        *,
        apikey: str,
        filename: str,
        mimetype: str,
        size: int,
        fii: bool,
        store: dict[str, Any],
    ) -> Upload:
        """Open an upload session (and, at most hourly, sweep the expired ones)."""
        now = self.clock()
        if now - self._last_sweep >= min(_SWEEP_EVERY, self.upload_expiry):
            self.sweep()
        upload = Upload(
            upload_id=secrets.token_urlsafe(24),
            apikey=apikey,
            filename=filename,
            mimetype=mimetype,
            size=size,
            fii=fii,
            store=store,
            created=now,
        )
        folder = self._upload_dir(upload.upload_id)
        folder.mkdir()
        try:
            with self._tx() as db:
                db.execute(
                    "INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        upload.upload_id,
                        apikey,
                        filename,
                        mimetype,
                        size,
                        int(fii),
                        json.dumps(store),
                        upload.created,
                    ),
                )
        except BaseException:
            folder.rmdir()
            raise
        return upload

    def _expired(self, created: float) -> bool:
        return self.clock() - created > self.upload_expiry

    def get_upload(self, upload_id: str) -> Upload | None:
        """The upload, or ``None`` if unknown, completed or expired."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM uploads WHERE upload_id = ?", (upload_id,)
            ).fetchone()
        if row is None or self._expired(row["created"]):
            return None
        return Upload(
            upload_id=row["upload_id"],
            apikey=row["apikey"],
            filename=row["filename"],
            mimetype=row["mimetype"],
            size=row["size"],
            fii=bool(row["fii"]),
            store=json.loads(row["store"]),
            created=row["created"],
        )

    def _live(self, db: sqlite3.Connection, upload_id: str) -> bool:
        row = db.execute("SELECT created FROM uploads WHERE upload_id = ?", (upload_id,)).fetchone()
        return row is not None and not self._expired(row["created"])

    def _upload_dir(self, upload_id: str) -> Path:
        return self.root / "uploads" / upload_id

    def piece_path(self, upload_id: str, piece: Piece) -> Path:
        """Where a part (or chunk) of an upload is kept (named by its MD5 too, so a
        re-sent piece with other bytes never replaces the one its row describes)."""
        return self._upload_dir(upload_id) / f"{piece.part}-{piece.offset}-{piece.md5}"

    def temp_path(self, upload_id: str) -> Path:
        """A fresh temporary path inside an upload's folder."""
        return self._upload_dir(upload_id) / f".incoming-{secrets.token_hex(8)}"

    def record_piece(self, upload_id: str, piece: Piece, temp: Path) -> None:
        """Move a received body into place and remember it (a re-sent piece replaces the old).

        Raises:
            ProtocolError: the upload completed or expired meanwhile (``temp`` is removed).
        """
        disk.fsync_file(temp)
        target = self.piece_path(upload_id, piece)
        old: sqlite3.Row | None = None
        try:
            with self._tx() as db:
                if not self._live(db, upload_id):
                    raise _upload_gone()
                old = db.execute(
                    'SELECT md5 FROM parts WHERE upload_id = ? AND part = ? AND "offset" = ?',
                    (upload_id, piece.part, piece.offset),
                ).fetchone()
                os.replace(temp, target)
                db.execute(
                    "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?)",
                    (upload_id, piece.part, piece.offset, piece.size, piece.md5, piece.etag),
                )
        except BaseException:
            temp.unlink(missing_ok=True)
            if old is None or old["md5"] != piece.md5:
                target.unlink(missing_ok=True)
            raise
        if old is not None and old["md5"] != piece.md5:
            self.piece_path(upload_id, replace(piece, md5=old["md5"])).unlink(missing_ok=True)

    def pieces(self, upload_id: str) -> list[Piece]:
        """Every received piece, by part then offset."""
        with self._lock:
            rows = self._db.execute(
                'SELECT part, "offset", size, md5, etag FROM parts WHERE upload_id = ? '
                'ORDER BY part, "offset"',
                (upload_id,),
            ).fetchall()
        return [Piece(r["part"], r["offset"], r["size"], r["md5"], r["etag"]) for r in rows]

    def record_commit(self, upload_id: str, part: int) -> None:
        """Remember that an intelligent-ingestion part was committed."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO commits VALUES (?, ?)", (upload_id, part))

    def commits(self, upload_id: str) -> set[int]:
        """The committed part numbers of an upload."""
        with self._lock:
            rows = self._db.execute(
                "SELECT part FROM commits WHERE upload_id = ?", (upload_id,)
            ).fetchall()
        return {r["part"] for r in rows}

    def assemble(self, upload_id: str, pieces: Iterable[Piece], file: StoredFile) -> StoredFile:
        """Make the (already checked) pieces a stored file and end the upload.

        Nothing is copied: the pieces get second names (hard links) in a new blob, one
        file or a folder of segments served in order; one transaction then records the
        file and ends the upload, and the upload's folder is removed. A crash before that
        transaction leaves the upload as it was (it can be completed again).

        Raises:
            ProtocolError: the upload completed or expired meanwhile.
        """
        ordered = list(pieces)
        files = self.root / "files"
        blob = f"{file.handle}.{secrets.token_hex(8)}"
        if len(ordered) != 1:
            blob += ".d"
        try:
            if len(ordered) == 1:
                disk.link_or_copy(self.piece_path(upload_id, ordered[0]), files / blob)
                segments = [(blob, ordered[0].size)]
            else:
                (files / blob).mkdir()
                for p in ordered:
                    name = f"{p.part}-{p.offset}"
                    disk.link_or_copy(self.piece_path(upload_id, p), files / blob / name)
                disk.fsync_dir(files / blob)
                segments = [(f"{blob}/{p.part}-{p.offset}", p.size) for p in ordered]
            disk.fsync_dir(files)
            stored = replace(file, segments=segments)
            with self._tx() as db:
                row = db.execute(
                    "SELECT apikey FROM uploads WHERE upload_id = ?", (upload_id,)
                ).fetchone()
                if row is None or not self._live(db, upload_id):
                    raise _upload_gone()
                old = self._put_row(db, stored)
                db.execute(
                    "INSERT OR REPLACE INTO completed (upload_id, handle, apikey) VALUES (?, ?, ?)",
                    (upload_id, stored.handle, row["apikey"]),
                )
                _forget_upload(db, upload_id)
        except BaseException:
            disk.remove(files / blob)
            raise
        self._retire(old)
        shutil.rmtree(self._upload_dir(upload_id), ignore_errors=True)
        file.segments = segments
        self._notify("store", file)
        return file

    def completed_upload(self, upload_id: str) -> tuple[str, str | None] | None:
        """The handle a completed upload produced and the API key that started it (so a
        repeated complete gets the same answer, for that key only), or ``None``.

        The key is ``None`` for an upload completed by a version that did not record it.
        """
        with self._lock:
            row = self._db.execute(
                "SELECT handle, apikey FROM completed WHERE upload_id = ?", (upload_id,)
            ).fetchone()
        if row is None:
            return None
        return str(row["handle"]), None if row["apikey"] is None else str(row["apikey"])

    def drop_upload(self, upload_id: str) -> None:
        """Forget an upload and delete its pieces."""
        with self._tx() as db:
            _forget_upload(db, upload_id)
        shutil.rmtree(self._upload_dir(upload_id), ignore_errors=True)

    # -- sweeping ---------------------------------------------------------------------

    def sweep(self) -> int:
        """Drop the unfinished uploads older than ``upload_expiry``; how many were dropped.

        Runs when the storage opens and, while it is used, at most hourly when an
        upload starts.
        """
        now = self.clock()
        self._last_sweep = now
        with self._tx() as db:
            expired = [
                str(row["upload_id"])
                for row in db.execute(
                    "SELECT upload_id FROM uploads WHERE created < ?", (now - self.upload_expiry,)
                ).fetchall()
            ]
            for upload_id in expired:
                _forget_upload(db, upload_id)
        for upload_id in expired:
            shutil.rmtree(self._upload_dir(upload_id), ignore_errors=True)
        return len(expired)

    def _remove_leftovers(self) -> None:
        """What a crash left: blobs, upload folders, pieces and temporary files no row
        references, rows of uploads that are gone (only at start: nothing is in flight)."""
        with self._tx() as db:
            db.execute("DELETE FROM parts WHERE upload_id NOT IN (SELECT upload_id FROM uploads)")
            db.execute("DELETE FROM commits WHERE upload_id NOT IN (SELECT upload_id FROM uploads)")
            db.execute("DELETE FROM completed WHERE handle NOT IN (SELECT handle FROM files)")
            blobs = {row["blob"] for row in db.execute("SELECT blob FROM files").fetchall()}
            uploads = {
                row["upload_id"] for row in db.execute("SELECT upload_id FROM uploads").fetchall()
            }
            pieces = {
                (row["upload_id"], f"{row['part']}-{row['offset']}-{row['md5']}")
                for row in db.execute('SELECT upload_id, part, "offset", md5 FROM parts')
            }
        for entry in (self.root / "files").iterdir():
            if entry.name not in blobs:
                disk.remove(entry)
        for folder in (self.root / "uploads").iterdir():
            if folder.name not in uploads or not folder.is_dir():
                disk.remove(folder)
                continue
            for entry in folder.iterdir():
                if (folder.name, entry.name) not in pieces:
                    disk.remove(entry)
        processed = self.root / "processed"  # the processing cache's partial writes
        if processed.is_dir():
            for entry in processed.glob(".*"):
                disk.remove(entry)

    # -- files ----------------------------------------------------------------------

    def segments(self, file: StoredFile) -> list[tuple[Path, int]]:
        """The files holding a stored file's bytes, in order, with their sizes.

        Only a `Reading` keeps them on disk while the file is overwritten or deleted.
        """
        if file.segments is None:
            return [(self.root / "files" / file.handle, file.size)]
        return [(self.root / "files" / name, size) for name, size in file.segments]

    def open_file(self, handle: str) -> Reading | None:
        """A file's current version, held for reading (``None`` if there is no file).

        The metadata and the bytes are one version: an overwrite or a delete meanwhile
        changes neither; close the `Reading` when done.
        """
        with self._lock:
            row = self._db.execute("SELECT * FROM files WHERE handle = ?", (handle,)).fetchone()
            if row is None:
                return None
            file = _file_from_row(row)
            self._readers[file.blob] = self._readers.get(file.blob, 0) + 1
        return Reading(file, self.segments(file), partial(self._release, file.blob))

    def _release(self, blob: str) -> None:
        with self._lock:
            left = self._readers.get(blob, 0) - 1
            if left > 0:
                self._readers[blob] = left
                return
            self._readers.pop(blob, None)
            if blob not in self._doomed:
                return
            self._doomed.discard(blob)
        disk.remove(self.root / "files" / blob)

    def _retire(self, blob: str | None) -> None:
        """Remove a blob a committed change stopped referencing, or leave it to the last
        reader that holds it."""
        if blob is None:
            return
        with self._lock:
            if self.closed:
                return
            if self._db.execute("SELECT 1 FROM files WHERE blob = ? LIMIT 1", (blob,)).fetchone():
                return  # still another file's bytes
            if self._readers.get(blob):
                self._doomed.add(blob)
                return
        disk.remove(self.root / "files" / blob)

    def _put_row(self, db: sqlite3.Connection, file: StoredFile) -> str | None:
        """Insert or replace a file's row; the blob the replaced row had, if another one."""
        row = db.execute("SELECT blob FROM files WHERE handle = ?", (file.handle,)).fetchone()
        db.execute(_INSERT_FILE, _row_values(file))
        old = None if row is None else row["blob"]
        return None if old == file.blob else old

    def read_bytes(self, handle: str) -> bytes:
        """A stored file's whole content (for tests and small files)."""
        reading = self.open_file(handle)
        if reading is None:
            raise FileNotFoundError(handle)
        with reading:
            return b"".join(reading.iter_bytes())

    def add_file(self, file: StoredFile) -> None:
        """Insert or replace a file's metadata (in one transaction; bytes it no longer
        references are removed once no reader holds them)."""
        with self._tx() as db:
            old = self._put_row(db, file)
        self._retire(old)

    def store_blob(
        self, temp: Path, file: StoredFile, *, replace_only: bool = False, event: str | None = None
    ) -> StoredFile:
        """Make a finished temporary file ``file``'s bytes (a new blob) and switch to it.

        Readers of the previous version keep it until they are done; if anything fails,
        the file stays at its previous version and ``temp``'s bytes are not kept.

        Raises:
            ProtocolError: 404, with ``replace_only`` (an overwrite), when the file was
                deleted meanwhile (it is not brought back).
        """
        disk.fsync_file(temp)
        blob = f"{file.handle}.{secrets.token_hex(8)}"
        target = self.root / "files" / blob
        os.replace(temp, target)
        try:
            disk.fsync_dir(self.root / "files")
            stored = replace(file, segments=[(blob, file.size)])
            with self._tx() as db:
                if replace_only and not _has_file(db, file.handle):
                    raise ProtocolError(f"file {file.handle} not found", status=404)
                old = self._put_row(db, stored)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        self._retire(old)
        file.segments = stored.segments
        self._notify(event or ("overwrite" if replace_only else "store"), file)
        return file

    def incoming_path(self) -> Path:
        """A fresh temporary path for a file being written."""
        return self.root / "files" / f".incoming-{secrets.token_hex(8)}"

    def get_file(self, handle: str) -> StoredFile | None:
        """A file's metadata, or ``None`` (use `open_file` to read its bytes)."""
        with self._lock:
            row = self._db.execute("SELECT * FROM files WHERE handle = ?", (handle,)).fetchone()
        return None if row is None else _file_from_row(row)

    def set_md5(self, file: StoredFile, md5: str) -> None:
        """Cache a file's whole-content MD5 (only if ``file`` is still its current version)."""
        with self._tx() as db:
            db.execute(
                "UPDATE files SET md5 = ? WHERE handle = ? AND blob = ?",
                (md5, file.handle, file.blob),
            )

    def delete_file(self, handle: str) -> bool:
        """Delete a file; False if there was none. Readers holding it finish their read."""
        with self._tx() as db:
            row = db.execute("SELECT * FROM files WHERE handle = ?", (handle,)).fetchone()
            db.execute("DELETE FROM files WHERE handle = ?", (handle,))
        if row is None:
            return False
        self._retire(row["blob"])
        self._notify("delete", _file_from_row(row))
        return True

    def _notify(self, event: str, file: StoredFile) -> None:
        for listener in list(self.listeners):
            listener(event, file)

    def uploads_in_progress(self) -> list[dict[str, Any]]:
        """Unfinished uploads, oldest first: id, filename, size, bytes and parts received."""
        with self._lock:
            rows = self._db.execute(
                "SELECT u.upload_id, u.filename, u.size, u.fii, u.created,"
                " COUNT(DISTINCT p.part) AS parts, COALESCE(SUM(p.size), 0) AS received,"
                " COALESCE(MAX(p.size), 0) AS largest"
                " FROM uploads u LEFT JOIN parts p ON p.upload_id = u.upload_id"
                " GROUP BY u.upload_id ORDER BY u.created"
            ).fetchall()
        return [
            {
                "upload_id": r["upload_id"],
                "filename": r["filename"],
                "size": r["size"],
                "intelligent": bool(r["fii"]),
                "created": r["created"],
                "parts_done": r["parts"],
                "received": r["received"],
                # every part but the last has the part size, so the largest one seen
                # tells how many there will be (chunks of intelligent ingestion do not)
                "parts_total": (
                    None
                    if r["fii"] or not r["largest"]
                    else max(r["parts"], -(-r["size"] // r["largest"]))
                ),
            }
            for r in rows
            if not self._expired(r["created"])
        ]

    def list_files(self) -> list[StoredFile]:
        """Every stored file, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM files ORDER BY uploaded, handle").fetchall()
        return [_file_from_row(r) for r in rows]

    def reset(self) -> None:
        """Delete every file and upload (blobs being read go when their readers are done)."""
        with self._tx() as db:
            for table in ("files", "uploads", "parts", "commits", "completed"):
                db.execute(f"DELETE FROM {table}")
            busy = set(self._readers)
            self._doomed |= busy
            for entry in (self.root / "files").iterdir():
                if entry.name not in busy:
                    disk.remove(entry)
        shutil.rmtree(self.root / "uploads", ignore_errors=True)
        (self.root / "uploads").mkdir()
        for derived in ("processed", "av"):  # processing cache, conversion records
            shutil.rmtree(self.root / derived, ignore_errors=True)


def _has_file(db: sqlite3.Connection, handle: str) -> bool:
    return db.execute("SELECT 1 FROM files WHERE handle = ?", (handle,)).fetchone() is not None


def _forget_upload(db: sqlite3.Connection, upload_id: str) -> None:
    db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
    db.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
    db.execute("DELETE FROM commits WHERE upload_id = ?", (upload_id,))


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a data folder of an older version up to date (the ``blob`` and
    ``completed.apikey`` columns)."""
    columns = {row["name"] for row in db.execute("PRAGMA table_info(files)").fetchall()}
    if "blob" not in columns:
        db.execute("ALTER TABLE files ADD COLUMN blob TEXT")
    for row in db.execute("SELECT * FROM files WHERE blob IS NULL").fetchall():
        db.execute(
            "UPDATE files SET blob = ? WHERE handle = ?",
            (_file_from_row(row).blob, row["handle"]),
        )
    db.execute("CREATE INDEX IF NOT EXISTS files_blob ON files (blob)")
    completed = {row["name"] for row in db.execute("PRAGMA table_info(completed)").fetchall()}
    if "apikey" not in completed:
        db.execute("ALTER TABLE completed ADD COLUMN apikey TEXT")


def _row_values(file: StoredFile) -> tuple[Any, ...]:
    return (
        file.handle,
        file.filename,
        file.mimetype,
        file.size,
        file.etag,
        file.md5,
        file.uploaded,
        file.location,
        file.path,
        file.container,
        file.key,
        json.dumps(file.upload_tags) if file.upload_tags is not None else None,
        json.dumps(file.workflows) if file.workflows is not None else None,
        file.source_url,
        file.width,
        file.height,
        json.dumps(file.segments) if file.segments is not None else None,
        file.blob,
    )


def _file_from_row(row: sqlite3.Row) -> StoredFile:
    return StoredFile(
        handle=row["handle"],
        filename=row["filename"],
        mimetype=row["mimetype"],
        size=row["size"],
        etag=row["etag"],
        md5=row["md5"],
        uploaded=row["uploaded"],
        location=row["location"],
        path=row["path"],
        container=row["container"],
        key=row["key"],
        upload_tags=json.loads(row["upload_tags"]) if row["upload_tags"] else None,
        workflows=json.loads(row["workflows"]) if row["workflows"] else None,
        source_url=row["source_url"],
        width=row["width"],
        height=row["height"],
        segments=[(str(n), int(z)) for n, z in json.loads(row["segments"])]
        if row["segments"]
        else None,
    )
