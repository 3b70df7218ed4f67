"""Seed data: files from a folder or a manifest, with stable handles; a hostile
manifest is refused with the cause and stores nothing."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from filestack_async.emulator import Emulator, EmulatorConfig
from filestack_async.emulator.seed import SeedError, read_seed, stable_handle

from .teamkit import KINDS, team

HANDLE = "SeedHandle0000000001"


def manifest(tmp_path: Path, files: list[Any], name: str = "seed.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"files": files}))
    return path


@pytest.mark.parametrize("kind", KINDS)
async def test_a_manifest_gives_chosen_handles_names_types_and_tags(
    kind: str, tmp_path: Path
) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "logo.png").write_bytes(b"\x89PNG not really")
    seed = manifest(
        tmp_path,
        [
            {
                "handle": HANDLE,
                "filename": "hello.txt",
                "content": "hello, seed",
                "mimetype": "text/plain",
                "path": "docs/hello.txt",
                "tags": {"team": "docs"},
            },
            {"source": "assets/logo.png", "mimetype": "image/png"},
            {"filename": "b.bin", "content_base64": base64.b64encode(b"\x00\x01").decode()},
        ],
    )
    async with team(kind, tmp_path, seed=seed) as t:
        link = t.client.filelink(HANDLE)
        assert await link.get_content() == b"hello, seed"
        meta = await link.metadata(["filename", "mimetype", "size", "path"])
        assert meta["filename"] == "hello.txt" and meta["mimetype"] == "text/plain"
        assert meta["size"] == 11 and meta["path"] == "docs/hello.txt"
        files = {f.filename: f for f in t.emulator.storage.list_files()}
        assert files["hello.txt"].upload_tags == {"team": "docs"}
        assert files["logo.png"].mimetype == "image/png"
        assert files["b.bin"].size == 2
        # the handles not given are stable: the same in every run
        assert files["logo.png"].handle == stable_handle("1:logo.png")
        again = Emulator(EmulatorConfig(seed=seed))
        try:
            assert {f.handle for f in again.storage.list_files()} == {
                f.handle for f in files.values()
            }
        finally:
            again.close()


async def test_a_folder_seeds_every_file_with_its_path(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "img").mkdir(parents=True)
    (folder / "readme.md").write_text("# hi")
    (folder / "img" / "a.jpg").write_bytes(b"jpeg-ish")
    async with team("in-process", tmp_path, seed=folder) as t:
        files = {f.path: f for f in t.emulator.storage.list_files()}
        assert set(files) == {"readme.md", "img/a.jpg"}
        assert files["img/a.jpg"].mimetype == "image/jpeg"
        assert files["readme.md"].handle == stable_handle("readme.md")
        assert await t.client.filelink(files["readme.md"].handle).get_content() == b"# hi"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([{"source": "../outside.txt"}], "entry 1: source '../outside.txt' is outside"),
        ([{"source": "/etc/passwd"}], "is outside the manifest's folder"),
        ([{"filename": "a", "content": "x", "handle": "../../etc"}], "entry 1: "),
        ([{"filename": "a", "content": "x", "handle": "x" * 21}], "is not a Filestack handle"),
        (
            [
                {"handle": HANDLE, "filename": "a", "content": "1"},
                {"handle": HANDLE, "filename": "b", "content": "2"},
            ],
            "entry 2: handle SeedHandle0000000001 is used twice",
        ),
        ([{"filename": "a"}], "exactly one of source, content, content_base64"),
        ([{"filename": "a", "content": "x", "source": "y"}], "exactly one of"),
        ([{"content": "x"}], "a filename is needed"),
        ([{"filename": "../a", "content": "x"}], "must not hold '/'"),
        ([{"filename": "a", "content": 3}], "content must be a string"),
        ([{"filename": "a", "content_base64": "!!"}], "not base64"),
        ([{"filename": "a", "content": "x", "tags": [1]}], "tags must be an object"),
        (
            [{"filename": "a", "content": "x", "tags": {str(i): "v" for i in range(11)}}],
            "tags has 11 keys",
        ),
        ([{"filename": "a", "content": "x", "tags": {"k": "v" * 300}}], "values at most 256"),
        ([{"filename": "a", "content": "x", "colour": "red"}], "unknown keys ['colour']"),
        ([{"filename": "a", "content": "x", "mimetype": ""}], "mimetype must be"),
        (["not an object"], "entry 1: must be an object"),
        ([{"filename": "a", "content": "\ud800"}], "not valid Unicode"),
    ],
)
def test_a_hostile_manifest_is_refused_and_nothing_is_stored(
    tmp_path: Path, files: list[Any], message: str
) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    inner = tmp_path / "inner"
    inner.mkdir()
    good = {"handle": "GoodHandle0000000001", "filename": "ok.txt", "content": "fine"}
    seed = inner / "seed.json"
    seed.write_text(json.dumps({"files": [good, *files]}))
    data = tmp_path / "data"
    with pytest.raises(SeedError) as caught:
        Emulator(EmulatorConfig(data_dir=data, seed=seed))
    assert message in str(caught.value)  # entries count from 0: the good one is entry 0
    # nothing of the seed was stored (not even the good entry before the bad one)
    emulator = Emulator(EmulatorConfig(data_dir=data))
    try:
        assert emulator.storage.list_files() == []
    finally:
        emulator.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ("[]", 'must be {"files": [...]}'),
        ('{"files": [], "extra": 1}', "unknown keys"),
        ("[" * 100_000 + "]" * 100_000, "nested too deep|not JSON"),
    ],
)
def test_a_malformed_manifest_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "seed.json"
    path.write_text(text)
    with pytest.raises(SeedError) as caught:
        read_seed(path)
    assert any(part in str(caught.value) for part in message.split("|"))


def test_symbolic_links_in_a_seed_folder_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", folder / "link.txt")
    with pytest.raises(SeedError, match=r"'link\.txt' is a symbolic link"):
        read_seed(folder)


def test_a_seed_that_is_not_there(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="is neither a folder nor a file"):
        Emulator(EmulatorConfig(seed=tmp_path / "missing"))


def test_seeding_sends_no_webhooks(tmp_path: Path) -> None:
    from filestack_async.emulator.receiver import WebhookReceiver

    seed = manifest(tmp_path, [{"handle": HANDLE, "filename": "a", "content": "x"}])
    with WebhookReceiver() as receiver:
        emulator = Emulator(EmulatorConfig(seed=seed, webhooks=(receiver.url,)))
        try:
            assert emulator.webhooks.deliveries() == []
        finally:
            emulator.close()
