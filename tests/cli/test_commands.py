"""Every SDK command of ``filestack-async`` against the emulator on a loopback port,
with the ``--json`` shapes and the files they really produce."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import pytest
from PIL import Image

from filestack_async import Security
from filestack_async._cli import demo as samples
from filestack_async.emulator import EmulatorServer

from .conftest import APIKEY, SECRET, Run, lenient_args, secure_args


def _png(path: Path, size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 20, 20))
    image.paste((20, 20, 200), (0, size[1] // 2, size[0], size[1]))  # blue bottom half
    image.save(path, "PNG")
    return path.read_bytes()


def _upload(run: Run, srv: EmulatorServer, path: Path, *extra: str) -> str:
    result = run("upload", str(path), "--json", *secure_args(srv), *extra)
    assert result.code == 0, result.err
    handle = json.loads(result.out)[0]["handle"]
    assert isinstance(handle, str)
    return handle


def _size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        return int(width), int(height)


# -- upload ----------------------------------------------------------------------------------


def test_upload_json_shape_and_content(run: Run, secured: EmulatorServer, tmp_path: Path) -> None:
    first = tmp_path / "a.png"
    data = _png(first)
    second = tmp_path / "b.bin"
    second.write_bytes(os.urandom(300_000))
    result = run(
        "upload", str(first), str(second), "--intelligent", "--concurrency", "2",
        "--store-param", "path=cli/", "--store-param", "upload_tags=team:docs,kind:test",
        "--json", *secure_args(secured),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.err == ""
    rows = json.loads(result.out)
    assert [r["path"] for r in rows] == [str(first), str(second)]
    assert rows[0]["filename"] == "a.png" and rows[0]["mimetype"] == "image/png"
    assert rows[0]["size"] == len(data) and rows[1]["size"] == 300_000
    for row in rows:
        assert set(row) == {"path", "handle", "url", "size", "filename", "mimetype"}
        assert row["url"] == f"{secured.url}/{row['handle']}"
    assert secured.emulator.storage.read_bytes(rows[0]["handle"]) == data
    assert secured.emulator.storage.read_bytes(rows[1]["handle"]) == second.read_bytes()


def test_upload_plain_output(run: Run, server: EmulatorServer, tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(b"hello from the command line")
    result = run("upload", str(path), *lenient_args(server))
    assert result.code == 0, result.err
    (line,) = result.out.splitlines()
    assert line.startswith(f"uploaded {path} -> {server.url}/") and line.endswith("(27 bytes)")


def test_upload_reports_each_failure_and_keeps_the_others(
    run: Run, server: EmulatorServer, tmp_path: Path
) -> None:
    good = tmp_path / "good.txt"
    good.write_bytes(b"fine")
    missing = tmp_path / "missing.txt"
    result = run("upload", str(good), str(missing), "--json", *lenient_args(server))
    assert result.code == 2  # the missing file is a ConfigurationError
    rows = json.loads(result.out)
    assert rows[0]["handle"] and rows[1]["error"]["type"] == "ConfigurationError"
    assert result.err.count("\n") == 1 and str(missing) in result.err


def test_store_params_are_checked(run: Run, server: EmulatorServer, tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"x")
    for bad in ("colour=red", "novalue", "base64decode=maybe", "upload_tags={bad json"):
        result = run("upload", str(path), "--store-param", bad, *lenient_args(server))
        assert result.code == 2, bad
        assert result.err.startswith("filestack-async: error: ConfigurationError")


def test_upload_url_json_shape(run: Run, server: EmulatorServer, tmp_path: Path) -> None:
    source = tmp_path / "source.txt"
    source.write_bytes(b"fetched by the service")
    handle = json.loads(run("upload", str(source), "--json", *lenient_args(server)).out)[0][
        "handle"
    ]
    result = run(
        "upload-url", f"{server.url}/{handle}", "--store-param", "filename=copy.txt",
        "--json", *lenient_args(server),
    )  # fmt: skip
    assert result.code == 0, result.err
    row = json.loads(result.out)
    assert set(row) == {"handle", "url", "size", "filename", "mimetype"}
    assert row["handle"] != handle and row["filename"] == "copy.txt" and row["size"] == 22
    assert server.emulator.storage.read_bytes(row["handle"]) == b"fetched by the service"


# -- reading ---------------------------------------------------------------------------------


def test_download_to_a_path_a_folder_and_the_default_name(
    run: Run, secured: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _png(tmp_path / "photo.png")
    handle = _upload(run, secured, tmp_path / "photo.png")
    target = tmp_path / "out" / "copy.png"
    target.parent.mkdir()
    result = run("download", handle, str(target), "--json", *secure_args(secured))
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"handle": handle, "path": str(target), "bytes": len(data)}
    assert target.read_bytes() == data
    folder = tmp_path / "folder"
    folder.mkdir()
    assert run("download", handle, str(folder), *secure_args(secured)).code == 0
    assert (folder / "photo.png").read_bytes() == data
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = run("download", handle, *secure_args(secured))
    assert result.code == 0 and result.out.strip().endswith(f"photo.png ({len(data)} bytes)")
    assert (here / "photo.png").read_bytes() == data
    assert sorted(p.name for p in here.iterdir()) == ["photo.png"]  # no temporary file left


def test_download_of_a_missing_file_leaves_nothing(
    run: Run, secured: EmulatorServer, tmp_path: Path
) -> None:
    target = tmp_path / "never.bin"
    result = run("download", "A" * 20, str(target), *secure_args(secured))
    assert result.code == 5 and "NotFoundError" in result.err
    assert list(tmp_path.iterdir()) == [tmp_path / "secured"]


def test_content_writes_the_bytes_to_stdout(
    secured: EmulatorServer, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    from filestack_async.cli import main

    path = tmp_path / "blob.bin"
    data = os.urandom(200_000)
    path.write_bytes(data)
    assert main(["upload", str(path), "--json", *secure_args(secured)]) == 0
    handle = json.loads(capsysbinary.readouterr().out)[0]["handle"]
    assert main(["content", handle, *secure_args(secured)]) == 0
    captured = capsysbinary.readouterr()
    assert captured.out == data and captured.err == b""


def test_metadata_default_and_chosen_attributes(
    run: Run, secured: EmulatorServer, tmp_path: Path
) -> None:
    data = _png(tmp_path / "m.png")
    handle = _upload(run, secured, tmp_path / "m.png")
    result = run(
        "metadata", handle, "--attr", "width", "--attr", "height", "--attr", "md5",
        "--json", *secure_args(secured),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "width": 64,
        "height": 48,
        "md5": hashlib.md5(data).hexdigest(),
    }
    plain = run("metadata", handle, *secure_args(secured))
    assert plain.code == 0
    assert f"size: {len(data)}" in plain.out.splitlines()
    assert "filename: m.png" in plain.out.splitlines()


def test_delete_needs_the_secret_then_deletes(
    run: Run, secured: EmulatorServer, tmp_path: Path
) -> None:
    handle = _upload(run, secured, tmp_path / "d.png") if _png(tmp_path / "d.png") else ""
    missing = run("delete", handle, "--base-url", secured.url, "--apikey", APIKEY)
    assert missing.code == 2 and "FILESTACK_APP_SECRET" in missing.err
    result = run("delete", handle, "--json", *secure_args(secured))
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"handle": handle, "deleted": True}
    assert run("metadata", handle, *secure_args(secured)).code == 5
    assert run("delete", handle, *secure_args(secured)).code == 5


# -- transformations -------------------------------------------------------------------------


def test_transform_prints_the_url_without_io(run: Run, server: EmulatorServer) -> None:
    handle = "A" * 20
    result = run("transform", handle, "resize=w:200/flip", "--json", *lenient_args(server))
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"url": f"{server.url}/resize=width:200/flip/{handle}"}


def test_transform_store_and_output(run: Run, secured: EmulatorServer, tmp_path: Path) -> None:
    handle = _upload(run, secured, tmp_path / "t.png") if _png(tmp_path / "t.png") else ""
    stored = run(
        "transform", handle, "resize=width:32/flip", "--store", "--json", *secure_args(secured)
    )
    assert stored.code == 0, stored.err
    row = json.loads(stored.out)
    assert set(row) == {"url", "handle", "file_url"}
    assert row["url"] == f"{secured.url}/resize=width:32/flip/{handle}"
    result = secured.emulator.storage.read_bytes(row["handle"])
    assert _size(result) == (32, 24)
    with Image.open(io.BytesIO(result)) as image:
        assert image.convert("RGB").getpixel((1, 1))[2] > 150  # flipped: blue on top now
    target = tmp_path / "small.png"
    output = run(
        "transform", handle, "resize=width:16", "-o", str(target), "--json",
        *secure_args(secured),
    )  # fmt: skip
    assert output.code == 0, output.err
    assert json.loads(output.out)["bytes"] == target.stat().st_size
    assert _size(target.read_bytes()) == (16, 12)
    named = run(
        "transform", handle, 'rotate=deg:90/store=filename:"turned.png"', "--json",
        *secure_args(secured),
    )  # fmt: skip
    assert named.code == 0, named.err
    turned = json.loads(named.out)["handle"]
    meta = run("metadata", turned, "--attr", "filename", "--json", *secure_args(secured))
    assert json.loads(meta.out) == {"filename": "turned.png"}


def test_transform_output_to_stdout(
    secured: EmulatorServer,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from filestack_async.cli import main

    _png(tmp_path / "p.png")
    assert main(["upload", str(tmp_path / "p.png"), "--json", *secure_args(secured)]) == 0
    handle = json.loads(capsysbinary.readouterr().out)[0]["handle"]
    assert main(["transform", handle, "resize=width:16", "-o", "-", *secure_args(secured)]) == 0
    captured = capsysbinary.readouterr()
    assert _size(captured.out) == (16, 12) and captured.err == b""  # the bytes only


def test_transform_of_an_external_url_needs_the_api_key(run: Run, server: EmulatorServer) -> None:
    result = run("transform", "https://example.com/a.png", "flip", "--base-url", server.url)
    assert result.code == 2 and "FILESTACK_API_KEY" in result.err
    ok = run("transform", "https://example.com/a.png", "flip", *lenient_args(server))
    assert ok.out.strip() == f"{server.url}/{APIKEY}/flip/https://example.com/a.png"


@pytest.mark.parametrize(
    "tasks",
    ["resize=widthx:3", "nosuchtask", "security=p:abc,s:def/flip", "store/flip", 'resize="'],
)
def test_bad_tasks_are_usage_errors(run: Run, server: EmulatorServer, tasks: str) -> None:
    result = run("transform", "A" * 20, tasks, *lenient_args(server))
    assert result.code == 2
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


# -- audio / video ---------------------------------------------------------------------------


def test_av_convert_waits_and_reports(run: Run, secured: EmulatorServer, tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    samples._sample_video(video)
    handle = _upload(run, secured, video)
    result = run(
        "av-convert", handle, "preset=webm", "width=80", "height=60", "--wait", "--json",
        *secure_args(secured),
    )  # fmt: skip
    assert result.code == 0, result.err
    row = json.loads(result.out)
    assert set(row) == {"uuid", "url", "status", "handle", "file_url", "data"}
    assert row["status"] == "completed" and row["data"]["width"] == 80
    assert row["url"] == f"{secured.url}/video_convert=height:60,preset:webm,width:80/{handle}"
    converted = secured.emulator.storage.read_bytes(row["handle"])
    assert samples._video_facts(converted)[:2] == (80, 60)
    started = run("av-convert", handle, "preset=h264", "--json", *secure_args(secured))
    assert started.code == 0, started.err
    first = json.loads(started.out)
    assert set(first) == {"uuid", "url", "status"} and first["status"] in ("pending", "started")


def test_av_convert_failure_and_bad_parameters(
    run: Run, secured: EmulatorServer, tmp_path: Path
) -> None:
    text = tmp_path / "not-a-video.txt"
    text.write_bytes(b"this is not a video at all")
    handle = _upload(run, secured, text)
    failed = run("av-convert", handle, "preset=webm", "--wait", *secure_args(secured))
    assert failed.code == 7 and "ConversionError" in failed.err
    for bad in ("preset", "size=3", "width=wide"):
        assert run("av-convert", handle, bad, *secure_args(secured)).code == 2, bad


# -- signing ---------------------------------------------------------------------------------


def test_sign_prints_the_policy_and_its_signature(run: Run) -> None:
    policy = {"call": ["read"], "expiry": 1_900_000_000}
    result = run("sign", "--policy", json.dumps(policy), "--json", "--secret", SECRET)
    assert result.code == 0, result.err
    row = json.loads(result.out)
    expected = Security(policy, SECRET)
    assert row == {
        "policy": policy,
        "policy_b64": expected.policy_b64,
        "signature": expected.signature,
    }
    assert SECRET not in result.out + result.err
    plain = run("sign", "--policy", '{"call": ["stat"]}', "--secret", SECRET)
    lines = dict(line.split(": ", 1) for line in plain.out.splitlines())
    made = json.loads(lines["policy"])
    assert made["call"] == ["stat"] and isinstance(made["expiry"], int)  # expiry added
    assert lines["signature"] == Security(made, SECRET).signature


@pytest.mark.parametrize(
    "argv",
    [
        ["sign", "--policy", '{"call": ["read"]}'],
        ["sign", "--policy", "not json", "--secret", SECRET],
        ["sign", "--policy", "[1, 2]", "--secret", SECRET],
        ["sign", "--policy", '{"call": ["fly"]}', "--secret", SECRET],
    ],
)
def test_sign_usage_errors(run: Run, argv: list[str]) -> None:
    result = run(*argv)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("filestack-async: error: ConfigurationError")


# -- configuration ---------------------------------------------------------------------------


def test_settings_come_from_the_environment(
    run: Run, secured: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILESTACK_API_KEY", APIKEY)
    monkeypatch.setenv("FILESTACK_APP_SECRET", SECRET)
    monkeypatch.setenv("FILESTACK_BASE_URL", secured.url)
    path = tmp_path / "env.txt"
    path.write_bytes(b"configured by the environment")
    result = run("upload", str(path), "--json")
    assert result.code == 0, result.err
    handle = json.loads(result.out)[0]["handle"]
    assert run("delete", handle).code == 0
    flags_win = run("metadata", handle, "--secret", "wrong-secret")
    assert flags_win.code == 4  # the flag's secret is used, and refused


def test_global_flags_before_the_command(run: Run, server: EmulatorServer, tmp_path: Path) -> None:
    path = tmp_path / "g.txt"
    path.write_bytes(b"g")
    result = run("--json", "upload", str(path), *lenient_args(server))
    assert result.code == 0 and json.loads(result.out)[0]["size"] == 1
