"""The upload checkpoint: its format, every way a file can be untrustworthy, and the write."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from filestack_async import CheckpointError
from filestack_async._uploads.checkpoint import (
    IDENTITY_SPAN,
    KIND,
    MAX_CHECKPOINT_BYTES,
    Checkpoint,
    SourceIdentity,
    identify,
    load,
    mismatch,
    parse,
    write_atomically,
)

MiB = 1024 * 1024
SHA = "a" * 64


def regular(**changes: Any) -> Checkpoint:
    checkpoint = Checkpoint(
        flow="regular",
        service="https://upload.filestackapi.com",
        apikey_sha256="0123456789abcdef",
        start_response={
            "uri": "/bucket/key",
            "region": "us-east-1",
            "upload_id": "UPID",
            "location_url": "upload-eu-west-1.filestackapi.com",
            "location_region": "eu-west-1",
        },
        part_size=5 * MiB,
        settings={"filename": "a.bin", "mimetype": "application/octet-stream", "store": {}},
        source=SourceIdentity(17 * MiB, 1_700_000_000_000_000_000, SHA, "b" * 64, "/data/a.bin"),
        etags={1: '"etag-1"', 3: '"etag-3"'},
    )
    for key, value in changes.items():
        setattr(checkpoint, key, value)
    return checkpoint


def good() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(regular().encode())
    return data


def test_a_checkpoint_reads_back_as_it_was_written() -> None:
    written = regular()
    read = parse(written.encode(), "cp")
    assert read == written
    assert read.acknowledged_bytes() == 10 * MiB


def test_an_intelligent_checkpoint_reads_back() -> None:
    written = regular(flow="intelligent", etags={}, committed={1, 4}, chunks={2: 3 * MiB})
    read = parse(written.encode(), "cp")
    assert (read.committed, read.chunks) == ({1, 4}, {2: 3 * MiB})
    # part 1 (5 MiB) and the last part 4 (2 MiB) committed, 3 MiB of part 2 in
    assert read.acknowledged_bytes() == 5 * MiB + 2 * MiB + 3 * MiB


def test_the_last_part_counts_its_own_length() -> None:
    checkpoint = regular(etags={4: '"e"'})
    assert checkpoint.acknowledged_bytes() == 2 * MiB


def edit(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


_DELETE = object()


def both(
    *changes: Callable[[dict[str, Any]], None],
) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        for one in changes:
            one(data)

    return change


HOSTILE_EDITS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "wrong kind": (edit(("kind",), "something else"), "not a filestack-async upload"),
    "no version": (edit(("version",), _DELETE), "format version"),
    "version 2": (edit(("version",), 2), "format version"),
    "version as text": (edit(("version",), "1"), "format version"),
    "version true": (edit(("version",), True), "format version"),
    "unknown flow": (edit(("flow",), "turbo"), "'flow'"),
    "start answer not an object": (edit(("start_response",), []), "'start_response'"),
    "upload id missing": (edit(("start_response", "upload_id"), _DELETE), "'upload_id'"),
    "upload id a number": (edit(("start_response", "upload_id"), 5), "'upload_id'"),
    "upload id differs": (edit(("upload_id",), "OTHER"), "differs from the start answer"),
    "upload id with a newline": (
        both(edit(("upload_id",), "A\nB"), edit(("start_response", "upload_id"), "A\nB")),
        "control characters",
    ),
    "location url empty": (
        both(edit(("location_url",), ""), edit(("start_response", "location_url"), "")),
        "'location_url'",
    ),
    "huge string": (edit(("service",), "x" * 5000), "'service'"),
    "size zero": (edit(("source", "size"), 0), "'size'"),
    "size negative": (edit(("source", "size"), -5), "'size'"),
    "size a float": (edit(("source", "size"), 17.0 * MiB), "'size'"),
    "size beyond S3": (edit(("source", "size"), 10**20), "'size'"),
    "part size below 5 MiB": (edit(("part_size",), 1024), "'part_size'"),
    "too many parts": (
        edit(("source", "size"), 5 * MiB * 10_001),
        "needs over 10000",
    ),
    "hash not hex": (edit(("source", "head_sha256"), "z" * 64), "SHA-256"),
    "hash short": (edit(("source", "tail_sha256"), "ab"), "SHA-256"),
    "mtime a string": (edit(("source", "mtime_ns"), "yesterday"), "'mtime_ns'"),
    "parts not a list": (edit(("parts",), {"1": "e"}), "'parts'"),
    "part number zero": (edit(("parts", 0, "part_number"), 0), "'part_number'"),
    "part number past the end": (edit(("parts", 0, "part_number"), 5), "'part_number'"),
    "part number bool": (edit(("parts", 0, "part_number"), True), "'part_number'"),
    "part twice": (edit(("parts", 1, "part_number"), 1), "names a part twice"),
    "etag missing": (edit(("parts", 0, "etag"), _DELETE), "'etag'"),
    "etag with a control character": (edit(("parts", 0, "etag"), '"e\x00"'), "control"),
    "settings not an object": (edit(("settings",), "x"), "'settings'"),
    "source not an object": (edit(("source",), None), "'source'"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_EDITS))
def test_a_hostile_field_is_a_corrupt_checkpoint(name: str) -> None:
    change, fragment = HOSTILE_EDITS[name]
    data = good()
    change(data)
    with pytest.raises(CheckpointError) as info:
        parse(json.dumps(data).encode(), "/state/cp")
    assert info.value.reason in ("corrupt", "version")
    assert info.value.path == "/state/cp"
    assert fragment in str(info.value)
    assert "delete it" in str(info.value)


def intelligent_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        regular(flow="intelligent", etags={}, committed={1}, chunks={2: MiB}).encode()
    )
    return data


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (edit(("committed",), [1, 1]), "names a part twice"),
        (edit(("committed",), [9]), "outside 1..4"),
        (edit(("committed",), "1"), "'committed'"),
        (edit(("chunks", 0, "part_number"), 1), "both committed and in progress"),
        (edit(("chunks", 0, "bytes"), 5 * MiB + 1), "'bytes'"),
        (edit(("chunks", 0, "bytes"), 0), "'bytes'"),
        (edit(("chunks",), [{"bytes": 3}]), "'part_number'"),
    ],
)
def test_a_hostile_intelligent_field_is_refused(
    change: Callable[[dict[str, Any]], None], fragment: str
) -> None:
    data = intelligent_data()
    change(data)
    with pytest.raises(CheckpointError, match=fragment.replace("(", r"\(")) as info:
        parse(json.dumps(data).encode(), "cp")
    assert info.value.reason == "corrupt"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (regular().encode()[:-20], "not valid JSON"),  # truncated
        (b"\xff\xfe{}", "not valid JSON"),  # not UTF-8
        (b"[1, 2, 3]", "not a JSON object"),
        (b'"text"', "not a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),  # nested past the recursion limit
        (regular().encode().replace(b'"mtime_ns":1700000000000000000', b'"mtime_ns":NaN'), "JSON"),
        (b"{" + b" " * (MAX_CHECKPOINT_BYTES + 1) + b"}", "larger than"),
    ],
    ids=["empty", "blank", "truncated", "not-utf8", "array", "string", "deep", "nan", "huge"],
)
def test_bytes_that_are_no_checkpoint_are_refused(raw: bytes, fragment: str) -> None:
    with pytest.raises(CheckpointError, match=fragment) as info:
        parse(raw, "cp")
    assert info.value.reason == "corrupt"


def test_a_missing_file_is_no_checkpoint_and_a_folder_is_unreadable(tmp_path: Path) -> None:
    assert load(tmp_path / "none") is None
    with pytest.raises(CheckpointError) as info:
        load(tmp_path)
    assert info.value.reason == "unreadable"


def test_a_huge_file_is_read_no_further_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge"
    with path.open("wb") as file:
        file.truncate(64 * MiB)  # sparse: reading it all would take 64 MiB of memory
    with pytest.raises(CheckpointError, match="larger than"):
        load(path)


def now_of(checkpoint: Checkpoint, **changes: Any) -> dict[str, Any]:
    now: dict[str, Any] = {
        "flow": checkpoint.flow,
        "service": checkpoint.service,
        "apikey_sha256": checkpoint.apikey_sha256,
        "settings": dict(checkpoint.settings),
        "source": checkpoint.source,
    }
    now.update(changes)
    return now


def test_the_same_upload_matches() -> None:
    checkpoint = regular()
    assert mismatch(checkpoint, Path("cp"), **now_of(checkpoint)) is None


@pytest.mark.parametrize(
    ("changes", "reason", "fragment"),
    [
        ({"service": "http://127.0.0.1:8700"}, "other-upload", "another service"),
        ({"apikey_sha256": "f" * 16}, "other-upload", "another API key"),
        ({"flow": "intelligent"}, "other-upload", "intelligent="),
        (
            {"settings": {"filename": "b", "mimetype": "application/octet-stream", "store": {}}},
            "other-upload",
            "another 'filename'",
        ),
        (
            {"source": SourceIdentity(3 * MiB, 1, "c" * 64, "d" * 64, "/data/b.bin")},
            "other-file",
            "another file ('/data/a.bin')",
        ),
        (
            {"source": SourceIdentity(18 * MiB, 1, SHA, "b" * 64, "/data/a.bin")},
            "changed",
            "the source now has",
        ),
        (
            {
                "source": SourceIdentity(
                    17 * MiB, 1_700_000_000_000_000_000, SHA, "e" * 64, "/data/a.bin"
                )
            },
            "changed",
            "contents",
        ),
        (
            {"source": SourceIdentity(17 * MiB, 5, SHA, "b" * 64, "/data/a.bin")},
            "changed",
            "modification",
        ),
    ],
)
def test_a_checkpoint_of_something_else_says_why(
    changes: dict[str, Any], reason: str, fragment: str
) -> None:
    checkpoint = regular()
    refused = mismatch(checkpoint, Path("/state/cp"), **now_of(checkpoint, **changes))
    assert refused is not None
    assert refused.reason == reason
    assert fragment in str(refused)


def test_a_moved_file_with_the_same_contents_still_matches() -> None:
    checkpoint = regular()
    moved = SourceIdentity(17 * MiB, 1_700_000_000_000_000_000, SHA, "b" * 64, "/elsewhere/a.bin")
    assert mismatch(checkpoint, Path("cp"), **now_of(checkpoint, source=moved)) is None


def test_identity_hashes_both_ends() -> None:
    data = bytes(range(256)) * (3 * IDENTITY_SPAN // 256)

    def read_at(offset: int, length: int) -> bytes:
        return data[offset : offset + length]

    first = identify(read_at, len(data), 1, "f")
    data = data[:-1] + b"\x00"
    assert identify(read_at, len(data), 1, "f").tail_sha256 != first.tail_sha256
    assert identify(read_at, len(data), 1, "f").head_sha256 == first.head_sha256


def test_an_atomic_write_replaces_the_file_and_leaves_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "cp"
    write_atomically(path, b"one")
    write_atomically(path, b"two")
    assert path.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["cp"]
    assert (path.stat().st_mode & 0o777) == 0o600


def test_a_failed_write_is_a_local_file_error(tmp_path: Path) -> None:
    from filestack_async import LocalFileError

    path = tmp_path / "gone" / "cp"
    with pytest.raises(LocalFileError):
        write_atomically(path, b"x")


def test_the_kind_names_the_file() -> None:
    assert json.loads(regular().encode())["kind"] == KIND
