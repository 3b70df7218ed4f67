"""Shared pieces of the benchmarks: the emulator subprocess, test files, machine facts."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
GiB = 1024 * MiB


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def system_busy_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (all cores, from /proc)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class EmulatorProcess:
    """A running ``filestack-async emulator`` subprocess."""

    base: str
    process: subprocess.Popen[bytes]
    wan: bool

    def cpu_seconds(self) -> float:
        """CPU seconds the emulator has used so far."""
        return process_cpu_seconds(self.process.pid)

    def reset(self) -> None:
        """Delete every stored file and upload (keeps the disk from filling between runs)."""
        request = urllib.request.Request(f"{self.base}/_emulator/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()


@contextmanager
def emulator(*, wan: bool, directory: Path) -> Iterator[EmulatorProcess]:
    """Run the emulator on a free loopback port (``--wan-profile`` when ``wan``)."""
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="bench-emulator-", dir=directory))
    command = [sys.executable, "-m", "filestack_async.cli", "emulator", "--port", str(port),
               "--data-dir", str(data)]  # fmt: skip
    if wan:
        command.append("--wan-profile")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.05)
        yield EmulatorProcess(f"http://127.0.0.1:{port}", process, wan)
    finally:
        process.terminate()
        process.wait(20)
        shutil.rmtree(data, ignore_errors=True)


def make_file(size: int, directory: Path) -> Path:
    """A file of ``size`` random bytes (reused between runs when it already exists)."""
    path = directory / f"data-{size}.bin"
    if not path.exists() or path.stat().st_size != size:
        block = os.urandom(MiB)
        with open(path, "wb") as f:
            for _ in range(size // MiB):
                f.write(block)
            f.write(block[: size % MiB])
    return path


def _version_or_none(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _git(*args: str) -> str:
    out = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    return out.stdout.strip()


def snapshot_head(directory: Path) -> Path:
    """Extract the committed tree (``git archive HEAD``) into ``directory``; its ``src``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True,
                             check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
    return directory / "src"


#: names the one-request (small files) threshold of `UploadConfig` may have, best first
THRESHOLD_NAMES = ("multipart_threshold", "one_request_threshold", "single_request_threshold")


def threshold_field(fields: list[str]) -> str | None:
    """The `UploadConfig` field that sets the one-request threshold, if the code has one.

    A known name first, else the one field whose name mentions a threshold (None when
    there is none or more than one).
    """
    for name in THRESHOLD_NAMES:
        if name in fields:
            return name
    found = [f for f in fields if "threshold" in f]
    return found[0] if len(found) == 1 else None


def upload_config_fields() -> list[str]:
    """The fields of `UploadConfig` in the code the workers import (fresh interpreter)."""
    code = ("import dataclasses, filestack_async as f; "
            "print(' '.join(x.name for x in dataclasses.fields(f.UploadConfig)))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)  # fmt: skip
    return out.stdout.split()


def machine_facts() -> dict[str, Any]:
    """Cores, Python, OS, package versions and the code measured, for the results file."""
    from importlib.metadata import version

    where = subprocess.run(
        [sys.executable, "-c", "import filestack_async; print(filestack_async.__file__)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    return {
        "git_head": _git("rev-parse", "--short", "HEAD"),
        "sdk_imported_from": where,
        "src_dirty_files": len(_git("status", "--porcelain", "--", "src").splitlines()),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "filestack_async": version("filestack-async"),
        "filestack_python": version("filestack-python"),
        "httpx": version("httpx"),
        "httpx_aiohttp": _version_or_none("httpx-aiohttp"),
        "aiohttp": _version_or_none("aiohttp"),
        "upload_config_fields": upload_config_fields(),
        "uvicorn": version("uvicorn"),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GiB, 1),
    }
