"""The multipart upload model: the rules of start, parts, commit, complete and expiry.

The Upload API handlers (:mod:`.upload_api`) parse requests and write answers; every
rule about an upload session lives here, as moto keeps ``models.py`` apart from
``responses.py``. The model keeps its state in :class:`.storage.Storage` (an upload
expires ``upload_expiry`` seconds after its start, by the storage's clock) and reports
broken rules through a :class:`.strict.Checker` (a deviation, or a fatal refusal).

Its methods block (SQLite, the file system): call them in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from .storage import Piece, Storage, StoredFile, Upload
from .strict import Checker, ProtocolError

MiB = 1024 * 1024
#: S3's smallest part, except the last one
MIN_PART = 5 * MiB
#: S3's largest object (5 TiB); larger sizes are refused (and would not fit SQLite)
MAX_FILE = 5 * 1024**4
#: the most parts an S3 multipart upload has
MAX_PARTS = 10_000


def b64_md5(text: object) -> bytes | None:
    """The 16-byte digest a standard-base64 MD5 text holds, else ``None``."""
    if not isinstance(text, str) or len(text) != 24:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 16 else None


def check_owner(apikey: str, owner: str | None) -> None:
    """An upload goes on (or is completed again) only with the API key that started it
    (``owner``; ``None``, unrecorded by an older version, matches no key): else a 403."""
    if owner is None or not hmac.compare_digest(apikey.encode(), owner.encode()):
        raise ProtocolError(
            "this upload was started with another apikey", status=403, code="WrongApikey"
        )


def check_size(checker: Checker, size: int) -> None:
    """The declared size of a new upload: not negative, at most :data:`MAX_FILE`."""
    if size < 0:
        checker.fatal("field 'size' must not be negative")
    if size > MAX_FILE:
        checker.fatal(f"field 'size' is more than the largest object S3 stores ({MAX_FILE})")


def check_contiguous(checker: Checker, part: int, chunks: list[Piece]) -> None:
    """Chunks of a part must start at 0 and follow each other with no gap or overlap."""
    expected = 0
    for chunk in sorted(chunks, key=lambda c: c.offset):
        if chunk.offset > expected:
            checker.fatal(f"part {part}: gap between offsets {expected} and {chunk.offset}")
        if chunk.offset < expected:
            checker.fatal(f"part {part}: the chunk at offset {chunk.offset} overlaps the previous")
        expected = chunk.offset + chunk.size


def multipart_etag(pieces: list[Piece]) -> str:
    """An S3-style ETag of a multipart object: MD5 of the parts' digests, dash, count."""
    digest = hashlib.md5(b"".join(bytes.fromhex(p.md5) for p in pieces))
    return f'"{digest.hexdigest()}-{len(pieces)}"'


