"""Webhooks signed as Filestack signs them, delivered off the request path.

When a file is stored (``fp.upload``), overwritten (``fp.overwrite``), deleted
(``fp.delete``) or produced by a video conversion (``fp.converse``), every configured
URL that wants the event gets a ``POST`` of the service's payload shape with
``FS-Signature`` (lowercase hex HMAC-SHA256 of ``"{FS-Timestamp}.{body}"``) and
``FS-Timestamp`` headers, the scheme `filestack_async.verify_webhook_signature` checks.

Delivery never holds up a request: events go to a bounded queue served by a few
worker threads. An answer other than 200, 201 or 204 (or no answer within
``timeout`` seconds) is retried after 5 min, 30 min and 12 h, as the service does,
each delay multiplied by ``retry_scale``; then the delivery is marked failed.

Only configured URLs are ever reached, and only on loopback addresses unless
``allow_remote``: a name is resolved, every address it resolves to is checked, and
the connection goes to the address checked (no DNS rebinding).
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import json
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .._security import webhook_signature
from .fetch import is_loopback_host
from .storage import StoredFile

#: the service's retry delays in seconds (scaled by ``retry_scale``)
RETRY_DELAYS: tuple[float, ...] = (300.0, 1800.0, 43200.0)
#: answers that count as delivered
DELIVERED = frozenset({200, 201, 204})
#: the events the emulator sends
EVENTS = ("fp.upload", "fp.overwrite", "fp.delete", "fp.converse")
#: deliveries waiting (first attempts and retries) beyond which new ones are dropped
MAX_PENDING = 1000
#: delivery records kept for the control plane and the dashboard
MAX_RECORDS = 500
WORKERS = 4
_STORAGE_EVENTS = {
    "store": "fp.upload",
    "overwrite": "fp.overwrite",
    "delete": "fp.delete",
    "converse": "fp.converse",
}
_MAX_ANSWER = 64 * 1024


class WebhookError(ValueError):
    """A webhook URL or setting is not acceptable (named in the message)."""


@dataclass(frozen=True)
class Target:
    """A URL that receives webhooks, and the events it wants (``None``: all)."""

    url: str
    events: frozenset[str] | None = None

    def wants(self, action: str) -> bool:
        """True when this target receives ``action``."""
        return self.events is None or action in self.events

    def to_json(self) -> dict[str, Any]:
        """As ``GET /_emulator/webhooks`` lists it."""
        return {"url": self.url, "events": None if self.events is None else sorted(self.events)}


@dataclass
class Attempt:
    """One try at delivering: when, the answer's status or the error, how long."""

    time: float
    status: int | None
    error: str | None
    duration_ms: float


@dataclass
class Delivery:
    """One webhook for one target, with every attempt made."""

    id: int
    action: str
    url: str
    body: str
    state: str = "pending"  # pending, delivered, failed, dropped
    attempts: list[Attempt] = field(default_factory=list)
    next_at: float | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """As ``GET /_emulator/webhooks`` lists it."""
        return {
            "id": self.id,
            "action": self.action,
            "url": self.url,
            "state": self.state,
            "reason": self.reason,
            "next_at": self.next_at,
            "payload": json.loads(self.body),
            "attempts": [a.__dict__ for a in self.attempts],
        }


@dataclass(frozen=True)
class Endpoint:
    """A checked URL: where to connect and what to send."""

    scheme: str
    host: str
    port: int
    target: str  # path and query


