"""Shared test configuration.

pytest-asyncio (``asyncio_mode = "auto"``, configured in pyproject.toml) is the
one plugin that runs async tests: every ``async def`` test runs on asyncio, in a
loop of its own. anyio's plugin is switched off (``-p no:anyio``), so no test is
claimed by two plugins; the tests that must also run on trio (marked ``trio``)
are plain functions running their body with ``anyio.run(..., backend=...)``.

The wire, e2e and reliability suites run once per HTTP pool: the ``http_backend``
fixture sets ``$FILESTACK_HTTP_BACKEND`` to ``aiohttp``, then ``httpx``, so every
client a test makes (directly or through a fixture) uses that pool. respx mocks at
httpx's client level (``using="httpx"``), which intercepts any transport.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import respx.mocks
from hypothesis import settings

from filestack_async._http import HTTP_BACKEND_ENV

# respx's default mocker patches httpcore, which the aiohttp pool never reaches; the
# "httpx" mocker patches httpx's client, so ``@respx.mock`` intercepts every pool
respx.mocks.DEFAULT_MOCKER = "httpx"

#: suites that run once per HTTP pool (directories under tests/)
BOTH_POOLS = ("wire", "e2e", "reliability")
#: modules there that never open a pool of their own (in-process or recording transports)
ONE_POOL = ("test_bad_input_", "test_fuzz_")

# our own suite uses the fixtures we ship for users' suites
pytest_plugins = ["filestack_async.testing"]

# Hypothesis draws the same examples in every normal run, so CI stays reproducible; the
# full reliability campaign (FILESTACK_RELIABILITY=full, ``nox -s reliability``) draws new
# random ones each time to keep finding bugs.
settings.register_profile("reproducible", derandomize=True, database=None)
settings.register_profile("campaign")
settings.load_profile(
    "campaign" if os.environ.get("FILESTACK_RELIABILITY") == "full" else "reproducible"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``live`` unless ``FILESTACK_API_KEY`` is set."""
    if os.environ.get("FILESTACK_API_KEY"):
        return
    skip = pytest.mark.skip(reason="set FILESTACK_API_KEY to run tests against the real service")
    for item in items:
        if item.get_closest_marker("live"):
            item.add_marker(skip)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the wire, e2e and reliability tests on both HTTP pools.

    Tests on the e2e ``target`` and ``make_target`` fixtures are parametrized by
    tests/e2e/conftest.py instead (the in-process leg needs no second run).
    """
    path = metafunc.definition.path
    parts = path.parts
    names = metafunc.fixturenames
    if "http_backend" not in names or "target" in names or "make_target" in names:
        return
    at = parts.index("tests") + 1 if "tests" in parts else len(parts)
    suite = parts[at] if at < len(parts) - 1 else ""
    if suite in BOTH_POOLS and not path.name.startswith(ONE_POOL):
        metafunc.parametrize("http_backend", ["aiohttp", "httpx"], indirect=True)


@pytest.fixture(autouse=True)
def http_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """The HTTP pool this test's clients use (``$FILESTACK_HTTP_BACKEND``); None: the default."""
    backend: str | None = getattr(request, "param", None)
    if backend is None:
        monkeypatch.delenv(HTTP_BACKEND_ENV, raising=False)
    else:
        monkeypatch.setenv(HTTP_BACKEND_ENV, backend)
    return backend


@pytest.fixture(autouse=True)
def _no_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A developer's FILESTACK_BASE_URL must not leak into tests."""
    monkeypatch.delenv("FILESTACK_BASE_URL", raising=False)
    yield
