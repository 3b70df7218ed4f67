"""The multipart model on its own (no HTTP): state transitions, refusals, the
idempotent complete, expiry."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from filestack_async.emulator.multipart import MIN_PART, Multipart, check_size, multipart_etag
from filestack_async.emulator.storage import Piece, Storage, StoredFile, Upload, new_handle
from filestack_async.emulator.strict import Checker, ProtocolError, ViolationLog

KEY = "MODELKEY"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def model(tmp_path: Path, clock: Clock) -> Iterator[Multipart]:
    storage = Storage(tmp_path / "data", upload_expiry=100, clock=clock)
    yield Multipart(storage)
    storage.close()


def checker(*, strict: bool = False) -> Checker:
    return Checker(ViolationLog(), "model", strict=strict)


def start(model: Multipart, size: int, *, fii: bool = False) -> Upload:
    return model.start(
        apikey=KEY,
        filename="f.bin",
        mimetype="application/octet-stream",
        size=size,
        fii=fii,
        store={"location": "S3"},
    )


def put(model: Multipart, upload: Upload, part: int, data: bytes, offset: int = 0) -> Piece:
    digest = hashlib.md5(data).hexdigest()
    piece = Piece(part, offset, len(data), digest, f'"{digest}"')
    temp = model.storage.temp_path(upload.upload_id)
    temp.write_bytes(data)
    model.storage.record_piece(upload.upload_id, piece, temp)
    return piece


def stored_file(upload: Upload, pieces: list[Piece]) -> StoredFile:
    handle = new_handle()
    return StoredFile(
        handle=handle,
        filename=upload.filename,
        mimetype=upload.mimetype,
        size=upload.size,
        etag=multipart_etag(pieces),
        uploaded=0,
        location="S3",
        key=f"{handle}_f.bin",
    )


class _Code:
    """``with _Code("X"):`` expects a ProtocolError with that code."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, err: object, tb: object) -> bool:
        assert isinstance(err, ProtocolError), f"expected {self.code}, got {err!r}"
        assert err.code == self.code, err.message
        return True


def test_start_parts_complete_then_the_upload_is_gone(model: Multipart) -> None:
    data = b"a" * MIN_PART + b"tail"
    upload = start(model, len(data))
    first = put(model, upload, 1, data[:MIN_PART])
    second = put(model, upload, 2, data[MIN_PART:])
    parts = [{"part_number": 1, "etag": first.etag}, {"part_number": 2, "etag": second.etag}]
    session = model.session(checker(), KEY, upload.upload_id)
    ordered = model.pieces_to_complete(checker(), session, parts)
    assert ordered == [first, second]
    file = model.complete(session, ordered, stored_file(session, ordered))
    assert model.storage.read_bytes(file.handle) == data
    with _Code("NoSuchUpload"):
        model.session(checker(), KEY, upload.upload_id)


def test_a_session_is_bound_to_its_key(model: Multipart) -> None:
    upload = start(model, 3)
    with _Code("WrongApikey"):
        model.session(checker(), "OTHER", upload.upload_id)
    with _Code("NoSuchUpload"):
        model.session(checker(), KEY, "no-such-upload")


def test_a_repeated_complete_gets_the_same_file_for_the_same_key_only(model: Multipart) -> None:
    upload = start(model, 3)
    assert model.finished(KEY, upload.upload_id) is None  # not completed yet
    piece = put(model, upload, 1, b"abc")
    ordered = model.pieces_to_complete(checker(), upload, [{"part_number": 1, "etag": piece.etag}])
    file = model.complete(upload, ordered, stored_file(upload, ordered))
    again = model.finished(KEY, upload.upload_id)
    assert again is not None and again.handle == file.handle
    assert model.finished(KEY, upload.upload_id) == again  # idempotent
    with _Code("WrongApikey"):
        model.finished("OTHER", upload.upload_id)


