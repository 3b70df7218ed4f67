"""Backoff maths and Retry-After parsing."""

from __future__ import annotations

import email.utils
import functools

import pytest

from filestack_async import ConfigurationError, RetryPolicy
from filestack_async._retry import backoff_delay, is_retryable_status, parse_retry_after


def test_backoff_grows_exponentially_then_caps() -> None:
    top = RetryPolicy(random=lambda: 0.999999)
    assert [round(backoff_delay(n, top), 3) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    low = RetryPolicy(random=lambda: 0.0)
    assert [backoff_delay(n, low) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0]


def test_jitter_stays_within_half_to_full() -> None:
    for r in (0.0, 0.1, 0.5, 0.9, 0.999):
        d = backoff_delay(3, RetryPolicy(random=functools.partial(float, r)))
        assert 2.0 <= d < 4.0


def test_custom_policy_numbers() -> None:
    policy = RetryPolicy(initial_delay=1, multiplier=3, max_delay=5, random=lambda: 1.0)
    assert [backoff_delay(n, policy) for n in range(4)] == [1, 3, 5, 5]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"initial_delay": -1}, {"budget": -1}, {"multiplier": 0.5}],
)
def test_policy_validation(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_disabled() -> None:
    assert RetryPolicy.disabled().max_retries == 0


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [200, 202, 400, 401, 403, 404, 409, 413, 501])
def test_not_retryable_statuses(status: int) -> None:
    assert not is_retryable_status(status)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"Retry-After": "0"}, 0.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"Retry-After-Ms": "250", "Retry-After": "9"}, 0.25),
        ({"retry-after-ms": "junk", "Retry-After": "9"}, 9.0),
        ({"Retry-After": "-1"}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "inf"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=0) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after({"Retry-After": date}, now=now) == pytest.approx(42, abs=1)
    past = email.utils.formatdate(now - 100, usegmt=True)
    assert parse_retry_after({"Retry-After": past}, now=now) == 0.0
    naive = email.utils.formatdate(now + 10)  # "-0000" zone
    assert parse_retry_after({"Retry-After": naive}, now=now) == pytest.approx(10, abs=1)
