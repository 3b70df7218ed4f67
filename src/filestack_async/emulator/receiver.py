"""A webhook receiver on a loopback port, for tests: it keeps what it is sent.

Example:
    >>> with WebhookReceiver() as receiver:  # doctest: +SKIP
    ...     emulator.webhooks.add(receiver.url)
    ...     ...  # upload a file
    ...     [hook] = receiver.wait_for(1)
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

#: the largest webhook body kept
_MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class ReceivedWebhook:
    """One request the receiver got: its path, headers (lower-case names) and body."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


class WebhookReceiver:
    """Collects webhook POSTs on ``127.0.0.1``; answers ``status`` (200 by default).

    ``fail_next(n, status)`` answers the next ``n`` requests with ``status`` (to see
    retries); ``hang`` makes it hold each request until it is closed (a receiver that
    never answers).
    """

    def __init__(self, *, status: int = 200, hang: bool = False) -> None:
        self.status = status
        self.hang = hang
        self.received: list[ReceivedWebhook] = []
        self._failures: list[int] = []
        self._changed = threading.Condition()
        self._closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(min(length, _MAX_BODY))
                hook = ReceivedWebhook(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                if receiver.hang:
                    receiver._closing.wait()
                    return
                with receiver._changed:
                    status = receiver._failures.pop(0) if receiver._failures else receiver.status
                    receiver.received.append(hook)
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """Where to send webhooks."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` webhooks with ``status``."""
        with self._changed:
            self._failures.extend([status] * count)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedWebhook]:
        """The webhooks received once there are at least ``count``.

        Raises:
            TimeoutError: fewer arrived within ``timeout`` seconds.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received) >= count, timeout):
                raise TimeoutError(
                    f"{len(self.received)} webhook(s) arrived within {timeout:g} s, not {count}"
                )
            return list(self.received)

    def close(self) -> None:
        """Stop listening (a hanging request is let go)."""
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