def parse_url(url: object) -> Endpoint:
    """The parts of an http(s) webhook URL, or `WebhookError` naming what is wrong."""
    if not isinstance(url, str) or not url:
        raise WebhookError(f"a webhook URL must be a non-empty string, not {type(url).__name__}")
    if len(url) > 2048 or any(c in url for c in "\r\n\x00 "):
        raise WebhookError("a webhook URL must be at most 2048 characters, with no spaces")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(f"a webhook URL must be http:// or https:// with a host: {url[:80]!r}")
    if parts.username or parts.password:
        raise WebhookError("a webhook URL must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookError(f"the webhook URL's port is not valid: {url[:80]!r}") from None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Endpoint(parts.scheme, parts.hostname, port, target)


def resolve(host: str, port: int, *, allow_remote: bool) -> str:
    """The address to connect to for ``host``, once every address it resolves to has
    been checked (loopback only unless ``allow_remote``).

    Raises:
        WebhookError: the host does not resolve, or resolves beyond loopback.
    """
    if not allow_remote and not is_loopback_host(host):
        raise WebhookError(
            f"the webhook host {host!r} is not loopback: the emulator sends webhooks only "
            "to loopback addresses unless allowed (webhook_allow_remote, "
            "--webhook-allow-remote)"
        )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise WebhookError(
            f"the webhook host {host!r} does not resolve ({err.strerror or err})"
        ) from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise WebhookError(f"the webhook host {host!r} does not resolve")
    for address in addresses:
        ip = ipaddress.ip_address(address.partition("%")[0])
        if ip.is_unspecified or ip.is_multicast:
            raise WebhookError(f"the webhook host {host!r} resolves to {address}")
        if not allow_remote and not ip.is_loopback:
            raise WebhookError(
                f"the webhook host {host!r} resolves to {address}, not a loopback address"
            )
    return addresses[0]


def check_url(url: object, *, allow_remote: bool = False) -> str:
    """``url`` if webhooks may go there (well formed, resolving, loopback unless
    ``allow_remote``), else `WebhookError` naming the cause."""
    endpoint = parse_url(url)
    resolve(endpoint.host, endpoint.port, allow_remote=allow_remote)
    assert isinstance(url, str)
    return url


def post(
    endpoint: Endpoint,
    address: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    open_sockets: set[socket.socket] | None = None,
) -> int:
    """POST ``body`` to ``address`` (checked already); the answer's status.

    The whole exchange (connect, send, the answer's head) must end within
    ``timeout`` seconds, however slowly the receiver trickles bytes. The socket is
    in ``open_sockets`` meanwhile (so a closing dispatcher can cut it short).

    Raises:
        OSError: could not connect, the receiver took too long or answered no HTTP.
    """
    deadline = time.monotonic() + timeout
    host_header = endpoint.host if ":" not in endpoint.host else f"[{endpoint.host}]"
    default_port = 443 if endpoint.scheme == "https" else 80
    if endpoint.port != default_port:
        host_header += f":{endpoint.port}"
    head = [f"POST {endpoint.target} HTTP/1.1", f"Host: {host_header}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    sock: socket.socket = socket.create_connection((address, endpoint.port), timeout=timeout)
    plain = sock
    if open_sockets is not None:
        open_sockets.add(plain)
    try:
        if endpoint.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=endpoint.host)
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        sock.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer within {timeout:g} s")
            sock.settimeout(left)
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
            if len(answer) > _MAX_ANSWER:
                break
    finally:
        if open_sockets is not None:
            open_sockets.discard(plain)
        sock.close()
    line = answer.split(b"\r\n", 1)[0].split()
    if len(line) < 2 or not line[0].startswith(b"HTTP/") or not line[1].isdigit():
        raise ConnectionError("the receiver did not answer HTTP")
    return int(line[1])


def payload_text(action: str, file: StoredFile, origin: str) -> dict[str, Any]:
    """The ``text`` of a webhook for ``file``, in the service's shape for ``action``."""
    url = f"{origin}/{file.handle}"
    if action == "fp.delete":
        return {"url": url}
    if action == "fp.overwrite":
        return {
            "mimetype": file.mimetype,
            "url": url,
            "isWriteable": True,
            "filename": file.filename,
            "client": "Computer",
            "size": file.size,
        }
    if action == "fp.converse":
        return {
            "url": url,
            "link": {
                "url": f"{origin}/api/file/{file.handle}",
                "handle": file.handle,
                "filename": file.filename,
                "mimetype": file.mimetype,
                "path": file.path or file.key,
                "provider": "internal_v2",
                "size": file.size,
            },
        }
    return {
        "container": file.container or "filestack-emulator",
        "url": url,
        "filename": file.filename,
        "client": "Computer",
        "key": file.key,
        "type": file.mimetype,
        "status": "Stored",
        "size": file.size,
    }


def parse_events(events: object) -> frozenset[str] | None:
    """``None`` (every event) or the known event names given, else `WebhookError`."""
    if events is None:
        return None
    if isinstance(events, str) or not isinstance(events, Iterable):
        raise WebhookError("events must be a list of event names")
    chosen = frozenset(events)
    unknown = sorted(str(e) for e in chosen - set(EVENTS))
    if unknown:
        raise WebhookError(f"unknown webhook events {unknown}; known: {', '.join(EVENTS)}")
    return chosen


class WebhookDispatcher:
    """Configured targets, the delivery queue and the record of deliveries.

    Args:
        secret: the signing key.
        origin: called for the emulator's origin (for the URLs in payloads).
        retry_scale: multiplies `RETRY_DELAYS`.
        timeout: seconds one attempt may take.
        allow_remote: allow targets beyond loopback.
    """

    def __init__(
        self,
        secret: str,
        *,
        origin: Callable[[], str],
        retry_scale: float = 1.0,
        timeout: float = 10.0,
        allow_remote: bool = False,
    ) -> None:
        if not isinstance(secret, str) or not secret:
            raise WebhookError("the webhook secret must be a non-empty string")
        for name, value in (("webhook_retry_scale", retry_scale), ("webhook_timeout", timeout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise WebhookError(f"{name} must be a positive number, not {value!r}")
            if value == float("inf"):
                raise WebhookError(f"{name} must be finite")
        self._secret = secret
        self._origin = origin
        self.retry_scale = float(retry_scale)
        self.timeout = float(timeout)
        self.allow_remote = allow_remote
        self._lock = threading.Condition()
        self._targets: list[Target] = []
        self._queue: list[tuple[float, int, Delivery]] = []
        self._records: deque[Delivery] = deque(maxlen=MAX_RECORDS)
        self._ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._workers: list[threading.Thread] = []
        self._closed = False
        self._busy = 0
        self._sockets: set[socket.socket] = set()

    def __repr__(self) -> str:
        return f"WebhookDispatcher(targets={len(self._targets)}, secret=***)"

    # -- targets -------------------------------------------------------------------

    def add(self, url: str, events: Iterable[str] | None = None) -> Target:
        """Send webhooks (all events, or ``events``) to ``url``.

        Raises:
            WebhookError: the URL is malformed, does not resolve, or is not loopback
                (without ``allow_remote``), or an event name is unknown.
        """
        target = Target(check_url(url, allow_remote=self.allow_remote), parse_events(events))
        with self._lock:
            self._targets = [t for t in self._targets if t.url != target.url] + [target]
        return target

    def remove(self, url: str) -> bool:
        """Stop sending to ``url``; False if it was not configured."""
        with self._lock:
            kept = [t for t in self._targets if t.url != url]
            found = len(kept) != len(self._targets)
            self._targets = kept
        return found

    def clear(self) -> None:
        """No more targets (deliveries already queued still run)."""
        with self._lock:
            self._targets = []

    @property
    def targets(self) -> list[Target]:
        """The configured targets."""
        with self._lock:
            return list(self._targets)

    # -- events --------------------------------------------------------------------

    def on_storage_event(self, kind: str, file: StoredFile) -> None:
        """The `Storage` listener: a change becomes the service's webhook event."""
        action = _STORAGE_EVENTS.get(kind)
        if action is not None:
            self.emit(action, payload_text(action, file, self._origin()))

    def emit(self, action: str, text: dict[str, Any]) -> list[Delivery]:
        """Queue ``action`` for every target that wants it; never blocks.

        When `MAX_PENDING` deliveries already wait, the new ones are recorded as
        ``dropped`` instead (a slow receiver cannot pile up memory).
        """
        with self._lock:
            targets = [t for t in self._targets if t.wants(action)]
            if not targets or self._closed:
                return []
            event = {
                "id": next(self._event_ids),
                "action": action,
                "timestamp": int(time.time()),
                "text": text,
            }
            body = json.dumps(event)
            made = []
            for target in targets:
                delivery = Delivery(next(self._ids), action, target.url, body)
                self._records.append(delivery)
                made.append(delivery)
                if len(self._queue) + self._busy >= MAX_PENDING:
                    delivery.state = "dropped"
                    delivery.reason = f"more than {MAX_PENDING} deliveries were waiting"
                    continue
                delivery.next_at = time.time()
                heapq.heappush(self._queue, (time.monotonic(), delivery.id, delivery))
            self._start_workers()
            self._lock.notify_all()
        return made

    def deliveries(self) -> list[Delivery]:
        """The deliveries recorded (the last `MAX_RECORDS`), oldest first."""
        with self._lock:
            return list(self._records)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or being sent; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.05))
        return True

    def close(self) -> None:
        """Stop the workers; attempts under way are cut short."""
        with self._lock:
            self._closed = True
            self._queue.clear()
            self._lock.notify_all()
            workers = list(self._workers)
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # closed meanwhile
        for worker in workers:
            if worker is not threading.current_thread():
                worker.join(self.timeout + 1)

    # -- delivery ------------------------------------------------------------------

    def _start_workers(self) -> None:
        while len(self._workers) < WORKERS:
            worker = threading.Thread(
                target=self._work, name=f"filestack-emulator-webhooks-{len(self._workers)}"
            )
            worker.daemon = True
            self._workers.append(worker)
            worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._closed:
                    if self._queue and self._queue[0][0] <= time.monotonic():
                        break
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._lock.wait(wait)
                if self._closed:
                    return
                _, _, delivery = heapq.heappop(self._queue)
                self._busy += 1
            try:
                self._attempt(delivery)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._lock.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        started = time.monotonic()
        status: int | None = None
        problem: str | None = None
        try:
            endpoint = parse_url(delivery.url)
            address = resolve(endpoint.host, endpoint.port, allow_remote=self.allow_remote)
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "filestack-emulator-webhooks",
                "FS-Timestamp": stamp,
                "FS-Signature": webhook_signature(self._secret, delivery.body, stamp),
            }
            status = post(
                endpoint, address, delivery.body.encode(), headers, self.timeout, self._sockets
            )
            if status not in DELIVERED:
                problem = f"the receiver answered {status}"
        except (OSError, WebhookError) as err:
            problem = _describe(err, self.timeout)
        attempt = Attempt(
            time.time(), status, problem, round((time.monotonic() - started) * 1000, 3)
        )
        with self._lock:
            delivery.attempts.append(attempt)
            if problem is None:
                delivery.state, delivery.next_at = "delivered", None
                return
            retries = len(delivery.attempts) - 1
            if retries >= len(RETRY_DELAYS) or self._closed:
                delivery.state, delivery.next_at, delivery.reason = "failed", None, problem
                return
            delay = RETRY_DELAYS[retries] * self.retry_scale
            delivery.next_at = time.time() + delay
            delivery.reason = problem
            heapq.heappush(self._queue, (time.monotonic() + delay, delivery.id, delivery))


def _describe(err: Exception, timeout: float) -> str:
    if isinstance(err, WebhookError):
        return str(err)
    if isinstance(err, TimeoutError):
        return f"the receiver did not answer within {timeout:g} s"
    if isinstance(err, ConnectionRefusedError):
        return "the receiver refused the connection"
    return f"delivery failed: {type(err).__name__}: {err}"
