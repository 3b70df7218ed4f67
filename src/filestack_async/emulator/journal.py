"""The request journal: a bounded ring of every request the emulator served.

Each entry has the method, the path (secrets masked), the route, the status, the
time taken, the body sizes, the client's ``Filestack-Trace-Id`` and the protocol
violations the request caused. Control-plane requests (``/_emulator/...``) are not
journaled. Read it with `RequestJournal.entries` (filters) or
``GET /_emulator/journal``; with ``journal_file`` set, each entry is also appended
to that file as one JSON line.

Example:
    >>> journal = RequestJournal(capacity=10)
    >>> journal.entries(route="start")
    []
"""

from __future__ import annotations

import contextvars
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .strict import ViolationLog

#: entries kept by default (the oldest go first)
DEFAULT_CAPACITY = 2000
#: query parameters whose values are replaced by ``***``
SECRET_PARAMS = frozenset(
    {"policy", "signature", "apikey", "key", "secret", "token", "s", "p", "x-amz-signature"}
)
MASK = "***"
CONTROL_PREFIX = "/_emulator"

# the violations of the request being served (a list the log appends to)
_CURRENT: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "filestack_emulator_request_violations", default=None
)
_BARE_TASK = re.compile(r"^[a-z_]+$")


class JournalError(ValueError):
    """A journal setting or filter is not valid."""


@dataclass(frozen=True)
class JournalEntry:
    """One request served."""

    id: int
    time: float
    method: str
    path: str
    route: str
    status: int
    duration_ms: float
    request_bytes: int
    response_bytes: int
    trace_id: str | None
    violations: tuple[str, ...] = field(default_factory=tuple)
    #: why no complete answer was sent (an injected reset, a crash), else None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """As ``GET /_emulator/journal`` lists it."""
        data = asdict(self)
        data["violations"] = list(self.violations)
        return data


def route_of(method: str, path: str) -> str:
    """The route name of a request, as faults name them (``start``, ``put``, ``cdn``...)."""
    if path.startswith("/multipart/"):
        return path.split("/")[2] or "multipart"
    if path.startswith("/_s3/"):
        return "put"
    if path.startswith("/api/store/"):
        return "store"
    if path.startswith("/api/file/"):
        return "metadata" if path.rstrip("/").endswith("/metadata") else "file"
    if path == "/process":
        return "process"
    if path.startswith(CONTROL_PREFIX + "/"):
        return "control"
    segments = [s for s in path.split("/") if s]
    if len(segments) > 1 and ("=" in segments[0] or _BARE_TASK.match(segments[0])):
        return "processing"
    if len(segments) > 2:
        return "processing"  # /APIKEY/task/.../source
    return "cdn"


def mask_path(path: str) -> str:
    """``path`` with secrets replaced by ``***``: a ``security=`` task, and the API key
    that starts a processing URL of an external source (``/APIKEY/task/.../URL``)."""
    segments = path.split("/")
    masked = []
    for index, segment in enumerate(segments):
        text = unquote(segment)
        if text.startswith("security="):
            masked.append("security=" + MASK)
        elif (
            index == 1
            and len(segments) > 3
            and "=" not in text
            and not _BARE_TASK.match(text)
            and not path.startswith(("/multipart/", "/_s3/", "/api/", CONTROL_PREFIX))
        ):
            masked.append(MASK)
        else:
            masked.append(segment)
    return "/".join(masked)


def mask_query(query: str) -> str:
    """A query string with the values of `SECRET_PARAMS` replaced by ``***``."""
    if not query:
        return ""
    pairs = [
        (k, MASK if k.lower() in SECRET_PARAMS else v)
        for k, v in parse_qsl(query, keep_blank_values=True)
    ]
    return urlencode(pairs, safe="*", quote_via=quote)


