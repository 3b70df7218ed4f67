"""Seed data: files stored when the emulator starts, with stable handles.

``seed`` is a folder or a JSON manifest.

* A folder: every regular file under it (symbolic links are refused), with its
  path under the folder as ``path``, its name as ``filename``, a mimetype guessed
  from the name, and a handle derived from the path (the same in every run).
* A manifest ``{"files": [{...}, ...]}``, each entry with exactly one of
  ``source`` (a file relative to the manifest's folder, which it may not leave),
  ``content`` (text) or ``content_base64``; and optionally ``handle`` (20 letters
  and digits; default derived from the entry's position and filename),
  ``filename``, ``mimetype``, ``path``, ``container`` and ``tags`` (upload tags,
  within the service's limits).

Everything is checked before anything is stored: a bad seed raises `SeedError`
naming the entry and the cause, and the emulator does not start.

Example manifest::

    {"files": [{"handle": "AAAAAAAAAAAAAAAAAAAA", "filename": "hello.txt",
                "content": "hello", "tags": {"team": "docs"}}]}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import mimetypes
import os
import string
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._exceptions import ConfigurationError
from .._params import validate_handle
from .images import probe_size
from .storage import Storage, StoredFile

#: the most files a seed may hold
MAX_SEED_FILES = 10_000
#: the largest manifest read
MAX_MANIFEST = 16 * 1024 * 1024
MAX_TAGS, MAX_TAG_KEY, MAX_TAG_VALUE = 10, 128, 256
_KEYS = {
    "handle",
    "filename",
    "mimetype",
    "path",
    "container",
    "tags",
    "source",
    "content",
    "content_base64",
}
_ALNUM = string.ascii_letters + string.digits


class SeedError(ValueError):
    """The seed folder or manifest cannot be used (the message names why)."""


@dataclass(frozen=True)
class SeedFile:
    """One checked seed entry: its bytes (a file or in memory) and its metadata."""

    handle: str
    filename: str
    mimetype: str
    path: str | None
    container: str | None
    tags: dict[str, str] | None
    source: Path | None
    content: bytes | None


def stable_handle(name: str) -> str:
    """A handle derived from ``name``: the same in every run."""
    number = int.from_bytes(hashlib.sha256(f"filestack-seed:{name}".encode()).digest(), "big")
    letters = []
    for _ in range(20):
        number, index = divmod(number, len(_ALNUM))
        letters.append(_ALNUM[index])
    return "".join(letters)


def _guess(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def read_folder(folder: Path) -> list[SeedFile]:
    """The seed entries of a folder (see the module docs)."""
    found: list[SeedFile] = []
    root = folder.resolve()
    for current, dirs, names in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            full = Path(current) / name
            relative = full.relative_to(root).as_posix()
            if full.is_symlink():
                raise SeedError(f"seed folder: {relative!r} is a symbolic link (not followed)")
            if not full.is_file():
                continue
            if len(found) >= MAX_SEED_FILES:
                raise SeedError(f"seed folder: more than {MAX_SEED_FILES} files")
            found.append(
                SeedFile(
                    stable_handle(relative), name, _guess(name), relative, None, None, full, None
                )
            )
    return found


def _text(entry: dict[str, Any], key: str, where: str, limit: int = 1024) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise SeedError(f"{where}: {key} must be a non-empty string of at most {limit} characters")
    return value


def _tags(value: object, where: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SeedError(f"{where}: tags must be an object of strings")
    if len(value) > MAX_TAGS:
        raise SeedError(f"{where}: tags has {len(value)} keys; at most {MAX_TAGS}")
    for key, text in value.items():
        if not isinstance(text, str):
            raise SeedError(f"{where}: tags values must be strings")
        if not 1 <= len(key) <= MAX_TAG_KEY or len(text) > MAX_TAG_VALUE:
            raise SeedError(
                f"{where}: tag keys are 1 to {MAX_TAG_KEY} characters and values at most "
                f"{MAX_TAG_VALUE}"
            )
    return dict(value)


def _entry(entry: object, index: int, base: Path) -> SeedFile:
    where = f"seed manifest entry {index}"
    if not isinstance(entry, dict):
        raise SeedError(f"{where}: must be an object")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise SeedError(f"{where}: unknown keys {unknown[:5]}; known: {', '.join(sorted(_KEYS))}")
    given = [k for k in ("source", "content", "content_base64") if entry.get(k) is not None]
    if len(given) != 1:
        raise SeedError(f"{where}: give exactly one of source, content, content_base64")
    source: Path | None = None
    content: bytes | None = None
    if given[0] == "source":
        name = _text(entry, "source", where)
        assert name is not None
        candidate = (base / name).resolve()
        if not candidate.is_relative_to(base) or candidate == base:
            raise SeedError(f"{where}: source {name[:80]!r} is outside the manifest's folder")
        if not candidate.is_file():
            raise SeedError(f"{where}: source {name[:80]!r} is not a file")
        source = candidate
    elif given[0] == "content":
        if not isinstance(entry["content"], str):
            raise SeedError(f"{where}: content must be a string")
        try:
            content = entry["content"].encode("utf-8")
        except UnicodeEncodeError:
            raise SeedError(f"{where}: content is not valid Unicode text") from None
    else:
        if not isinstance(entry["content_base64"], str):
            raise SeedError(f"{where}: content_base64 must be a string")
        try:
            content = base64.b64decode(entry["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise SeedError(f"{where}: content_base64 is not base64") from None
    filename = _text(entry, "filename", where, 255) or (source.name if source else None)
    if filename is None:
        raise SeedError(f"{where}: a filename is needed with content")
    if "/" in filename:
        raise SeedError(f"{where}: filename must not hold '/' (use path)")
    handle = entry.get("handle")
    if handle is None:
        handle = stable_handle(f"{index}:{filename}")
    try:
        handle = validate_handle(handle)
    except ConfigurationError as err:
        raise SeedError(f"{where}: {err}") from None
    return SeedFile(
        handle=handle,
        filename=filename,
        mimetype=_text(entry, "mimetype", where, 255) or _guess(filename),
        path=_text(entry, "path", where),
        container=_text(entry, "container", where, 255),
        tags=_tags(entry.get("tags"), where),
        source=source,
        content=content,
    )


def read_manifest(manifest: Path) -> list[SeedFile]:
    """The seed entries of a JSON manifest (see the module docs)."""
    try:
        if manifest.stat().st_size > MAX_MANIFEST:
            raise SeedError(f"the seed manifest is larger than {MAX_MANIFEST} bytes")
        data = json.loads(manifest.read_bytes())
    except OSError as err:
        raise SeedError(f"cannot read the seed manifest: {err.strerror}") from None
    except RecursionError:
        raise SeedError("the seed manifest is nested too deep") from None
    except ValueError as err:
        raise SeedError(f"the seed manifest is not JSON: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise SeedError('the seed manifest must be {"files": [...]}')
    if set(data) - {"files"}:
        raise SeedError(f"the seed manifest has unknown keys {sorted(set(data) - {'files'})[:5]}")
    if len(data["files"]) > MAX_SEED_FILES:
        raise SeedError(f"the seed manifest has more than {MAX_SEED_FILES} files")
    base = manifest.resolve().parent
    entries = [_entry(e, i, base) for i, e in enumerate(data["files"])]
    seen: set[str] = set()
    for i, seed in enumerate(entries):
        if seed.handle in seen:
            raise SeedError(f"seed manifest entry {i}: handle {seed.handle} is used twice")
        seen.add(seed.handle)
    return entries


def read_seed(source: Path) -> list[SeedFile]:
    """The checked entries of a seed folder or manifest."""
    source = Path(source)
    if source.is_dir():
        return read_folder(source)
    if source.is_file():
        return read_manifest(source)
    raise SeedError(f"the seed {str(source)[:200]!r} is neither a folder nor a file")


def load_seed(storage: Storage, source: Path) -> list[StoredFile]:
    """Check the whole seed, then store every file of it (replacing files of the same
    handle); the files stored.

    Raises:
        SeedError: the seed cannot be used (nothing was stored).
    """
    entries = read_seed(source)
    stored = []
    for seed in entries:
        temp = storage.incoming_path()
        md5 = hashlib.md5()
        size = 0
        try:
            with temp.open("wb") as out:
                if seed.content is not None:
                    out.write(seed.content)
                    md5.update(seed.content)
                    size = len(seed.content)
                else:
                    assert seed.source is not None
                    with seed.source.open("rb") as f:
                        for block in iter(lambda: f.read(1024 * 1024), b""):
                            out.write(block)
                            md5.update(block)
                            size += len(block)
            digest = md5.hexdigest()
            file = StoredFile(
                handle=seed.handle,
                filename=seed.filename,
                mimetype=seed.mimetype,
                size=size,
                etag=f'"{digest}"',
                md5=digest,
                uploaded=int(time.time() * 1000),
                location="S3",
                key=f"{seed.path or seed.handle + '_' + seed.filename}",
                path=seed.path,
                container=seed.container,
                upload_tags=seed.tags,
            )
            dims = probe_size(temp)
            if dims is not None:
                file.width, file.height = dims
            stored.append(storage.store_blob(temp, file, event="seed"))
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    return stored
