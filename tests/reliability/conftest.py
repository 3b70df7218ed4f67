"""The reliability campaign's scale.

The normal test run takes a fast subset of every campaign; ``nox -s reliability``
sets ``FILESTACK_RELIABILITY=full`` and runs the whole of it (100 uploads per
fault campaign, 100 cancellations, a longer load test, more hypothesis examples, drawn
afresh each run; the normal run draws the same examples every time, see tests/conftest.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings


@dataclass(frozen=True)
class Campaign:
    """How big each campaign is in this run."""

    full: bool
    #: uploads in the fault campaign, per flow
    fault_uploads: int
    #: largest random upload size in the fault campaign
    fault_max_size: int
    #: cancelled uploads in the cancellation campaign
    cancellations: int
    #: concurrent clients in the emulator load test
    load_clients: int
    #: seconds the load test runs
    load_seconds: float
    #: hypothesis examples per fuzz test
    fuzz_examples: int


FULL = Campaign(
    full=True,
    fault_uploads=100,
    fault_max_size=20 * 1024 * 1024,
    cancellations=100,
    load_clients=50,
    load_seconds=20.0,
    fuzz_examples=500,
)
QUICK = Campaign(
    full=False,
    fault_uploads=8,
    fault_max_size=4 * 1024 * 1024,
    cancellations=12,
    load_clients=10,
    load_seconds=2.0,
    fuzz_examples=60,
)


def current_campaign() -> Campaign:
    """The full campaign when ``FILESTACK_RELIABILITY=full``, else the fast subset."""
    return FULL if os.environ.get("FILESTACK_RELIABILITY") == "full" else QUICK


@pytest.fixture(scope="session")
def campaign() -> Campaign:
    """The scale of this run's reliability campaign."""
    return current_campaign()


def fuzz_settings(campaign: Campaign, scale: float = 1.0, **extra: Any) -> settings:
    """Hypothesis settings for a fuzz test: ``scale`` times the campaign's examples (10 at least).

    No deadline (a loaded machine is not a bug) and no health checks about slow or large
    data, or about function-scoped fixtures (the tests reset what they use themselves).
    """
    return settings(
        max_examples=max(10, int(campaign.fuzz_examples * scale)),
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
        **extra,
    )
