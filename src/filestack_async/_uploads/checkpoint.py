"""The checkpoint of a resumable upload (``Client.upload(..., resume=PATH)``).

A small JSON file that says which upload is running (its id, ``uri``, region and
``location_url``, the start answer that complete echoes), how the file is cut
(part size, flow), what the service has acknowledged (each part's ETag, or each
intelligent-ingestion part committed and the chunk bytes of the parts in progress)
and which file it is (`SourceIdentity`). `Journal` rewrites it atomically (a
temporary file, ``fsync``, ``rename``) after every acknowledgement; `parse` reads one
back, refusing anything it cannot trust with a `CheckpointError` that says why.

No secret is written: no API key (only a SHA-256 fingerprint of it), policy or
signature; the next run signs its requests with the security it is given.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.to_thread

from .._exceptions import CheckpointError, ConfigurationError
from .._files import local_file_error, partial_path
from .planner import MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE

#: the checkpoint format this version writes and reads
VERSION = 1
#: the ``kind`` field: what the file is, for a person who finds it
KIND = "filestack-async upload checkpoint"
#: a checkpoint larger than this is not one this SDK wrote (10,000 parts fit in ~1 MB)
MAX_CHECKPOINT_BYTES = 4 * 1024 * 1024
#: bytes hashed at each end of the source for its identity
IDENTITY_SPAN = 1024 * 1024
#: the longest string field accepted (ids, ETags, URLs)
_MAX_TEXT = 4096
#: the largest file S3 multipart can hold
_MAX_SIZE = MAX_PARTS * MAX_PART_SIZE

Flow = Literal["regular", "intelligent"]


@dataclass(frozen=True)
class SourceIdentity:
    """What identifies the file being uploaded: size, modification time, both ends' hashes.

    ``mtime_ns`` is ``None`` for a file object without a file descriptor; ``name``
    (a path or the file object's name) only makes messages clearer.
    """

    size: int
    mtime_ns: int | None
    head_sha256: str
    tail_sha256: str
    name: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The ``source`` object of the checkpoint."""
        return {
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "head_sha256": self.head_sha256,
            "tail_sha256": self.tail_sha256,
            "name": self.name,
        }


def identify(
    read_at: Callable[[int, int], bytes], size: int, mtime_ns: int | None, name: str | None
) -> SourceIdentity:
    """The identity of a source of ``size`` bytes (blocking: run it in a worker thread)."""
    span = min(IDENTITY_SPAN, size)
    head = hashlib.sha256(read_at(0, span) if span else b"").hexdigest()
    tail = hashlib.sha256(read_at(size - span, span) if span else b"").hexdigest()
    return SourceIdentity(size, mtime_ns, head, tail, name)


def apikey_fingerprint(apikey: str) -> str:
    """A short SHA-256 fingerprint of the API key (the key itself is never written)."""
    return hashlib.sha256(apikey.encode()).hexdigest()[:16]


@dataclass
class Checkpoint:
    """Everything a later run needs to continue an upload (see the module docstring)."""

    flow: Flow
    service: str
    apikey_sha256: str
    start_response: dict[str, Any]
    part_size: int
    settings: dict[str, Any]
    source: SourceIdentity
    #: regular: part number -> ETag (verbatim, quotes kept)
    etags: dict[int, str] = field(default_factory=dict)
    #: intelligent: the committed part numbers
    committed: set[int] = field(default_factory=set)
    #: intelligent: part number -> bytes of it acknowledged, for parts not yet committed
    chunks: dict[int, int] = field(default_factory=dict)

    @property
    def upload_id(self) -> str:
        """The upload's id (from the start answer)."""
        return str(self.start_response["upload_id"])

    def as_json(self) -> dict[str, Any]:
        """The JSON object written to the file."""
        data: dict[str, Any] = {
            "version": VERSION,
            "kind": KIND,
            "flow": self.flow,
            "service": self.service,
            "apikey_sha256": self.apikey_sha256,
            "upload_id": self.upload_id,
            "uri": self.start_response["uri"],
            "region": self.start_response["region"],
            "location_url": self.start_response["location_url"],
            "start_response": self.start_response,
            "part_size": self.part_size,
            "settings": self.settings,
            "source": self.source.as_json(),
        }
        if self.flow == "regular":
            data["parts"] = [
                {"part_number": number, "etag": self.etags[number]} for number in sorted(self.etags)
            ]
        else:
            data["committed"] = sorted(self.committed)
            data["chunks"] = [
                {"part_number": number, "bytes": self.chunks[number]}
                for number in sorted(self.chunks)
            ]
        return data

    def encode(self) -> bytes:
        """The file's bytes (compact JSON, ASCII, one line)."""
        return json.dumps(self.as_json(), separators=(",", ":"), allow_nan=False).encode("ascii")

    def acknowledged_bytes(self) -> int:
        """Bytes the service has acknowledged so far."""
        size = self.source.size
        count = -(-size // self.part_size)
        done = 0
        for number in self.etags if self.flow == "regular" else self.committed:
            done += _part_length(number, self.part_size, size, count)
        return done + sum(self.chunks.values())


def _part_length(number: int, part_size: int, size: int, count: int) -> int:
    return size - part_size * (count - 1) if number == count else part_size


# -- reading ----------------------------------------------------------------------------


class _Reader:
    """Typed access to a decoded checkpoint; every problem is a `CheckpointError`."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, why: str, reason: str = "corrupt") -> CheckpointError:
        return CheckpointError(
            f"the upload checkpoint {self.path!r} cannot be used: {why}; delete it to start "
            "the upload afresh",
            path=self.path,
            reason=reason,
        )

    def obj(self, data: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key)
        if not isinstance(value, dict):
            raise self.fail(f"{key!r} is not an object")
        return value

    def text(self, data: Mapping[str, Any], key: str, *, optional: bool = False) -> str | None:
        value = data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value or len(value) > _MAX_TEXT:
            raise self.fail(f"{key!r} is not a non-empty string")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            raise self.fail(f"{key!r} holds control characters")
        return value

    def integer(
        self, data: Mapping[str, Any], key: str, low: int, high: int, *, optional: bool = False
    ) -> int | None:
        value = data.get(key)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(f"{key!r} is not an integer in {low}..{high}")
        return value

    def numbers(self, data: Mapping[str, Any], key: str, count: int) -> list[int]:
        value = data.get(key)
        if not isinstance(value, list):
            raise self.fail(f"{key!r} is not a list")
        out: list[int] = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= count:
                raise self.fail(f"{key!r} holds a part number outside 1..{count}")
            out.append(item)
        if len(set(out)) != len(out):
            raise self.fail(f"{key!r} names a part twice")
        return out

    def entries(self, data: Mapping[str, Any], key: str, count: int) -> list[dict[str, Any]]:
        value = data.get(key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"{key!r} is not a list of objects")
        numbers = [self.integer(v, "part_number", 1, count) for v in value]
        if len(set(numbers)) != len(numbers):
            raise self.fail(f"{key!r} names a part twice")
        return value


def parse(raw: bytes, path: str) -> Checkpoint:
    """Decode and check a checkpoint file's bytes.

    Raises:
        CheckpointError: not JSON, another format version, or a field that is
            missing, of the wrong type or out of range (``reason`` ``"corrupt"`` or
            ``"version"``).
    """
    read = _Reader(path)
    if not raw.strip():
        raise read.fail("the file is empty")
    if len(raw) > MAX_CHECKPOINT_BYTES:
        raise read.fail(f"it is larger than {MAX_CHECKPOINT_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise read.fail(f"it is not valid JSON ({type(err).__name__})") from None
    if not isinstance(data, dict):
        raise read.fail("it is not a JSON object")
    if data.get("kind") != KIND:
        raise read.fail("it is not a filestack-async upload checkpoint")
    version = data.get("version")
    if version != VERSION or isinstance(version, bool):
        raise read.fail(
            f"it has format version {str(version)[:20]!r}; this SDK reads version {VERSION}",
            "version",
        )
    flow = data.get("flow")
    if flow not in ("regular", "intelligent"):
        raise read.fail("'flow' is neither 'regular' nor 'intelligent'")
    start_response = read.obj(data, "start_response")
    for key in ("upload_id", "uri", "region", "location_url"):
        read.text(start_response, key)
        if data.get(key) != start_response[key]:
            raise read.fail(f"{key!r} differs from the start answer it was copied from")
    source_data = read.obj(data, "source")
    size = read.integer(source_data, "size", 1, _MAX_SIZE)
    assert size is not None
    part_size = read.integer(data, "part_size", MIN_PART_SIZE, MAX_PART_SIZE)
    assert part_size is not None
    count = -(-size // part_size)
    if count > MAX_PARTS:
        raise read.fail(f"a {size}-byte file in {part_size}-byte parts needs over {MAX_PARTS}")
    source = SourceIdentity(
        size=size,
        mtime_ns=read.integer(source_data, "mtime_ns", -(2**63), 2**63 - 1, optional=True),
        head_sha256=_sha256(read, source_data, "head_sha256"),
        tail_sha256=_sha256(read, source_data, "tail_sha256"),
        name=read.text(source_data, "name", optional=True),
    )
    checkpoint = Checkpoint(
        flow=flow,
        service=str(read.text(data, "service")),
        apikey_sha256=str(read.text(data, "apikey_sha256")),
        start_response=start_response,
        part_size=part_size,
        settings=read.obj(data, "settings"),
        source=source,
    )
    if flow == "regular":
        for entry in read.entries(data, "parts", count):
            checkpoint.etags[entry["part_number"]] = str(read.text(entry, "etag"))
    else:
        checkpoint.committed = set(read.numbers(data, "committed", count))
        for entry in read.entries(data, "chunks", count):
            number = entry["part_number"]
            length = _part_length(number, part_size, size, count)
            done = read.integer(entry, "bytes", 1, length)
            if number in checkpoint.committed:
                raise read.fail(f"part {number} is both committed and in progress")
            assert done is not None
            checkpoint.chunks[number] = done
    return checkpoint


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _sha256(read: _Reader, data: Mapping[str, Any], key: str) -> str:
    value = read.text(data, key)
    assert value is not None
    if len(value) != 64 or any(ch not in "0123456789abcdef" for ch in value):
        raise read.fail(f"{key!r} is not a SHA-256 hex digest")
    return value


def load(path: Path) -> Checkpoint | None:
    """The checkpoint at ``path``, or ``None`` when there is none (blocking).

    Raises:
        CheckpointError: it exists but cannot be read (``reason="unreadable"``) or
            trusted (see `parse`).
    """
    shown = os.fspath(path)
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_CHECKPOINT_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise CheckpointError(
            f"the upload checkpoint {shown!r} cannot be read: {err.strerror or err}",
            path=shown,
            reason="unreadable",
        ) from err
    return parse(raw, shown)


def check_location(resume: object) -> Path:
    """``resume=`` as a Path whose folder exists, else `ConfigurationError` (blocking)."""
    if not isinstance(resume, str | os.PathLike) or isinstance(resume, bytes):
        raise ConfigurationError(
            f"resume must be a str or os.PathLike naming the checkpoint file, not "
            f"{type(resume).__name__}"
        )
    path = Path(resume)
    if not os.fspath(path) or path.name in ("", ".", ".."):
        raise ConfigurationError("resume must name a checkpoint file, not a folder")
    if path.is_dir():
        raise ConfigurationError(f"resume={os.fspath(path)!r} is a folder, not a checkpoint file")
    if not path.parent.is_dir():
        raise ConfigurationError(
            f"the folder of resume={os.fspath(path)!r} does not exist; create it first"
        )
    return path


def mismatch(checkpoint: Checkpoint, path: Path, **now: Any) -> CheckpointError | None:
    """Why ``checkpoint`` is not for this upload (``now``: flow, service, apikey_sha256,
    settings, source), as a `CheckpointError`; ``None`` when it is."""
    shown = os.fspath(path)

    def refused(why: str, reason: str) -> CheckpointError:
        return CheckpointError(
            f"the upload checkpoint {shown!r} {why}; delete it (or use another resume= "
            "path) to upload this file afresh",
            path=shown,
            reason=reason,
        )

    source: SourceIdentity = now["source"]
    old = checkpoint.source
    if checkpoint.service != now["service"]:
        return refused(f"was written for another service ({checkpoint.service})", "other-upload")
    if checkpoint.apikey_sha256 != now["apikey_sha256"]:
        return refused("was written with another API key", "other-upload")
    if old.name != source.name and (old.head_sha256, old.size) != (source.head_sha256, source.size):
        return refused(f"was written for another file ({old.name!r})", "other-file")
    if old.size != source.size:
        return refused(
            f"is for a file of {old.size} bytes, but the source now has {source.size}: the "
            "source changed",
            "changed",
        )
    if (old.head_sha256, old.tail_sha256) != (source.head_sha256, source.tail_sha256):
        return refused("does not match the source's contents: the source changed", "changed")
    if old.mtime_ns != source.mtime_ns:
        return refused(
            "was written before the source's last modification: the source changed", "changed"
        )
    if checkpoint.flow != now["flow"]:
        return refused(
            f"is for a {checkpoint.flow} upload, not a {now['flow']} one (intelligent=)",
            "other-upload",
        )
    for key in sorted(set(checkpoint.settings) | set(now["settings"])):
        if checkpoint.settings.get(key) != now["settings"].get(key):
            return refused(f"was written with another {key!r}", "other-upload")
    return None


# -- writing ----------------------------------------------------------------------------


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data``: a temporary file beside it, ``fsync``, ``rename``
    (and the folder's ``fsync`` where it has one), so a crash leaves the old or the new.

    Raises:
        LocalFileError: the file system refused (a full disk, a read-only folder).
    """
    temporary = partial_path(path)
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError as err:
        try:
            temporary.unlink()
        except OSError:
            pass
        raise local_file_error(err, path) from err
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not on this platform (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove(path: Path) -> None:
    """Remove the checkpoint (blocking; gone already is fine)."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as err:
        raise local_file_error(err, path) from err


class Journal:
    """The checkpoint of a running upload, rewritten after each acknowledgement.

    Writes are serialised and coalesced: an acknowledgement whose state another
    write already carried does not write again.
    """

    def __init__(self, path: Path, checkpoint: Checkpoint) -> None:
        self.path = path
        self.checkpoint = checkpoint
        self._changes = 0
        self._written = -1
        self._lock = anyio.Lock()

    async def save(self) -> None:
        """Write the current state unless a write already carried it."""
        wanted = self._changes
        async with self._lock:
            if self._written >= wanted:
                return
            current = self._changes
            data = self.checkpoint.encode()
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(write_atomically, self.path, data)
            self._written = current

    async def part_acknowledged(self, number: int, etag: str) -> None:
        """A regular part's PUT answered with ``etag``."""
        self.checkpoint.etags[number] = etag
        self._changes += 1
        await self.save()

    async def chunk_acknowledged(self, number: int, end: int) -> None:
        """An intelligent-ingestion chunk went through: the part's bytes up to ``end`` are in."""
        self.checkpoint.chunks[number] = end
        self._changes += 1
        await self.save()

    async def part_committed(self, number: int) -> None:
        """An intelligent-ingestion part was committed."""
        self.checkpoint.committed.add(number)
        self.checkpoint.chunks.pop(number, None)
        self._changes += 1
        await self.save()

    async def remove(self) -> None:
        """Remove the file (the upload completed)."""
        await anyio.to_thread.run_sync(remove, self.path)