class RequestJournal:
    """A bounded, thread-safe ring of `JournalEntry`, optionally mirrored to a file
    (opened by `open`, closed by `close`)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, file: Path | None = None) -> None:
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise JournalError(f"the journal capacity must be a positive integer, not {capacity!r}")
        self._lock = threading.Lock()
        self._items: deque[JournalEntry] = deque(maxlen=capacity)
        self._next_id = 1
        self.capacity = capacity
        self.file = file
        #: the origin (``http://host:port``) the last request reached the emulator at
        self.last_origin: str | None = None
        self._out: IO[str] | None = None

    def open(self) -> None:
        """Open the journal file for appending, if one is set.

        Raises:
            JournalError: the file cannot be opened (naming it and why).
        """
        if self.file is None or self._out is not None:
            return
        try:
            self._out = open(self.file, "a", encoding="utf-8")
        except OSError as err:
            raise JournalError(
                f"cannot open the journal file {str(self.file)!r}: {err.strerror}"
            ) from None

    def record(self, **values: Any) -> JournalEntry:
        """Add an entry (``id`` and ``time`` are filled in)."""
        with self._lock:
            entry = JournalEntry(id=self._next_id, time=time.time(), **values)
            self._next_id += 1
            self._items.append(entry)
            if self._out is not None:
                try:
                    self._out.write(json.dumps(entry.to_json()) + "\n")
                    self._out.flush()
                except (OSError, ValueError):
                    pass  # a full disk or a closed file never fails a request
        return entry

    def entries(
        self,
        *,
        route: str | Iterable[str] | None = None,
        method: str | None = None,
        status: int | None = None,
        trace_id: str | None = None,
        violations: bool | None = None,
        since: int = 0,
    ) -> list[JournalEntry]:
        """The entries kept, oldest first, that match every filter given.

        ``route``: a route name or several; ``violations``: True for only those that
        broke the protocol, False for only those that did not; ``since``: only
        entries with a larger ``id``.
        """
        routes = {route} if isinstance(route, str) else None if route is None else set(route)
        with self._lock:
            items = list(self._items)
        return [
            e
            for e in items
            if (routes is None or e.route in routes)
            and (method is None or e.method == method.upper())
            and (status is None or e.status == status)
            and (trace_id is None or e.trace_id == trace_id)
            and (violations is None or bool(e.violations) == violations)
            and e.id > since
        ]

    def routes(self, **filters: Any) -> list[str]:
        """The route of each entry matching ``filters`` (see `entries`), in order."""
        return [e.route for e in self.entries(**filters)]

    def counts(self, **filters: Any) -> Counter[str]:
        """How many entries of each route match ``filters``: ``{"start": 1, "put": 3...}``."""
        return Counter(self.routes(**filters))

    def clear(self) -> None:
        """Forget every entry (the file keeps what was written)."""
        with self._lock:
            self._items.clear()

    def close(self) -> None:
        """Close the journal file, if any (idempotent)."""
        with self._lock:
            if self._out is not None:
                self._out.close()
                self._out = None


class AttributedViolationLog(ViolationLog):
    """A `ViolationLog` that also notes each violation on the request being served."""

    def add(self, route: str, message: str, *, rejected: bool) -> None:
        """Record a deviation, and on the current request's journal entry."""
        super().add(route, message, rejected=rejected)
        current = _CURRENT.get()
        if current is not None:
            current.append(message)


class JournalMiddleware:
    """ASGI middleware recording every HTTP request but the control plane's."""

    def __init__(self, app: ASGIApp, journal: RequestJournal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        self.journal.last_origin = _origin(scope)
        started = time.perf_counter()
        sizes = {"in": 0, "out": 0}
        status = {"code": 0}
        failure: list[str] = []
        violations: list[str] = []
        token = _CURRENT.set(violations)

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                sizes["in"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            elif message["type"] == "http.response.body":
                sizes["out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        except BaseException as err:
            failure.append(type(err).__name__)
            raise
        finally:
            _CURRENT.reset(token)
            self._record(scope, status["code"], started, sizes, violations, failure)

    def _record(
        self,
        scope: Scope,
        status: int,
        started: float,
        sizes: dict[str, int],
        violations: list[str],
        failure: list[str],
    ) -> None:
        path: str = scope.get("path", "")
        query = mask_query(scope.get("query_string", b"").decode("latin-1"))
        trace = None
        for name, value in scope.get("headers", []):
            if name == b"filestack-trace-id":
                trace = value.decode("latin-1")[:200]
        method: str = scope.get("method", "GET")
        self.journal.record(
            method=method,
            path=mask_path(path) + (f"?{query}" if query else ""),
            route=route_of(method, path),
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            request_bytes=sizes["in"],
            response_bytes=sizes["out"],
            trace_id=trace,
            violations=tuple(violations),
            error=failure[0] if failure else None,
        )


def _origin(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return f"{scope.get('scheme', 'http')}://{value.decode('latin-1')}"
    return None
