"""The command line as a new user meets it (issue 15): flags anywhere, downloads into a
folder, JSON errors for every command, no empty or placeholder key, metadata without
holes, a conversion's status later, and retries shown as they happen."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from filestack_async import Client, ConfigurationError, RetryPolicy, Security
from filestack_async._cli import demo as samples
from filestack_async.cli import main
from filestack_async.emulator import EmulatorServer, Faults, RouteFault

from .conftest import APIKEY, SECRET, Run, lenient_args, secure_args


def _upload(run: Run, srv: EmulatorServer, path: Path, *flags: str) -> str:
    result = run("upload", str(path), "--json", *(flags or lenient_args(srv)))
    assert result.code == 0, result.err
    handle = json.loads(result.out)[0]["handle"]
    assert isinstance(handle, str)
    return handle


def _error(result: Any) -> dict[str, Any]:
    """The one JSON error object on stdout, checked against the exit code."""
    body = json.loads(result.out)
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["exit_code"] == result.code
    assert result.err.startswith("filestack-async: error: ") or "usage:" in result.err
    return error


# -- global flags anywhere -------------------------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
def test_every_global_flag_works_before_or_after_the_command(
    run: Run, secured: EmulatorServer, tmp_path: Path, where: str
) -> None:
    path = tmp_path / "g.txt"
    path.write_bytes(b"global")
    flags = [*secure_args(secured), "--retries", "0", "--expires-in", "60", "--json", "--debug"]
    argv = [*flags, "upload", str(path)] if where == "before" else ["upload", str(path), *flags]
    result = run(*argv)
    assert result.code == 0, result.err
    (row,) = json.loads(result.out)
    assert secured.emulator.storage.read_bytes(row["handle"]) == b"global"


def test_a_flag_after_the_command_wins_over_the_same_before(
    run: Run, secured: EmulatorServer, tmp_path: Path
) -> None:
    path = tmp_path / "w.txt"
    path.write_bytes(b"w")
    handle = _upload(run, secured, path, *secure_args(secured))
    result = run("--secret", "wrong", "metadata", handle, *secure_args(secured))
    assert result.code == 0, result.err


# -- download into a folder ------------------------------------------------------------------


def test_download_into_a_folder_written_with_a_slash_uses_the_stored_name(
    run: Run, server: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(b"png bytes")
    handle = _upload(run, server, path)
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    result = run("download", handle, "out/", "--json", "--base-url", server.url)
    assert result.code == 0, result.err
    assert json.loads(result.out)["path"] == str(Path("out") / "x.png")
    assert (tmp_path / "out" / "x.png").read_bytes() == b"png bytes"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x.png"]
    assert not (tmp_path / "out" / "out").exists()


@pytest.mark.parametrize("target", ["missing/", "missing/y.png"])
def test_a_missing_destination_folder_is_named(
    run: Run, server: EmulatorServer, tmp_path: Path, target: str
) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(b"png")
    handle = _upload(run, server, path)
    destination = f"{tmp_path}/{target}"  # Path() would drop the trailing slash
    result = run("download", handle, destination, "--json", "--base-url", server.url)
    folder = str(tmp_path / "missing")
    assert result.code == 8
    error = _error(result)
    assert error["type"] == "LocalFileError"
    assert error["message"] == f"the destination folder {folder!r} does not exist"
    assert ".part" not in result.err + result.out
    assert not (tmp_path / "missing").exists()


# -- JSON errors for every command -----------------------------------------------------------


def _video(tmp_path: Path) -> Path:
    video = tmp_path / "clip.mp4"
    samples._sample_video(video)
    return video


def test_every_command_reports_its_error_as_json(
    run: Run, server: EmulatorServer, tmp_path: Path
) -> None:
    missing = "M" * 20
    base = ["--base-url", server.url]
    cases: dict[str, tuple[list[str], int, str]] = {
        "upload": (["upload", str(tmp_path / "nope.bin"), *base], 2, "ConfigurationError"),
        "upload-url": (["upload-url", "https://example.com/a.png", *base], 2, "ConfigurationError"),
        "download": (["download", missing, str(tmp_path / "d.bin"), *base], 5, "NotFoundError"),
        "content": (["content", missing, *base], 5, "NotFoundError"),
        "metadata": (["metadata", missing, *base], 5, "NotFoundError"),
        "delete": (["delete", missing, *base], 2, "ConfigurationError"),
        "transform": (["transform", missing, "nosuchtask", *base], 2, "ConfigurationError"),
        "av-convert": (["av-convert", missing, "nosuchparam=1", *base], 2, "ConfigurationError"),
        "av-status": (["av-status", "not-a-url", *base], 2, "ConfigurationError"),
        "sign": (["sign", "--policy", "{}"], 2, "ConfigurationError"),
        "usage": (["no-such-command"], 2, "UsageError"),
        "emulator": (["emulator", "--error-rate", "2"], 2, "CommandFailed"),
    }
    for name, (argv, code, kind) in cases.items():
        result = run("--json", *argv)
        assert result.code == code, (name, result)
        error = _error(result)
        assert error["type"] == kind, (name, error)
        assert error["message"], name
    upload = run("--json", "upload", str(tmp_path / "nope.bin"), *lenient_args(server))
    assert json.loads(upload.out)[0]["error"]["type"] == "ConfigurationError"  # its own rows


# -- empty flags and no placeholder key ------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "variable"),
    [
        ("--apikey", "FILESTACK_API_KEY"),
        ("--secret", "FILESTACK_APP_SECRET"),
        ("--base-url", "FILESTACK_BASE_URL"),
    ],
)
def test_an_empty_flag_is_refused_not_replaced_by_the_environment(
    run: Run,
    server: EmulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flag: str,
    variable: str,
) -> None:
    path = tmp_path / "e.txt"
    path.write_bytes(b"e")
    # every variable is set, so a flag that fell back to its variable would work (loopback)
    monkeypatch.setenv("FILESTACK_BASE_URL", server.url)
    monkeypatch.setenv("FILESTACK_API_KEY", APIKEY)
    monkeypatch.setenv("FILESTACK_APP_SECRET", SECRET)
    result = run("upload", str(path), flag, "", "--json")
    assert result.code == 2
    error = _error(result)
    assert error["message"] == (
        f"{flag} is empty: give a value, or leave the flag out to use ${variable}"
    )
    assert server.emulator.storage.list_files() == []


def test_commands_without_a_key_send_none(run: Run, server: EmulatorServer, tmp_path: Path) -> None:
    video = _video(tmp_path)
    handle = _upload(run, server, video)
    started = run("av-convert", handle, "preset=webm", "--json", "--base-url", server.url)
    assert started.code == 0, started.err
    # no key (nor a stand-in for one) in the conversion URL
    assert json.loads(started.out)["url"] == f"{server.url}/video_convert=preset:webm/{handle}"


# -- metadata prints what is there ----------------------------------------------------------


def test_metadata_leaves_out_the_fields_the_file_lacks(
    run: Run, server: EmulatorServer, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"plain text, no image")
    handle = _upload(run, server, path)
    argv = ["metadata", handle, "--attr", "size", "--attr", "width", "--base-url", server.url]
    plain = run(*argv)
    assert plain.code == 0, plain.err
    assert plain.out.splitlines() == [f"size: {path.stat().st_size}"]
    assert "None" not in plain.out
    as_json = run(*argv, "--json")
    assert json.loads(as_json.out) == {"size": path.stat().st_size}


# -- a conversion's status later -------------------------------------------------------------


def test_av_status_reports_a_conversion_started_without_wait(
    run: Run, secured: EmulatorServer, tmp_path: Path
) -> None:
    handle = _upload(run, secured, _video(tmp_path), *secure_args(secured))
    started = run("av-convert", handle, "preset=webm", "width=80", "height=60", "--json",
                  *secure_args(secured))  # fmt: skip
    assert started.code == 0, started.err
    first = json.loads(started.out)
    plain = run("av-convert", handle, "preset=webm", "width=80", "height=60",
                *secure_args(secured))  # fmt: skip
    assert f"filestack-async av-status {first['url']}" in plain.out

    status = run("av-status", first["url"], "--json", *secure_args(secured))
    assert status.code == 0, status.err
    row = json.loads(status.out)
    assert row["uuid"] == first["uuid"] and row["url"] == first["url"]
    assert row["status"] in ("pending", "started", "completed")

    waited = run("av-status", first["url"], "--wait", "--json", *secure_args(secured))
    assert waited.code == 0, waited.err
    done = json.loads(waited.out)
    assert done["status"] == "completed" and done["data"]["width"] == 80
    converted = secured.emulator.storage.read_bytes(done["handle"])
    assert samples._video_facts(converted)[:2] == (80, 60)

    again = run("av-status", first["url"], "--json", *secure_args(secured))
    assert json.loads(again.out)["handle"] == done["handle"]  # completed: the file is named
    unsigned = run("av-status", first["url"], "--json", "--base-url", secured.url)
    assert unsigned.code == 4 and _error(unsigned)["type"] == "PermissionDeniedError"


def test_av_status_refuses_a_url_that_is_not_a_conversion(run: Run, server: EmulatorServer) -> None:
    result = run("av-status", f"{server.url}/resize=width:10/{'H' * 20}", "--json")
    assert result.code == 2
    assert "no video_convert task" in _error(result)["message"]


# -- retries shown, attempts counted ---------------------------------------------------------


def test_retries_are_shown_as_they_happen_and_counted_in_the_error(
    run: Run, tmp_path: Path
) -> None:
    down = Faults(rules=(RouteFault(route="*", error_rate=1.0, status=503),))
    with EmulatorServer(data_dir=tmp_path / "down", faults=down) as srv:
        argv = ["metadata", "D" * 20, "--base-url", srv.url, "--retries", "2"]
        plain = run(*argv)
        as_json = run(*argv, "--json")
    assert plain.code == 6
    lines = plain.err.splitlines()
    assert [line.split(" in ")[0] for line in lines[:2]] == [
        "filestack-async: retry 1 of 2",
        "filestack-async: retry 2 of 2",
    ]
    assert all("503" in line for line in lines[:2])
    assert lines[2].startswith("filestack-async: error: InternalServerError:")
    assert lines[2].endswith("(gave up after 3 attempts)") and len(lines) == 3
    error = _error(as_json)
    assert error["attempts"] == 3 and error["type"] == "InternalServerError"
    assert "retry" not in as_json.err  # --json keeps stderr to the one error line


def test_no_retry_line_for_a_request_that_is_not_retried(run: Run) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run("metadata", "C" * 20, "--base-url", f"http://127.0.0.1:{port}", "--retries", "0")
    assert result.code == 6
    assert len(result.err.splitlines()) == 1 and "attempts" not in result.err


# -- Client() and the environment ------------------------------------------------------------


async def test_client_reads_the_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FILESTACK_API_KEY", "EnvApiKey123")
    async with Client() as client:
        assert client.apikey == "EnvApiKey123"
    async with Client(apikey=None) as keyed:
        assert keyed.apikey == "EnvApiKey123"
    async with Client("GivenKey") as given:
        assert given.apikey == "GivenKey"


async def test_a_client_without_a_key_reads_and_refuses_to_upload(
    server: EmulatorServer,
) -> None:
    async with Client("K", base_url=server.url) as owner:
        link = await owner.upload(content=b"readable", store_params={"filename": "r.txt"})
    async with Client(apikey=None, base_url=server.url) as client:
        assert client.apikey == ""
        assert await client.filelink(link.handle).get_content() == b"readable"
        assert await client.filelink(link.handle).metadata(["filename"]) == {"filename": "r.txt"}
        with pytest.raises(ConfigurationError, match=r"upload needs an API key.*FILESTACK_API_KEY"):
            await client.upload(content=b"x")
    assert len(server.emulator.storage.list_files()) == 1


async def test_security_from_env_signs_with_the_app_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FILESTACK_APP_SECRET", SECRET)
    monkeypatch.setenv("FILESTACK_API_KEY", APIKEY)
    security = Security.from_env(call=["pick", "read"], expires_in=60)
    assert security.policy["call"] == ["pick", "read"]
    with EmulatorServer(data_dir=tmp_path / "signed", secret=SECRET, strict=True) as srv:
        fast = RetryPolicy(max_retries=0)
        async with Client(security=security, base_url=srv.url, retry=fast) as client:
            link = await client.upload(content=b"signed")
            assert await link.get_content() == b"signed"
    monkeypatch.delenv("FILESTACK_APP_SECRET")
    with pytest.raises(ConfigurationError, match=r"\$FILESTACK_APP_SECRET is not set"):
        Security.from_env()


def test_the_entry_point_is_main() -> None:
    assert main(["--version"]) == 0
