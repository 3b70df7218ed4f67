"""Deciding, reproducibly, which requests misbehave."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass

from .config import Faults


@dataclass(frozen=True)
class Decision:
    """What to do to one request."""

    reset: bool = False
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0


NO_FAULT = Decision()


class FaultInjector:
    """Draws faults for requests from a seeded generator per request identity.

    The same ``(route, key)`` seen for the n-th time always gets the same decision
    for the same seed. Keys hold only stable facts (part, offset, size), so the
    same uploads in the same order meet the same faults in every run.
    """

    def __init__(self, faults: Faults) -> None:
        self._lock = threading.Lock()
        self._seen: Counter[tuple[str, str]] = Counter()
        self._complete_202: Counter[str] = Counter()
        self.faults = faults
        #: how many faults of each kind were injected, per route ("put:reset": 3)
        self.injected: Counter[str] = Counter()
        #: how many requests met a fault rule, per route (the denominators of the rates)
        self.decided: Counter[str] = Counter()

    def replace(self, faults: Faults) -> None:
        """Use new settings and start counting afresh."""
        with self._lock:
            self.faults = faults
            self._seen.clear()
            self._complete_202.clear()
            self.injected.clear()
            self.decided.clear()

    def decide(self, route: str, key: str = "") -> Decision:
        """The fault (if any) for this request."""
        with self._lock:
            rules = [r for r in self.faults.rules if r.route in ("*", route)]
            if not rules:
                return NO_FAULT
            self._seen[(route, key)] += 1
            self.decided[route] += 1
            count = self._seen[(route, key)]
            rng = random.Random(f"{self.faults.seed}:{route}:{key}:{count}")
            for rule in rules:
                # Drawn in turn (reset, error, delay), each kind's chance is taken out of
                # what the kinds before it left, so it happens at exactly its own rate; a
                # rule with one kind draws as it always did.
                left = 1.0
                if rng.random() < rule.reset_rate:
                    self.injected[f"{route}:reset"] += 1
                    return Decision(reset=True)
                left -= rule.reset_rate
                if left > 0 and rng.random() < rule.error_rate / left:
                    retry_after = None
                    if rule.retry_after is not None and rng.random() < rule.retry_after_rate:
                        retry_after = rule.retry_after
                        self.injected[f"{route}:{rule.status}+retry-after"] += 1
                    self.injected[f"{route}:{rule.status}"] += 1
                    return Decision(status=rule.status, retry_after=retry_after)
                left -= rule.error_rate
                if left > 0 and rng.random() < rule.delay_rate / left:
                    self.injected[f"{route}:delay"] += 1
                    return Decision(delay=rule.delay)
            return NO_FAULT

    def chunk_too_big(self, size: int) -> bool:
        """True when a PUT of ``size`` bytes must fail (the max-chunk-size fault)."""
        limit = self.faults.max_chunk_size
        if limit is not None and size > limit:
            with self._lock:
                self.injected["put:too-big"] += 1
            return True
        return False

    def complete_needs_202(self, upload_id: str) -> bool:
        """True while ``upload_id`` still has 202 answers to give on complete."""
        with self._lock:
            if self._complete_202[upload_id] < self.faults.complete_202:
                self._complete_202[upload_id] += 1
                self.injected["complete:202"] += 1
                return True
            return False

    def download_cut_at(self, key: str, length: int) -> int | None:
        """The offset to cut a download body of ``length`` bytes off at, or None (the
        download-cut fault; a body not longer than the offset drawn is sent whole).

        ``key`` holds the stable facts of the request (size, range start), so the
        same downloads in the same order meet the same cuts for a seed.
        """
        cut = self.faults.download_cut
        if cut is None or cut.rate <= 0:
            return None
        with self._lock:
            self._seen[("download-cut", key)] += 1
            count = self._seen[("download-cut", key)]
            self.decided["download-cut"] += 1
            rng = random.Random(f"{self.faults.seed}:download-cut:{key}:{count}")
            if rng.random() >= cut.rate:
                return None
            at = cut.offset if cut.max_offset is None else rng.randint(cut.offset, cut.max_offset)
            if at >= length:
                return None
            self.injected["cdn:cut"] += 1
            return at
