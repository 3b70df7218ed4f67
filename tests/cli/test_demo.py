"""``filestack-async demo`` end to end: every step for real, and a broken step fails it."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from filestack_async import cli
from filestack_async._cli import demo

from .conftest import SIGNATURE, Run


def test_every_step_succeeds(run: Run) -> None:
    result = run("demo")
    assert result.code == 0, result.out + result.err
    assert result.err == ""
    text = result.out
    assert text.count("  ok  ") == len(demo.STEPS) and "FAILED" not in text
    for step in demo.STEPS:
        assert f"  ok      {step} (" in text
    assert "every step succeeded (6 steps, no protocol violation)" in text
    assert "red quarter now bottom left (flipped)" in text
    assert "decoded with PyAV: webm 80x60" in text
    assert "the unsigned URL is refused (403)" in text
    assert "delete refused with it (403)" in text
    assert "/security=***/" in text  # the signed URL, with its signature masked
    assert demo.SECRET not in text and not SIGNATURE.search(text)
    assert "\x1b" not in text and "━" not in text  # not a terminal: no bars


def test_json_summary(run: Run) -> None:
    result = run("--json", "demo")
    assert result.code == 0, result.err
    assert run("demo", "--json").out == result.out
    assert json.loads(result.out) == {
        "succeeded": True,
        "failed_step": None,
        "steps": list(demo.STEPS),
    }


def test_a_failing_step_names_itself(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "_video_facts", lambda data: (1, 1, 0.0))
    result = run("demo")
    assert result.code == 1
    assert "  FAILED  video conversion with wait_until_complete(): StepFailed: expected 80x60" in (
        result.out
    )
    assert "overwrite and delete" not in result.out  # later steps do not run
    assert result.err == (
        "filestack-async: error: demo failed at: video conversion with wait_until_complete()\n"
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bars_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("COLUMNS", "140")
    assert cli.main(["demo"]) == 0
    text = terminal.getvalue()
    for bar in ("upload sample.png", "download thumb.png", "upload sample.mp4",
                "convert to webm", "download converted.webm"):  # fmt: skip
        assert bar in text
    assert "━" in text and "100%" in text
    assert demo.SECRET not in text and not SIGNATURE.search(text)


def test_runs_from_the_console_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "filestack_async.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every step succeeded" in result.stdout
