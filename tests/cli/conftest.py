"""Fixtures for the command-line tests: emulators on loopback ports and a runner."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from filestack_async.cli import main
from filestack_async.emulator import EmulatorServer

SECRET = "cli-test-app-secret"
APIKEY = "CLI-TEST-APIKEY"
#: a policy signature (HMAC-SHA256, hex) anywhere in a text
SIGNATURE = re.compile(r"[0-9a-f]{64}")


@dataclass
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FILESTACK_API_KEY", "FILESTACK_APP_SECRET", "FILESTACK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmulatorServer]:
    """A lenient emulator without an app secret."""
    with EmulatorServer(data_dir=tmp_path / "lenient") as srv:
        yield srv


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[EmulatorServer]:
    """A strict emulator that checks policies signed with `SECRET`."""
    with EmulatorServer(data_dir=tmp_path / "secured", secret=SECRET, strict=True) as srv:
        yield srv


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run(*argv)``: call ``main`` and return its exit code, stdout and stderr."""

    def call(*argv: str) -> Result:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return call


def secure_args(srv: EmulatorServer) -> list[str]:
    return ["--base-url", srv.url, "--apikey", APIKEY, "--secret", SECRET]


def lenient_args(srv: EmulatorServer) -> list[str]:
    return ["--base-url", srv.url, "--apikey", APIKEY]
