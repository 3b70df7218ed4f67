"""Persistence across restarts, the control plane, temporary data folders and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from filestack_async.emulator import Emulator, EmulatorConfig, EmulatorTransport, create_app
from filestack_async.emulator.app import IN_PROCESS_URL

from .conftest import Origin


async def test_a_restart_with_the_same_data_dir_serves_the_same_files(tmp_path: Path) -> None:
    data = os.urandom(50_000)
    first = Emulator(EmulatorConfig(data_dir=tmp_path))
    async with httpx.AsyncClient(transport=EmulatorTransport(first.app)) as http:
        handle = (await Origin(first, http, IN_PROCESS_URL, "").upload_regular(data))["handle"]
    first.close()
    second = Emulator(EmulatorConfig(data_dir=tmp_path))
    try:
        async with httpx.AsyncClient(transport=EmulatorTransport(second.app)) as http:
            assert (await http.get(f"{IN_PROCESS_URL}/{handle}")).content == data
            meta = await http.get(f"{IN_PROCESS_URL}/{handle}/metadata", params={"size": "true"})
            assert meta.json() == {"size": len(data)}
    finally:
        second.close()


def test_a_temporary_data_dir_is_removed_on_close() -> None:
    app = create_app()
    folder = app.state.emulator.data_dir
    assert folder.is_dir()
    app.state.emulator.close()
    assert not folder.exists()


async def test_control_plane(tmp_path: Path) -> None:
    emulator = Emulator(EmulatorConfig(data_dir=tmp_path, strict=True, secret="s"))
    try:
        # with a secret, the control plane needs it (health excepted)
        async with httpx.AsyncClient(
            transport=EmulatorTransport(emulator.app), headers=emulator.control_headers
        ) as http:
            health = (await http.get(f"{IN_PROCESS_URL}/_emulator/health")).json()
            assert health == {
                "status": "ok",
                "version": health["version"],
                "strict": True,
                "secured": True,
            }
            await http.post(f"{IN_PROCESS_URL}/multipart/start", json={"apikey": "K", "size": "x"})
            violations = (await http.get(f"{IN_PROCESS_URL}/_emulator/violations")).json()
            assert (
                violations["violations"][0]["message"] == "field 'size' must be an integer, not str"
            )
            await http.delete(f"{IN_PROCESS_URL}/_emulator/violations")
            assert (await http.get(f"{IN_PROCESS_URL}/_emulator/violations")).json() == {
                "violations": []
            }
        # files are listed and reset removes them (no secret needed for the control plane)
        lenient = Emulator(EmulatorConfig(data_dir=tmp_path / "b"))
        try:
            async with httpx.AsyncClient(transport=EmulatorTransport(lenient.app)) as http:
                handle = (await Origin(lenient, http, IN_PROCESS_URL, "").upload_regular(b"abc"))[
                    "handle"
                ]
                files = (await http.get(f"{IN_PROCESS_URL}/_emulator/files")).json()["files"]
                assert [f["handle"] for f in files] == [handle]
                await http.post(f"{IN_PROCESS_URL}/_emulator/reset")
                assert (await http.get(f"{IN_PROCESS_URL}/_emulator/files")).json() == {"files": []}
                assert (await http.get(f"{IN_PROCESS_URL}/{handle}")).status_code == 404
        finally:
            lenient.close()
    finally:
        emulator.close()


def test_cli_starts_serves_and_stops(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "filestack_async.cli", "emulator", "--port", "0",
        "--data-dir", str(tmp_path), "--strict", "--secret", "TOP-SECRET",
    ]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            assert first.startswith("Filestack emulator listening on http://127.0.0.1:")
            url = first.split()[-1]
            health = httpx.get(f"{url}/_emulator/health").json()
            assert health["strict"] is True and health["secured"] is True
        finally:
            proc.terminate()
            out, err = proc.communicate(timeout=20)
    assert "TOP-SECRET" not in first + out + err
    assert (tmp_path / "emulator.sqlite3").exists()


def test_cli_reports_bad_fault_settings() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "filestack_async.cli", "emulator", "--error-rate", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "error_rate must be between 0 and 1" in result.stderr
