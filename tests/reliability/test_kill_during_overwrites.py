"""kill -9 while files are being overwritten, then a restart on the same data folder.

The emulator runs in a subprocess (``python -m filestack_async.emulator --data-dir``).
16 files are overwritten in a loop, with versions of random sizes and bytes, and the
process is killed with SIGKILL at a random moment, a few rounds in a row. After each
restart every file must be whole at one of the versions written for it: its bytes match
the size and MD5 its metadata states, and that MD5 is one of its versions. Nothing a
crash left behind (blobs no row references, temporary files) survives the restart.
"""

from __future__ import annotations

import base64
import hashlib
import random
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import anyio.abc
import httpx

from .conftest import Campaign

APIKEY = "KILL-APIKEY"
FILES = 16
KiB = 1024
POLICY = {
    "policy": base64.urlsafe_b64encode(b'{"expiry": 4102444800}').decode(),
    "signature": "a" * 64,
}
#: a bound on waiting for a subprocess to print its address or to exit (a hang guard)
_PATIENCE = 60


async def _launch(data_dir: Path, log: Path) -> tuple[anyio.abc.Process, str]:
    """Start the emulator on a free loopback port; the process and its base URL."""
    with log.open("ab") as errors:
        process = await anyio.open_process(
            [
                sys.executable,
                "-m",
                "filestack_async.emulator",
                "--port",
                "0",
                "--data-dir",
                str(data_dir),
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
    assert process.stdout is not None
    seen = b""
    with anyio.fail_after(_PATIENCE):
        while b"\n" not in (tail := seen.partition(b"listening on ")[2]):
            seen += await process.stdout.receive()
    url = tail.split(b"\n", 1)[0].decode().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return process, url


async def _kill(process: anyio.abc.Process) -> None:
    process.send_signal(signal.SIGKILL)
    with anyio.fail_after(_PATIENCE):
        await process.wait()
    if process.stdout is not None:
        await process.stdout.aclose()


async def _file_problem(http: httpx.AsyncClient, url: str, handle: str, written: set[str]) -> str:
    """What is wrong with one file after a restart ("" if nothing)."""
    try:
        meta = await http.get(f"{url}/{handle}/metadata", params={"size": "true", "md5": "true"})
        body = await http.get(f"{url}/{handle}")
    except httpx.HTTPError as err:  # such as a body shorter than the size it was sent as
        return f"{type(err).__name__}: {err}"
    if meta.status_code != 200 or body.status_code != 200:
        return f"metadata {meta.status_code}, download {body.status_code}"
    facts = meta.json()
    digest = hashlib.md5(body.content).hexdigest()
    if len(body.content) != facts["size"] or digest != facts["md5"]:
        return (
            f"{len(body.content)} bytes md5 {digest}, but the metadata says "
            f"{facts['size']} bytes md5 {facts['md5']}"
        )
    if digest not in written:
        return "bytes of no version written"
    if body.headers["etag"] != f'"{digest}"':
        return f"ETag {body.headers['etag']} is not its version's"
    return ""


async def _check_whole(
    http: httpx.AsyncClient, url: str, versions: dict[str, set[str]], data_dir: Path
) -> tuple[set[str], list[str]]:
    """The handles of broken files after a restart, and every problem seen."""
    problems = []
    broken = set()
    for handle, written in versions.items():
        if problem := await _file_problem(http, url, handle, written):
            broken.add(handle)
            problems.append(f"{handle}: {problem}")
    left = [p.name for p in (data_dir / "files").iterdir()]
    if len(left) != len(versions):
        problems.append(f"{len(left)} entries under files/ for {len(versions)} files: {left}")
    return broken, problems


async def test_kill_9_during_overwrites_leaves_each_file_at_one_version(
    campaign: Campaign, tmp_path: Path
) -> None:
    rounds = 10 if campaign.full else 3
    max_size = 2048 * KiB if campaign.full else 256 * KiB
    rng = random.Random(99)
    data_dir = tmp_path / "data"
    log = tmp_path / "emulator.log"
    versions: dict[str, set[str]] = {}
    process, url = await _launch(data_dir, log)
    problems: list[str] = []
    broken: set[str] = set()
    overwrites = 0

    async def overwrite(http: httpx.AsyncClient, url: str, handle: str, seed: int) -> None:
        """Overwrite ``handle`` with new versions until the emulator is killed."""
        nonlocal overwrites
        wrng = random.Random(seed)
        while True:
            data = wrng.randbytes(wrng.randint(0, max_size))
            versions[handle].add(hashlib.md5(data).hexdigest())  # before it is sent
            files = {"fileUpload": ("v.bin", data, "application/octet-stream")}
            try:
                await http.post(f"{url}/api/file/{handle}", params=POLICY, files=files)
            except httpx.HTTPError:
                return  # the emulator was killed
            overwrites += 1

    try:
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(FILES):
                data = rng.randbytes(rng.randint(0, max_size))
                r = await http.post(f"{url}/api/store/S3", params={"key": APIKEY}, content=data)
                assert r.status_code == 200, r.text
                versions[r.json()["url"].rsplit("/", 1)[1]] = {hashlib.md5(data).hexdigest()}
        for round_number in range(rounds):
            async with httpx.AsyncClient(timeout=30) as http:
                async with anyio.create_task_group() as group:
                    for index, handle in enumerate(versions):
                        seed = round_number * 100 + index
                        group.start_soon(overwrite, http, url, handle, seed)
                    await anyio.sleep(rng.uniform(0.2, 1.0))
                    await _kill(process)
                    group.cancel_scope.cancel()
            process, url = await _launch(data_dir, log)
            async with httpx.AsyncClient(timeout=30) as http:
                broken_now, found = await _check_whole(http, url, versions, data_dir)
            broken |= broken_now
            problems += [f"round {round_number + 1}: {p}" for p in found]
    finally:
        if process.returncode is None:
            await _kill(process)
    print(
        f"kill -9 during overwrites: {rounds} rounds, {overwrites} overwrites answered, "
        f"{len(broken)} of {FILES} files broken at some point"
    )
    for line in problems[:10]:
        print("  ", line)
    assert problems == []
