"""Exit codes per error class, one-line errors, secrets kept out of every output,
progress bars only on a terminal, rich optional, and ``emulator`` without rich."""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import filestack_async as fa
from filestack_async import cli
from filestack_async._cli import commands
from filestack_async._cli.output import Output, exit_code
from filestack_async.emulator import EmulatorServer, Faults, RouteFault

from .conftest import APIKEY, SECRET, SIGNATURE, Run, lenient_args, secure_args


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("filestack-async: error: ")
    assert "Traceback" not in err
    return lines[0]


# -- exit codes ------------------------------------------------------------------------------


def test_usage_errors_exit_2(run: Run, server: EmulatorServer, tmp_path: Path) -> None:
    assert run().code == 2  # no command: help
    assert run("upload").code == 2  # argparse: PATH missing
    assert run("no-such-command").code == 2
    path = tmp_path / "f.txt"
    path.write_bytes(b"f")
    no_key = run("upload", str(path), "--base-url", server.url)
    assert no_key.code == 2 and "FILESTACK_API_KEY" in _one_error_line(no_key.err)
    bad_url = run("metadata", "A" * 20, "--base-url", "ftp://nowhere")
    assert bad_url.code == 2 and "ConfigurationError" in _one_error_line(bad_url.err)
    assert run("metadata", "not-a-handle", *lenient_args(server)).code == 2
    assert run("upload", str(path), "--concurrency", "0", *lenient_args(server)).code == 2


def test_auth_errors_exit_4(run: Run, secured: EmulatorServer, tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"f")
    unsigned = run("upload", str(path), *lenient_args(secured))
    assert unsigned.code == 4 and "PermissionDeniedError" in _one_error_line(unsigned.err)
    wrong = run("upload", str(path), *lenient_args(secured), "--secret", "not-the-secret")
    assert wrong.code == 4
    assert "not-the-secret" not in wrong.out + wrong.err


def test_not_found_exits_5(run: Run, server: EmulatorServer) -> None:
    result = run("metadata", "B" * 20, *lenient_args(server))
    assert result.code == 5 and "NotFoundError" in _one_error_line(result.err)
    assert result.out == ""


def test_other_api_errors_exit_6(run: Run) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    result = run("metadata", "C" * 20, "--base-url", base, "--retries", "0", "--json")
    assert result.code == 6 and "APIConnectionError" in _one_error_line(result.err)
    # with --json the error is also one JSON object on stdout, nothing else
    error = json.loads(result.out)["error"]
    assert (error["type"], error["exit_code"], error["attempts"]) == ("APIConnectionError", 6, 1)


def test_upload_errors_exit_7(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    # at the multipart threshold, so the upload goes multipart and its part PUT fails
    path.write_bytes(b"f" * fa.UploadConfig().multipart_threshold)
    faults = Faults(rules=(RouteFault(route="put", error_rate=1.0, status=500),))
    with EmulatorServer(data_dir=tmp_path / "faulty", faults=faults) as srv:
        result = run("upload", str(path), *lenient_args(srv), "--retries", "0", "--json")
    assert result.code == 7 and "UploadError" in _one_error_line(result.err)
    assert json.loads(result.out)[0]["error"]["type"] == "UploadError"


def test_exit_code_table() -> None:
    assert exit_code(fa.ConfigurationError("x")) == 2
    assert exit_code(ModuleNotFoundError("no rich", name="rich")) == 3
    assert exit_code(fa.AuthenticationError("x", status_code=401)) == 4
    assert exit_code(fa.PermissionDeniedError("x", status_code=403)) == 4
    assert exit_code(fa.NotFoundError("x", status_code=404)) == 5
    assert exit_code(fa.RateLimitError("x", status_code=429)) == 6
    assert exit_code(fa.InternalServerError("x", status_code=503)) == 6
    assert exit_code(fa.APITimeoutError("x")) == 6
    assert exit_code(fa.APIResponseValidationError("x")) == 6
    assert exit_code(fa.UploadError("x")) == 7
    assert exit_code(fa.PartUploadError("x", part_number=2)) == 7
    assert exit_code(fa.UploadIncompleteError("x")) == 7
    assert exit_code(fa.ConversionError("x")) == 7
    assert exit_code(TimeoutError("conversion not complete")) == 7
    assert exit_code(PermissionError(13, "Permission denied", "/x")) == 8
    assert exit_code(KeyboardInterrupt()) == 130
    assert exit_code(RuntimeError("bug")) == 1


def test_local_file_errors_exit_8(run: Run, server: EmulatorServer, tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"f")
    handle = json.loads(run("upload", str(path), "--json", *lenient_args(server)).out)[0]["handle"]
    result = run("download", handle, str(tmp_path / "no" / "such" / "dir.txt"), "--base-url",
                 server.url)  # fmt: skip
    line = _one_error_line(result.err)
    folder = tmp_path / "no" / "such"
    assert result.code == 8
    assert f"LocalFileError: the destination folder {str(folder)!r} does not exist" in line


def test_ctrl_c_exits_130(
    run: Run, server: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"f")

    async def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fa.Client, "upload_many", interrupted)
    result = run("upload", str(path), *lenient_args(server))
    assert result.code == 130 and result.err == "filestack-async: error: interrupted\n"


