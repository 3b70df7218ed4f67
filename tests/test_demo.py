"""``python -m filestack_async.demo`` (README line 1) is the ``filestack-async demo`` command.

The steps themselves are tested in tests/cli/test_demo.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from filestack_async import demo
from filestack_async._cli import demo as steps


def test_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "filestack_async.demo"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("  ok  ") == len(steps.STEPS)
    assert "every step succeeded" in result.stdout
    assert steps.SECRET not in result.stdout + result.stderr


def test_passes_options_on(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"succeeded": True, "failed_step": None, "steps": list(steps.STEPS)}


def test_a_failing_step_fails_the_module(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(steps, "_image_size", lambda data: (1, 1))
    assert demo.main([]) == 1
    captured = capsys.readouterr()
    assert "FAILED  resize + flip" in captured.out
    assert "demo failed at: resize + flip, stored as a new file, downloaded" in captured.err
