"""Fault rates are exact: each kind of fault happens at its own rate, not at its rate of
what the kinds drawn before it left over."""

from __future__ import annotations

from collections import Counter

import pytest

from filestack_async.emulator import FaultConfigError, Faults, RouteFault
from filestack_async.emulator.faults import FaultInjector

DRAWS = 20_000


def _shares(rule: RouteFault) -> dict[str, float]:
    injector = FaultInjector(Faults(seed=5, rules=(rule,)))
    kinds: Counter[str] = Counter()
    for i in range(DRAWS):
        decision = injector.decide("put", str(i))
        if decision.reset:
            kinds["reset"] += 1
        elif decision.status is not None:
            kinds["error"] += 1
            kinds["retry_after"] += decision.retry_after is not None
        elif decision.delay:
            kinds["delay"] += 1
    assert injector.injected["put:reset"] == kinds["reset"]
    assert injector.injected["put:503"] == kinds["error"]
    assert injector.injected["put:503+retry-after"] == kinds["retry_after"]
    assert injector.injected["put:delay"] == kinds["delay"]
    assert injector.decided == {"put": DRAWS}
    return {kind: count / DRAWS for kind, count in kinds.items()}


def test_each_kind_gets_its_own_rate() -> None:
    # drawn in sequence, the error and delay shares would be 0.21 and 0.147
    shares = _shares(RouteFault("put", reset_rate=0.3, error_rate=0.3, delay_rate=0.3, delay=1.0))
    for kind in ("reset", "error", "delay"):
        assert shares[kind] == pytest.approx(0.3, abs=0.015), shares


def test_the_campaign_mix() -> None:
    rule = RouteFault(
        "put",
        error_rate=0.10,
        status=503,
        retry_after=1.0,
        retry_after_rate=0.5,
        reset_rate=0.05,
        delay_rate=0.02,
        delay=1.0,
    )
    shares = _shares(rule)
    assert shares["reset"] == pytest.approx(0.05, abs=0.006), shares
    assert shares["error"] == pytest.approx(0.10, abs=0.008), shares
    assert shares["retry_after"] == pytest.approx(0.05, abs=0.006), shares
    assert shares["delay"] == pytest.approx(0.02, abs=0.004), shares


def test_rates_adding_up_to_more_than_one_are_refused() -> None:
    with pytest.raises(FaultConfigError, match="must not exceed 1"):
        RouteFault("put", reset_rate=0.5, error_rate=0.5, delay_rate=0.1)
    RouteFault("put", reset_rate=0.5, error_rate=0.5)  # exactly 1 is fine