def test_ctrl_c_during_a_download_leaves_no_file(
    run: Run, server: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"the whole file")
    handle = json.loads(run("upload", str(path), "--json", *lenient_args(server)).out)[0]["handle"]

    async def interrupted() -> AsyncIterator[bytes]:
        yield b"half of it"  # written to the temporary file, then Ctrl+C
        raise KeyboardInterrupt

    monkeypatch.setattr(fa.DownloadStream, "__aiter__", lambda self: interrupted())
    folder = tmp_path / "downloads"
    folder.mkdir()
    result = run("download", handle, str(folder / "f.bin"), *lenient_args(server))
    assert result.code == 130 and list(folder.iterdir()) == []


def test_missing_extra_exits_3(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "filestack_async.emulator", None)
    result = run("demo")
    assert result.code == 3
    assert "pip install 'filestack-async[emulator,cli]'" in _one_error_line(result.err)


def test_debug_shows_the_traceback(run: Run, server: EmulatorServer) -> None:
    result = run("metadata", "D" * 20, *lenient_args(server), "--debug")
    assert result.code == 5
    assert "Traceback (most recent call last)" in result.err
    assert APIKEY not in result.err
    before = run("--debug", "metadata", "D" * 20, *lenient_args(server))
    assert "Traceback" in before.err


# -- secrets ---------------------------------------------------------------------------------


def test_no_secret_in_any_output(run: Run, secured: EmulatorServer, tmp_path: Path) -> None:
    path = tmp_path / "s.png"
    from PIL import Image

    Image.new("RGB", (40, 30), (1, 2, 3)).save(path)
    seen: list[str] = []

    def call(*argv: str) -> dict[str, object] | list[object]:
        result = run(*argv, *secure_args(secured))
        seen.append(result.out + result.err)
        return json.loads(result.out) if "--json" in argv and result.code == 0 else {}

    rows = call("upload", str(path), "--json")
    assert isinstance(rows, list)
    handle = str(rows[0]["handle"])  # type: ignore[index]
    call("upload", str(path))
    call("metadata", handle)
    call("metadata", handle, "--json", "--attr", "md5")
    call("download", handle, str(tmp_path / "copy.png"))
    call("transform", handle, "resize=width:20")
    call("transform", handle, "resize=width:20", "--store")
    call("transform", handle, "resize=width:20", "-o", str(tmp_path / "t.png"), "--json")
    call("av-convert", handle, "preset=webm")
    call("metadata", "E" * 20, "--debug")  # an error, with its traceback
    call("upload-url", f"{secured.url}/{handle}")  # refused: the source needs a signature
    call("delete", handle)
    wrong = run("metadata", handle, "--base-url", secured.url, "--secret", "x" * 12)
    seen.append(wrong.out + wrong.err)
    text = "\n".join(seen)
    assert SECRET not in text and "x" * 12 not in text
    assert not SIGNATURE.search(text), SIGNATURE.search(text)
    assert "policy=" not in text.replace("policy=***", "")
    assert APIKEY not in text


