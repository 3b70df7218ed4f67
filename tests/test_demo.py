"""The demo (README line 1) runs every step for real and exits 0; a broken step fails it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from filestack_async import demo


async def test_every_step_succeeds() -> None:
    lines: list[str] = []
    assert await demo.run(lines.append) == 0
    text = "\n".join(lines)
    assert text.count("  ok  ") == 6 and "FAILED" not in text
    assert "every step succeeded" in text
    assert demo.SECRET not in text
    assert "s:" not in text.split("signed URL")[1].splitlines()[1]  # no signature shown


async def test_a_failing_step_fails_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "_image_size", lambda data: (1, 1))
    lines: list[str] = []
    assert await demo.run(lines.append) == 1
    text = "\n".join(lines)
    assert "FAILED  resize + flip" in text
    assert "demo failed at: resize + flip, stored as a new file, downloaded" in text


def test_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "filestack_async.demo"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every step succeeded" in result.stdout
