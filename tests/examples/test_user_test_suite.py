"""examples/user_test_suite: a user's own pytest suite using ``filestack_async.testing``.

It runs in a separate pytest process, from its own folder, with its own ``pytest.ini``
and ``conftest.py``, as it would in the user's repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SUITE = Path(__file__).resolve().parents[2] / "examples" / "user_test_suite"


def test_the_users_suite_passes_with_the_shipped_fixtures() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FILESTACK_", "PYTEST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-W", "error", "-p", "no:cacheprovider", "-q"],
        cwd=SUITE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
