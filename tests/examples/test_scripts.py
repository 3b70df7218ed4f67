"""examples/trio_program.py and examples/sync_script.py against an emulator on loopback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import trio
from PIL import Image

from examples import trio_program
from filestack_async.emulator import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]


def test_trio_program_round_trips_files_concurrently(
    filestack_emulator_server: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FILESTACK_BASE_URL", filestack_emulator_server.url)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))  # two parts
    small = tmp_path / "notes.txt"
    small.write_text("trio, anyio, httpx\n")
    out = tmp_path / "downloads"
    out.mkdir()

    assert trio.run(trio_program.main, [big, small], out, "MY_KEY") == 0

    copies = sorted(out.iterdir(), key=lambda p: p.stat().st_size)
    assert [p.read_bytes() for p in copies] == [small.read_bytes(), big.read_bytes()]
    printed = capsys.readouterr().out
    assert "big.bin: uploaded 9437184 bytes" in printed
    assert printed.count("same") == 2 and "DIFFERENT" not in printed


def test_sync_script_runs_as_a_plain_script_against_a_secured_emulator(tmp_path: Path) -> None:
    image = tmp_path / "photo.png"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 40, 40)).save(buffer, "PNG")
    image.write_bytes(buffer.getvalue())

    with EmulatorServer(data_dir=tmp_path / "emulator", secret="APP-SECRET", strict=True) as server:
        env = {
            **os.environ,
            "FILESTACK_BASE_URL": server.url,
            "FILESTACK_API_KEY": "MY_KEY",
            "FILESTACK_APP_SECRET": "APP-SECRET",
        }
        result = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "sync_script.py"), str(image)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert server.emulator.storage.list_files() == []  # it deleted what it stored
        assert server.emulator.violations.snapshot() == []

    lines = result.stdout.splitlines()
    assert lines[0] == "stored report.pdf (25 bytes, application/pdf)"
    assert lines[1].startswith(f"read-only link: {server.url}/security=p:")
    assert "deleted the three files" in lines
    with Image.open(tmp_path / "thumb-photo.png") as thumb:
        assert thumb.size == (64, 40)
    assert "APP-SECRET" not in result.stdout + result.stderr