# -- progress bars ----------------------------------------------------------------------------


def test_no_progress_bars_when_not_a_terminal(
    run: Run, server: EmulatorServer, tmp_path: Path
) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(6 * 1024 * 1024))
    result = run("upload", str(path), *lenient_args(server))
    assert result.code == 0
    assert "━" not in result.out and "\x1b" not in result.out
    assert result.out.count("\n") == 1


def test_progress_bars_on_a_terminal(
    server: EmulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(6 * 1024 * 1024))
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("COLUMNS", "120")
    assert cli.main(["upload", str(path), *lenient_args(server)]) == 0
    handle = terminal.getvalue().split(f"{server.url}/")[1][:20]
    assert cli.main(["download", handle, str(tmp_path / "copy.bin"), "--base-url", server.url]) == 0
    text = terminal.getvalue()
    assert "upload big.bin" in text and "download copy.bin" in text
    assert "━" in text and "6.3/6.3 MB" in text and "/s" in text  # bar, bytes, speed
    assert (tmp_path / "copy.bin").read_bytes() == path.read_bytes()
    json_mode = Terminal()
    monkeypatch.setattr(sys, "stdout", json_mode)
    assert cli.main(["upload", str(path), "--json", *lenient_args(server)]) == 0
    assert "━" not in json_mode.getvalue()
    assert json.loads(json_mode.getvalue())[0]["size"] == path.stat().st_size


def test_plain_output_without_rich(
    server: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)
    monkeypatch.setitem(sys.modules, "rich.console", None)
    monkeypatch.setitem(sys.modules, "rich.progress", None)
    path = tmp_path / "p.txt"
    path.write_bytes(b"plain")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert cli.main(["upload", str(path), *lenient_args(server)]) == 0
    (line,) = terminal.getvalue().splitlines()
    assert line.startswith(f"uploaded {path} -> ") and "\x1b" not in line


def test_output_masks_what_it_is_told() -> None:
    stream = io.StringIO()
    errors = io.StringIO()
    out = Output(stdout=stream, stderr=errors, secrets=["hush-hush"])
    out.add_error_secret("THE-KEY")
    out.line("a hush-hush b https://x/security=p:abc,s:def/H THE-KEY")
    out.error("failed with hush-hush and THE-KEY\nsecond line")
    assert stream.getvalue() == "a *** b https://x/security=***/H THE-KEY\n"
    assert errors.getvalue() == "filestack-async: error: failed with *** and *** second line\n"


def test_settings_precedence() -> None:
    args = argparse.Namespace(
        apikey=None, secret="flag", base_url=None, expires_in=None, retries=None
    )
    env = {"FILESTACK_API_KEY": "envkey", "FILESTACK_APP_SECRET": "env", "FILESTACK_BASE_URL": ""}
    settings = commands.Settings.from_args(args, env)
    assert (settings.apikey, settings.secret, settings.base_url) == ("envkey", "flag", None)
    security = settings.security(["read"], handle="H" * 20)
    assert security is not None and security.policy["call"] == ["read"]
    assert security.policy["handle"] == "H" * 20
    assert security.expiry is not None and security.expiry > 0
    assert settings.retries == 4
    with pytest.raises(fa.ConfigurationError):
        commands.Settings.from_args(argparse.Namespace(retries=-1), {})


# -- the emulator command still works, without rich ------------------------------------------


def test_emulator_command_runs_without_rich(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['rich'] = None; "
        "from filestack_async.cli import main; "
        "raise SystemExit(main(sys.argv[1:]))"
    )
    command = [sys.executable, "-c", code, "emulator", "--port", "0", "--data-dir", str(tmp_path)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            assert first.startswith("Filestack emulator listening on http://127.0.0.1:")
            url = first.split()[-1]
            assert httpx.get(f"{url}/_emulator/health", trust_env=False).status_code == 200
        finally:
            proc.terminate()
            proc.communicate(timeout=20)


def test_console_script_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "filestack_async.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.startswith("filestack-async ")
    assert SECRET not in result.stdout