class Multipart:
    """Upload sessions over a :class:`.storage.Storage`."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def start(
        self,
        *,
        apikey: str,
        filename: str,
        mimetype: str,
        size: int,
        fii: bool,
        store: dict[str, Any],
    ) -> Upload:
        """A new upload session bound to ``apikey`` (``size`` checked by :func:`check_size`)."""
        return self.storage.create_upload(
            apikey=apikey, filename=filename, mimetype=mimetype, size=size, fii=fii, store=store
        )

    def session(self, checker: Checker, apikey: str, upload_id: str) -> Upload:
        """The live upload ``upload_id``, for the key that started it.

        Unknown, completed or expired: fatal ``NoSuchUpload``; another key: 403.
        """
        upload = self.storage.get_upload(upload_id)
        if upload is None:
            checker.fatal(f"unknown upload_id {upload_id[:40]!r}", code="NoSuchUpload")
        check_owner(apikey, upload.apikey)
        return upload

    def finished(self, apikey: str, upload_id: str) -> StoredFile | None:
        """The file a completed upload stored, for a repeated complete (its first answer
        lost); ``None`` if the upload did not complete (or its file is gone). Another key
        than the one that started the upload: 403 ``WrongApikey``."""
        done = self.storage.completed_upload(upload_id)
        if done is None:
            return None
        handle, owner = done
        check_owner(apikey, owner)
        return self.storage.get_file(handle)

    def check_part(
        self,
        checker: Checker,
        upload: Upload,
        part: int,
        size: int,
        *,
        md5: object,
        offset: object,
        fii: object,
    ) -> int | None:
        """The rules of a part (or chunk) about to be sent; the offset it goes to.

        ``md5`` is the standard base64 of the part's MD5, or absent (filestack-js's
        ``disableIntegrityCheck``: the PUT then carries no Content-MD5). ``offset`` is
        for intelligent ingestion only (a deviation otherwise, and dropped), where
        ``fii`` should be true; a request with neither ``offset`` nor ``fii`` on an
        upload started as intelligent is a whole regular part (filestack-js's
        ``intelligent: 'fallback'`` sends its parts so until one fails).
        """
        if part < 1 or part > MAX_PARTS:
            checker.fatal(f"part number {part} is outside 1..{MAX_PARTS}")
        if size < 1:
            checker.fatal("field 'size' must be positive")
        if md5 is not None and b64_md5(md5) is None:
            checker.fatal("field 'md5' must be the standard base64 of a 16-byte MD5 digest")
        if upload.fii and offset is None and fii is None:
            pass  # a regular part of a fallback upload
        elif upload.fii:
            if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
                checker.fatal("an intelligent-ingestion chunk needs a non-negative 'offset'")
            if fii is not True:
                checker.deviation("field 'fii' should be true for an intelligent-ingestion chunk")
        elif offset is not None:
            checker.deviation("field 'offset' is only for intelligent ingestion")
            offset = None
        if size > upload.size:
            checker.fatal(f"a {size}-byte part is larger than the whole file")
        if isinstance(offset, int) and offset >= upload.size:
            checker.fatal(f"offset {offset} is beyond the end of the {upload.size}-byte file")
        return offset if isinstance(offset, int) else None

    def commit(self, checker: Checker, upload: Upload, part: int) -> None:
        """Mark an intelligent-ingestion part as whole: its chunks must be contiguous."""
        chunks = [p for p in self.storage.pieces(upload.upload_id) if p.part == part]
        if not chunks:
            checker.fatal(f"part {part} has no chunks to commit")
        check_contiguous(checker, part, chunks)
        self.storage.record_commit(upload.upload_id, part)

    def pieces_to_complete(self, checker: Checker, upload: Upload, parts: object) -> list[Piece]:
        """The pieces of a complete in file order, once every rule holds.

        ``parts`` is the regular upload's list of ``{"part_number", "etag"}``; an
        intelligent-ingestion upload completes from its committed parts.
        """
        pieces = self.storage.pieces(upload.upload_id)
        if upload.fii:
            if parts is not None:
                _check_fallback_parts(checker, parts, pieces)
            return self._fii_pieces(checker, upload, pieces)
        return _regular_pieces(checker, upload, parts, pieces)

    def complete(self, upload: Upload, pieces: list[Piece], file: StoredFile) -> StoredFile:
        """Store the checked ``pieces`` as ``file`` and end the upload (see
        :meth:`.storage.Storage.assemble`)."""
        return self.storage.assemble(upload.upload_id, pieces, file)

    def _fii_pieces(self, checker: Checker, upload: Upload, pieces: list[Piece]) -> list[Piece]:
        if not pieces:
            checker.fatal("complete before any chunk was uploaded")
        committed = self.storage.commits(upload.upload_id)
        numbers = sorted({p.part for p in pieces})
        if numbers != list(range(1, len(numbers) + 1)):
            checker.fatal(f"parts must be numbered 1..N without gaps, got {numbers}")
        missing = [n for n in numbers if n not in committed]
        if missing:
            checker.fatal(f"complete before every part was committed (not committed: {missing})")
        ordered: list[Piece] = []
        for number in numbers:
            chunks = [p for p in pieces if p.part == number]
            check_contiguous(checker, number, chunks)
            ordered.extend(chunks)
        total = sum(p.size for p in ordered)
        if total != upload.size:
            checker.fatal(f"the chunks hold {total} bytes, not the declared {upload.size}")
        return ordered


def _check_fallback_parts(checker: Checker, parts: object, pieces: list[Piece]) -> None:
    """The ``parts`` of an intelligent upload's complete: the parts that went regular
    before a fallback switched (each one whole piece, its ETag as the PUT answered)."""
    if not isinstance(parts, list):
        checker.fatal("'parts' must be a list")
    for entry in parts:
        if not isinstance(entry, Mapping):
            checker.fatal("each entry of 'parts' must be an object")
        number, etag = entry.get("part_number"), entry.get("etag")
        chunks = [p for p in pieces if p.part == number]
        if len(chunks) != 1 or chunks[0].offset != 0:
            checker.fatal(f"part {number} was not uploaded as one regular part", code="InvalidPart")
        if not isinstance(etag, str) or etag.strip('"') != chunks[0].etag.strip('"'):
            checker.fatal(f"part {number}: the ETag does not match", code="InvalidPart")


def _regular_pieces(
    checker: Checker, upload: Upload, parts: object, pieces: list[Piece]
) -> list[Piece]:
    if not isinstance(parts, list) or not parts:
        checker.fatal(
            "complete has no parts: an empty upload cannot be completed "
            "(S3 multipart needs at least one part)"
        )
    received = {p.part: p for p in pieces}
    numbers: list[int] = []
    ordered: list[Piece] = []
    for entry in parts:
        if not isinstance(entry, Mapping):
            checker.fatal("each entry of 'parts' must be an object")
        number, etag = entry.get("part_number"), entry.get("etag")
        if not isinstance(number, int) or isinstance(number, bool):
            checker.fatal("'part_number' must be an integer")
        if not isinstance(etag, str):
            checker.fatal(f"part {number}: 'etag' must be a string")
        piece = received.get(number)
        if piece is None:
            checker.fatal(f"part {number} was never uploaded", code="InvalidPart")
        if etag != piece.etag:
            if etag.strip('"') == piece.etag.strip('"'):
                checker.deviation(f"part {number}: the ETag lost its quotes")
            else:
                checker.fatal(f"part {number}: the ETag does not match", code="InvalidPart")
        numbers.append(number)
        ordered.append(piece)
    if numbers != sorted(numbers):
        checker.deviation("'parts' must be in ascending part order")
    if sorted(numbers) != list(range(1, len(numbers) + 1)):
        checker.fatal(f"parts must be numbered 1..N without gaps or repeats, got {numbers}")
    ordered.sort(key=lambda p: p.part)
    for piece in ordered[:-1]:
        if piece.size < MIN_PART:
            checker.fatal(
                f"part {piece.part} has {piece.size} bytes; every part but the last needs "
                f"at least {MIN_PART}",
                code="EntityTooSmall",
            )
    total = sum(p.size for p in ordered)
    if total != upload.size:
        checker.fatal(f"the parts hold {total} bytes, not the declared {upload.size}")
    return ordered
