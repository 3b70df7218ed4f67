"""``filestack-async emulator`` flags for app teams: webhooks, journal, seed, dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from filestack_async.cli import main
from filestack_async.emulator import EmulatorConfig, app


class _Stop(Exception):
    """Raised by the fake emulator so the command stops before it serves."""


def test_the_flags_reach_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[EmulatorConfig] = []

    def fake_emulator(config: EmulatorConfig) -> None:
        seen.append(config)
        raise _Stop

    monkeypatch.setattr(app, "Emulator", fake_emulator)
    key = tmp_path / "webhook-key"
    key.write_text("HOOK-KEY\n")
    main(
        [
            "emulator",
            "--port",
            "0",
            "--webhook",
            "http://127.0.0.1:9000/a",
            "--webhook",
            "http://localhost:9001/b",
            "--webhook-secret-file",
            str(key),
            "--webhook-retry-scale",
            "0.01",
            "--webhook-timeout",
            "3",
            "--journal-file",
            str(tmp_path / "j.jsonl"),
            "--journal-size",
            "50",
            "--seed-data",
            str(tmp_path),
            "--no-dashboard",
        ]
    )
    [config] = seen
    assert config.webhooks == ("http://127.0.0.1:9000/a", "http://localhost:9001/b")
    assert config.webhook_secret == "HOOK-KEY"
    assert (config.webhook_retry_scale, config.webhook_timeout) == (0.01, 3.0)
    assert config.journal_file == tmp_path / "j.jsonl" and config.journal_size == 50
    assert config.seed == tmp_path and config.dashboard is False
    assert config.webhook_allow_remote is False


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--webhook", "http://example.com/hook"], "'example.com' is not loopback"),
        (["--webhook-retry-scale", "0"], "webhook_retry_scale must be a positive number"),
        (["--seed-data", "/nonexistent/seed"], "is neither a folder nor a file"),
        (["--journal-file", "/nonexistent/dir/j.jsonl"], "cannot open the journal file"),
        (["--webhook-secret-file", "/nonexistent/key"], "cannot read the webhook secret file"),
    ],
)
def test_bad_settings_are_named_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["emulator", "--port", "0", *argv]) == 2
    assert message in capsys.readouterr().err
