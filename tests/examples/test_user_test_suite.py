"""examples/user_test_suite: a user's own pytest suite using ``filestack_async.testing``.

It runs in a separate pytest process, from its own folder, with its own ``pytest.ini``
and ``conftest.py``, as it would in the user's repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2] / "examples" / "user_test_suite"


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_the_users_suite_passes_with_the_shipped_fixtures(mode: str) -> None:
    """In pytest-asyncio's strict mode (its default) and auto mode alike: the fixtures
    are plain, and the tests (the documented samples among them) carry the asyncio mark."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FILESTACK_", "PYTEST_"))}
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-W", "error", "-p", "no:cacheprovider", "-q"),
            *("-o", f"asyncio_mode={mode}", "-rs"),
        ],
        cwd=SUITE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout and "skipped" not in result.stdout, result.stdout


def test_the_documented_samples_are_the_suites() -> None:
    """docs/emulator.md shows the sample tests exactly as the suite runs them."""
    page = (SUITE.parents[1] / "docs" / "emulator.md").read_text(encoding="utf-8")
    sample = (SUITE / "test_documented_sample.py").read_text(encoding="utf-8")
    for name in ("basic", "server"):
        start, end = f"# --8<-- [start:{name}]\n", f"# --8<-- [end:{name}]"
        block = sample[sample.index(start) + len(start) : sample.index(end)].strip()
        assert block in page, f"docs/emulator.md lacks the {name!r} sample as the suite has it"
