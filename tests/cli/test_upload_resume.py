"""``filestack-async upload FILE --resume``: Ctrl+C, then the same command continues."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from filestack_async import Client
from filestack_async._cli.commands import checkpoint_path, state_dir
from filestack_async.emulator import EmulatorServer, Faults, NetworkProfile, RouteFault

from .conftest import APIKEY, Run, lenient_args

MiB = 1024 * 1024
PART = 8 * MiB  # the CLI uses the default part size
PARTS = 5
#: slow enough to interrupt: each part body takes about two seconds
SLOW = Faults(rules=(RouteFault("put"),), network=NetworkProfile(bandwidth=4 * MiB))


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[EmulatorServer]:
    with EmulatorServer(data_dir=tmp_path / "slow", faults=SLOW) as srv:
        yield srv


def test_the_state_folder_follows_xdg_state_home(tmp_path: Path) -> None:
    assert state_dir({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "filestack-async" / "uploads"
    assert state_dir({}).parts[-3:] == ("state", "filestack-async", "uploads")


def wait_for_parts(folder: Path, child: subprocess.Popen[str]) -> Path:
    """The one checkpoint in ``folder`` once it holds an acknowledged part."""
    while child.poll() is None:
        for found in folder.glob("*.json") if folder.is_dir() else ():
            try:
                if json.loads(found.read_bytes())["parts"]:
                    return found
            except (ValueError, KeyError):
                pass  # caught between two versions of the file: read it again
        time.sleep(0.02)
    raise AssertionError(f"the upload ended before it was interrupted: {child.returncode}")


def test_ctrl_c_then_the_same_command_continues(
    slow_server: EmulatorServer,
    tmp_path: Path,
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = random.Random(5).randbytes(PARTS * PART - 1000)
    path = tmp_path / "video.bin"
    path.write_bytes(data)
    state = tmp_path / "state"
    argv = ["upload", str(path), "--resume", *lenient_args(slow_server)]
    child = subprocess.Popen(
        [sys.executable, "-m", "filestack_async.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "XDG_STATE_HOME": str(state)},
    )
    try:
        checkpoint = wait_for_parts(state / "filestack-async" / "uploads", child)
        child.send_signal(signal.SIGINT)  # Ctrl+C
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130, err
    assert "run the same command again" in err
    acknowledged = len(json.loads(checkpoint.read_bytes())["parts"])
    assert 1 <= acknowledged < PARTS
    before = slow_server.emulator.faults.decided["put"]

    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    result = run(*argv)

    assert result.code == 0, result.err
    assert slow_server.emulator.faults.decided["put"] - before == PARTS - acknowledged
    assert not checkpoint.exists()

    async def stored() -> bytes:
        handle = result.out.split(f"{slow_server.url}/")[1].split()[0]
        async with Client(APIKEY, base_url=slow_server.url) as client:
            return await client.filelink(handle).get_content()

    assert anyio.run(stored) == data


def test_a_corrupt_checkpoint_is_reported_and_kept(
    server: EmulatorServer, tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * (9 * MiB))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    client = Client(APIKEY, base_url=server.url)
    checkpoint = checkpoint_path(state_dir(), path, client)
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"{not json")

    result = run("upload", str(path), "--resume", *lenient_args(server))

    assert result.code != 0
    assert "cannot be used" in result.err and "not valid JSON" in result.err
    assert checkpoint.read_bytes() == b"{not json"