def test_part_rules(model: Multipart) -> None:
    upload = start(model, 10)
    md5 = "1B2M2Y8AsgTpgAmY7PhCfg=="  # MD5 of b""
    assert model.check_part(checker(), upload, 1, 10, md5=md5, offset=None, fii=None) is None
    for part, size, digest, message in (
        (0, 5, md5, "outside 1..10000"),
        (10_001, 5, md5, "outside 1..10000"),
        (1, 0, md5, "must be positive"),
        (1, 11, md5, "larger than the whole file"),
        (1, 5, "not-base64", "standard base64"),
    ):
        with pytest.raises(ProtocolError, match=message):
            model.check_part(checker(), upload, part, size, md5=digest, offset=None, fii=None)
    lenient = checker()
    assert model.check_part(lenient, upload, 1, 5, md5=None, offset=3, fii=None) is None
    logged = [v.message for v in lenient.log.snapshot()]
    assert any("only for intelligent ingestion" in m for m in logged)
    # no md5 (filestack-js disableIntegrityCheck) is what the service takes, in strict mode too
    strict = checker(strict=True)
    assert model.check_part(strict, upload, 1, 5, md5=None, offset=None, fii=None) is None
    assert strict.log.snapshot() == []


def test_chunk_rules_of_intelligent_ingestion(model: Multipart) -> None:
    upload = start(model, 10, fii=True)
    md5 = "1B2M2Y8AsgTpgAmY7PhCfg=="
    assert model.check_part(checker(), upload, 1, 4, md5=md5, offset=4, fii=True) == 4
    with pytest.raises(ProtocolError, match="non-negative 'offset'"):
        model.check_part(checker(), upload, 1, 4, md5=md5, offset=None, fii=True)
    with pytest.raises(ProtocolError, match="beyond the end"):
        model.check_part(checker(), upload, 1, 4, md5=md5, offset=10, fii=True)
    with pytest.raises(ProtocolError, match="'fii' should be true"):
        model.check_part(checker(strict=True), upload, 1, 4, md5=md5, offset=0, fii=None)


def test_commit_needs_contiguous_chunks_and_complete_needs_every_commit(
    model: Multipart,
) -> None:
    upload = start(model, 6, fii=True)
    with pytest.raises(ProtocolError, match="no chunks to commit"):
        model.commit(checker(), upload, 1)
    put(model, upload, 1, b"ab", offset=0)
    put(model, upload, 1, b"ef", offset=4)
    with pytest.raises(ProtocolError, match="gap between offsets 2 and 4"):
        model.commit(checker(), upload, 1)
    put(model, upload, 1, b"cd", offset=2)
    with pytest.raises(ProtocolError, match="not committed: \\[1\\]"):
        model.pieces_to_complete(checker(), upload, None)
    model.commit(checker(), upload, 1)
    ordered = model.pieces_to_complete(checker(), upload, None)
    assert [p.offset for p in ordered] == [0, 2, 4]
    file = model.complete(upload, ordered, stored_file(upload, ordered))
    assert model.storage.read_bytes(file.handle) == b"abcdef"


def test_complete_refusals_of_a_regular_upload(model: Multipart) -> None:
    upload = start(model, 8)
    small = put(model, upload, 1, b"abcd")
    last = put(model, upload, 2, b"efgh")
    good = [{"part_number": 1, "etag": small.etag}, {"part_number": 2, "etag": last.etag}]
    with pytest.raises(ProtocolError, match="no parts"):
        model.pieces_to_complete(checker(), upload, [])
    with _Code("InvalidPart"):
        model.pieces_to_complete(checker(), upload, [{"part_number": 3, "etag": small.etag}])
    with _Code("InvalidPart"):
        model.pieces_to_complete(checker(), upload, [{"part_number": 1, "etag": '"0"'}])
    with _Code("EntityTooSmall"):
        model.pieces_to_complete(checker(), upload, good)
    with pytest.raises(ProtocolError, match="not the declared 8"):
        model.pieces_to_complete(checker(), upload, good[:1])
    unquoted = [{"part_number": 1, "etag": small.etag.strip('"')}]
    with pytest.raises(ProtocolError, match="lost its quotes"):
        model.pieces_to_complete(checker(strict=True), upload, unquoted)


def test_an_upload_expires(model: Multipart, clock: Clock) -> None:
    upload = start(model, 3)
    piece = put(model, upload, 1, b"abc")
    clock.now += 101
    with _Code("NoSuchUpload"):
        model.session(checker(), KEY, upload.upload_id)
    with pytest.raises(ProtocolError, match="does not exist"):
        model.complete(upload, [piece], stored_file(upload, [piece]))
    assert model.finished(KEY, upload.upload_id) is None


def test_the_declared_size(model: Multipart) -> None:
    check_size(checker(), 0)
    with pytest.raises(ProtocolError, match="must not be negative"):
        check_size(checker(), -1)
    with pytest.raises(ProtocolError, match="largest object"):
        check_size(checker(), 5 * 1024**4 + 1)
