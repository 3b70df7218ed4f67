"""Shared test configuration.

pytest-asyncio (``asyncio_mode = "auto"``) runs every ``async def`` test on
asyncio. Tests marked ``@pytest.mark.anyio`` belong to anyio's plugin instead
(the trio subset): the hook below hands them back to it, so the two plugins
never both claim a test.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator

import pluggy
import pytest
from hypothesis import settings
from pytest_asyncio.plugin import PytestAsyncioFunction

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


@pytest.hookimpl(hookwrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, pluggy.Result[object], None]:
    outcome = yield
    result = outcome.get_result()
    if not result:
        return
    items = result if isinstance(result, list) else [result]
    handed_back: list[object] = []
    for item in items:
        if isinstance(item, PytestAsyncioFunction) and item.get_closest_marker("anyio"):
            plain = pytest.Function.from_parent(
                item.parent,
                name=item.name,
                callspec=getattr(item, "callspec", None),
                callobj=item.obj,
                fixtureinfo=item._fixtureinfo,
                keywords=item.keywords,
                originalname=item.originalname,
            )
            plain.own_markers = [m for m in item.own_markers if m.name != "asyncio"]
            item = plain
        handed_back.append(item)
    outcome.force_result(handed_back)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``live`` unless ``FILESTACK_API_KEY`` is set."""
    if os.environ.get("FILESTACK_API_KEY"):
        return
    skip = pytest.mark.skip(reason="set FILESTACK_API_KEY to run tests against the real service")
    for item in items:
        if item.get_closest_marker("live"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A developer's FILESTACK_BASE_URL must not leak into tests."""
    monkeypatch.delenv("FILESTACK_BASE_URL", raising=False)
    yield
