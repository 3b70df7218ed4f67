"""``FILESTACK_LOG=debug``: the package's records on stderr, with every secret masked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from filestack_async.emulator import EmulatorServer, Faults, RouteFault

SECRET = "LOG-TEST-APP-SECRET-7c1d"
APIKEY = "LogTestApiKey9Zq"

CHILD = """
import sys, anyio
from filestack_async import Client, RetryPolicy, Security, UploadConfig

async def main() -> None:
    security = Security.create(sys.argv[3], expires_in=3600)
    retry = RetryPolicy(initial_delay=0.01, max_delay=0.01)
    config = UploadConfig(multipart_threshold=0)
    async with Client(sys.argv[2], base_url=sys.argv[1], security=security, retry=retry,
                      upload=config) as client:
        await client.upload(content=b"x" * 100_000)

anyio.run(main)
"""


def run_child(tmp_path: Path, url: str, level: str | None) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {k: v for k, v in os.environ.items() if k != "FILESTACK_LOG"}
    if level is not None:
        env["FILESTACK_LOG"] = level
    return subprocess.run(
        [sys.executable, str(script), url, APIKEY, SECRET],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_debug_logging_shows_retries_and_parts_without_secrets(tmp_path: Path) -> None:
    # seed 2: the first PUT is answered 503, its retry goes through
    faults = Faults(seed=2, rules=(RouteFault("put", error_rate=0.5, status=503),))
    with EmulatorServer(data_dir=tmp_path / "data", secret=SECRET, faults=faults) as server:
        done = run_child(tmp_path, server.url, "debug")
    assert done.returncode == 0, done.stderr
    err = done.stderr
    assert "DEBUG" in err and "filestack_async" in err
    assert "PartDone(" in err
    assert "retrying PUT" in err
    for secret in (APIKEY, SECRET):
        assert secret not in err
    assert not re.search(r"[0-9a-f]{64}", err)  # no policy signature
    assert "eyJ" not in err  # no base64 policy


def test_without_the_variable_nothing_is_printed(tmp_path: Path) -> None:
    with EmulatorServer(data_dir=tmp_path / "data", secret=SECRET) as server:
        done = run_child(tmp_path, server.url, None)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
