"""Files on disk, metadata in SQLite.

Every method here blocks (disk, SQLite); the app calls them through
``anyio.to_thread.run_sync`` so the event loop never waits on them. One connection,
guarded by a lock, serves every thread.
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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_ALNUM = string.ascii_letters + string.digits
_COPY_BLOCK = 8 * 1024 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    handle TEXT PRIMARY KEY, filename TEXT NOT NULL, mimetype TEXT NOT NULL,
    size INTEGER NOT NULL, etag TEXT NOT NULL, md5 TEXT, uploaded INTEGER NOT NULL,
    location TEXT NOT NULL, path TEXT, container TEXT, key TEXT NOT NULL,
    upload_tags TEXT, workflows TEXT, source_url TEXT, width INTEGER, height INTEGER,
    segments TEXT
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
CREATE TABLE IF NOT EXISTS completed (upload_id TEXT PRIMARY KEY, handle TEXT NOT NULL);
"""


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
    #: the pieces a multipart upload left, in order, as (path under files/, size);
    #: ``None`` when the bytes are one file, ``files/<handle>``
    segments: list[tuple[str, int]] | None = None


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


@dataclass
class Storage:
    """The emulator's files and upload sessions under ``root``."""

    root: Path
    _db: sqlite3.Connection = field(init=False, repr=False)
    _lock: threading.RLock = field(init=False, repr=False, default_factory=threading.RLock)
    closed: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "files").mkdir(exist_ok=True)
        (self.root / "uploads").mkdir(exist_ok=True)
        self._db = sqlite3.connect(self.root / "emulator.sqlite3", check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._db.commit()

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            if not self.closed:
                self.closed = True
                self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
                self._db.commit()
            except BaseException:
                self._db.rollback()
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
        """Open an upload session."""
        upload = Upload(
            upload_id=secrets.token_urlsafe(24),
            apikey=apikey,
            filename=filename,
            mimetype=mimetype,
            size=size,
            fii=fii,
            store=store,
            created=time.time(),
        )
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
        (self.root / "uploads" / upload.upload_id).mkdir()
        return upload

    def get_upload(self, upload_id: str) -> Upload | None:
        """The upload, or ``None`` if unknown (or already completed)."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM uploads WHERE upload_id = ?", (upload_id,)
            ).fetchone()
        if row is None:
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

    def piece_path(self, upload_id: str, part: int, offset: int) -> Path:
        """Where a part (or chunk) of an upload is kept."""
        return self.root / "uploads" / upload_id / f"{part}-{offset}"

    def temp_path(self, upload_id: str) -> Path:
        """A fresh temporary path inside an upload's folder."""
        return self.root / "uploads" / upload_id / f".incoming-{secrets.token_hex(8)}"

    def record_piece(self, upload_id: str, piece: Piece, temp: Path) -> None:
        """Move a received body into place and remember it (a re-sent piece replaces the old)."""
        os.replace(temp, self.piece_path(upload_id, piece.part, piece.offset))
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?)",
                (upload_id, piece.part, piece.offset, piece.size, piece.md5, piece.etag),
            )

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

        Nothing is copied: one piece is renamed into place; several stay as they are
        (their folder is renamed) and are served in order as the file's segments.
        """
        ordered = list(pieces)
        if len(ordered) == 1:
            only = ordered[0]
            os.replace(
                self.piece_path(upload_id, only.part, only.offset), self.blob_path(file.handle)
            )
            file.segments = None
        else:
            folder = self.root / "files" / f"{file.handle}.d"
            os.replace(self.root / "uploads" / upload_id, folder)
            keep = {f"{p.part}-{p.offset}" for p in ordered}
            for leftover in folder.iterdir():
                if leftover.name not in keep:
                    leftover.unlink()
            file.segments = [(f"{file.handle}.d/{p.part}-{p.offset}", p.size) for p in ordered]
        self.add_file(file)
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO completed VALUES (?, ?)", (upload_id, file.handle))
        self.drop_upload(upload_id)
        return file

    def completed_handle(self, upload_id: str) -> str | None:
        """The handle a completed upload produced (so a repeated complete gets the same answer)."""
        with self._lock:
            row = self._db.execute(
                "SELECT handle FROM completed WHERE upload_id = ?", (upload_id,)
            ).fetchone()
        return None if row is None else str(row["handle"])

    def drop_upload(self, upload_id: str) -> None:
        """Forget an upload and delete its pieces."""
        with self._tx() as db:
            db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
            db.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
            db.execute("DELETE FROM commits WHERE upload_id = ?", (upload_id,))
        shutil.rmtree(self.root / "uploads" / upload_id, ignore_errors=True)

    # -- files ----------------------------------------------------------------------

    def blob_path(self, handle: str) -> Path:
        """Where a stored file's bytes are when they are one file."""
        return self.root / "files" / handle

    def segments(self, file: StoredFile) -> list[tuple[Path, int]]:
        """The files holding a stored file's bytes, in order, with their sizes."""
        if file.segments is None:
            return [(self.blob_path(file.handle), file.size)]
        return [(self.root / "files" / name, size) for name, size in file.segments]

    def iter_bytes(
        self, file: StoredFile, start: int = 0, length: int | None = None
    ) -> Iterator[bytes]:
        """Blocks of a stored file's bytes from ``start`` (blocking; use from a thread)."""
        remaining = file.size - start if length is None else length
        for path, size in self.segments(file):
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

    def read_bytes(self, handle: str) -> bytes:
        """A stored file's whole content (for tests and small files)."""
        file = self.get_file(handle)
        if file is None:
            raise FileNotFoundError(handle)
        return b"".join(self.iter_bytes(file))

    def add_file(self, file: StoredFile) -> None:
        """Insert or replace a file's metadata."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO files VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
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
                ),
            )

    def store_blob(self, temp: Path, file: StoredFile) -> StoredFile:
        """Move a finished temporary file into place as ``file``'s bytes and record it."""
        os.replace(temp, self.blob_path(file.handle))
        shutil.rmtree(self.root / "files" / f"{file.handle}.d", ignore_errors=True)
        file.segments = None
        self.add_file(file)
        return file

    def incoming_path(self) -> Path:
        """A fresh temporary path for a file being written."""
        return self.root / "files" / f".incoming-{secrets.token_hex(8)}"

    def get_file(self, handle: str) -> StoredFile | None:
        """A file's metadata, or ``None``."""
        with self._lock:
            row = self._db.execute("SELECT * FROM files WHERE handle = ?", (handle,)).fetchone()
        return None if row is None else _file_from_row(row)

    def set_md5(self, handle: str, md5: str) -> None:
        """Cache a file's whole-content MD5."""
        with self._tx() as db:
            db.execute("UPDATE files SET md5 = ? WHERE handle = ?", (md5, handle))

    def delete_file(self, handle: str) -> bool:
        """Delete a file; False if there was none."""
        with self._tx() as db:
            deleted = db.execute("DELETE FROM files WHERE handle = ?", (handle,)).rowcount
        self.blob_path(handle).unlink(missing_ok=True)
        shutil.rmtree(self.root / "files" / f"{handle}.d", ignore_errors=True)
        return bool(deleted)

    def list_files(self) -> list[StoredFile]:
        """Every stored file, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM files ORDER BY uploaded, handle").fetchall()
        return [_file_from_row(r) for r in rows]

    def reset(self) -> None:
        """Delete every file and upload."""
        with self._tx() as db:
            for table in ("files", "uploads", "parts", "commits", "completed"):
                db.execute(f"DELETE FROM {table}")
        for folder in ("files", "uploads"):
            shutil.rmtree(self.root / folder, ignore_errors=True)
            (self.root / folder).mkdir()
        for derived in ("processed", "av"):  # processing cache, conversion records
            shutil.rmtree(self.root / derived, ignore_errors=True)

    def hash_file(self, file: StoredFile, algorithm: str) -> str:
        """Hex digest of a stored file's bytes."""
        digest = hashlib.new(algorithm)
        for block in self.iter_bytes(file):
            digest.update(block)
        return digest.hexdigest()

    def copy_to(self, file: StoredFile, target: Path) -> str:
        """Copy a stored file's bytes to ``target``; return their MD5 (hex)."""
        digest = hashlib.md5()
        with target.open("wb") as out:
            for block in self.iter_bytes(file):
                digest.update(block)
                out.write(block)
        return digest.hexdigest()


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
