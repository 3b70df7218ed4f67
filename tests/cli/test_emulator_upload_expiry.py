"""``filestack-async emulator --upload-expiry SECONDS`` reaches the emulator's settings."""

from __future__ import annotations

import pytest

from filestack_async.cli import main
from filestack_async.emulator import EmulatorConfig, app


class _Stop(Exception):
    """Raised by the fake emulator so the command stops before it serves."""


def test_the_flag_sets_the_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[EmulatorConfig] = []

    def fake_emulator(config: EmulatorConfig) -> None:
        seen.append(config)
        raise _Stop

    monkeypatch.setattr(app, "Emulator", fake_emulator)
    for argv, expected in ((["--upload-expiry", "90.5"], 90.5), ([], 86400.0)):
        seen.clear()
        main(["emulator", "--port", "0", *argv])
        assert [config.upload_expiry for config in seen] == [expected]


@pytest.mark.parametrize("value", ["0", "-3", "nan", "soon"])
def test_a_bad_expiry_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--upload-expiry", value]) == 2
    assert "--upload-expiry: must be a positive number of seconds" in capsys.readouterr().err
