"""Protocol checks and the violation log.

A deviation is always logged. It is a 400 naming the deviation when the emulator
runs in strict mode, or when the request cannot be served at all (an unknown upload,
an MD5 that does not match, a gap between chunks...).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, TypeVar, overload

T = TypeVar("T")

_TYPE_NAMES = {
    int: "an integer",
    str: "a string",
    bool: "a boolean",
    dict: "an object",
    list: "a list",
}


class ProtocolError(Exception):
    """A request that breaks the protocol; answered with a 400 naming the deviation."""

    def __init__(self, message: str, *, status: int = 400, code: str = "ProtocolViolation") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Violation:
    """One logged deviation."""

    time: float
    route: str
    message: str
    rejected: bool

    def to_json(self) -> dict[str, Any]:
        """As ``GET /_emulator/violations`` lists it."""
        return {
            "time": self.time,
            "route": self.route,
            "message": self.message,
            "rejected": self.rejected,
        }


class ViolationLog:
    """Thread-safe list of deviations seen, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Violation] = []

    def add(self, route: str, message: str, *, rejected: bool) -> None:
        """Record a deviation."""
        with self._lock:
            self._items.append(Violation(time.time(), route, message, rejected))

    def snapshot(self) -> list[Violation]:
        """Every deviation so far."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        """Forget every deviation."""
        with self._lock:
            self._items.clear()


class Checker:
    """Checks one request against the protocol for one route.

    ``deviation(message)`` logs and, in strict mode, rejects; ``fatal(message)``
    logs and always rejects.
    """

    def __init__(self, log: ViolationLog, route: str, *, strict: bool) -> None:
        self.log = log
        self.route = route
        self.strict = strict

    def deviation(self, message: str) -> None:
        """A deviation the real service may tolerate: rejected only in strict mode."""
        self.log.add(self.route, message, rejected=self.strict)
        if self.strict:
            raise ProtocolError(f"protocol violation: {message}")

    def fatal(
        self, message: str, *, status: int = 400, code: str = "ProtocolViolation"
    ) -> NoReturn:
        """A deviation no server could serve: always rejected."""
        self.log.add(self.route, message, rejected=True)
        raise ProtocolError(f"protocol violation: {message}", status=status, code=code)

    @overload
    def field(
        self,
        body: Mapping[str, Any],
        name: str,
        kind: type[T],
        *,
        essential: Literal[True] = True,
        default: T | None = None,
    ) -> T: ...

    @overload
    def field(
        self,
        body: Mapping[str, Any],
        name: str,
        kind: type[T],
        *,
        essential: Literal[False],
        default: T | None = None,
    ) -> T | None: ...

    def field(
        self,
        body: Mapping[str, Any],
        name: str,
        kind: type[T],
        *,
        essential: bool = True,
        default: T | None = None,
    ) -> T | None:
        """Return ``body[name]`` if it has the right type.

        A missing or mistyped field is fatal when ``essential`` (so the value is never
        ``None``), else a deviation (and ``default`` is used).
        """
        value = body.get(name)
        what = _TYPE_NAMES.get(kind, kind.__name__)
        if value is None:
            problem = f"field {name!r} is missing"
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            problem = f"field {name!r} must be {what}, not {type(value).__name__}"
        else:
            return value
        if essential:
            self.fatal(problem)
        self.deviation(problem)
        return default
