"""A FastAPI service that receives Filestack webhooks and verifies them with the SDK.

``POST /filestack/webhooks`` checks ``FS-Signature`` against the raw body with
`verify_webhook_signature` (and rejects timestamps older than five minutes, so a
captured webhook cannot be replayed later); a verified event is kept and handed to
``on_event``. ``GET /filestack/events`` lists the events received.

Run it next to the emulator, which sends it every upload, overwrite and delete::

    FILESTACK_WEBHOOK_SECRET=EMULATOR-WEBHOOK-SECRET uvicorn examples.webhook_app:app --port 8001
    filestack-async emulator --port 8700 --webhook http://127.0.0.1:8001/filestack/webhooks

Against the real Filestack, set the webhook secret from the developer portal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request

from filestack_async import ConfigurationError, verify_webhook_signature

EventHandler = Callable[[dict[str, Any]], None]
#: how old a webhook's FS-Timestamp may be, in seconds
MAX_AGE = 300.0


def handle_of(event: dict[str, Any]) -> str | None:
    """The file handle an event is about (the last segment of its file URL)."""
    text = event.get("text") or {}
    url = text.get("url") or (text.get("link") or {}).get("url")
    return str(url).rstrip("/").rsplit("/", 1)[-1] if url else None


def create_app(secret: str, on_event: EventHandler | None = None) -> FastAPI:
    """The app; ``secret`` is the webhook secret, ``on_event`` sees each verified event."""
    app = FastAPI(title="filestack webhooks")
    app.state.events = []

    @app.post("/filestack/webhooks")
    async def receive(request: Request) -> dict[str, str]:
        body = await request.body()  # the raw bytes: the signature covers them exactly
        try:
            verified = verify_webhook_signature(secret, body, request.headers, max_age=MAX_AGE)
        except ConfigurationError as exc:  # a header missing, a body that is not UTF-8
            raise HTTPException(400, str(exc)) from exc
        if not verified:
            raise HTTPException(401, "the webhook signature does not match")
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise HTTPException(400, "the webhook body is not JSON") from exc
        app.state.events.append(event)
        if on_event is not None:
            on_event(event)
        return {"status": "received"}

    @app.get("/filestack/events")
    async def events() -> list[dict[str, Any]]:
        return [
            {"action": e.get("action"), "handle": handle_of(e), "id": e.get("id")}
            for e in app.state.events
        ]

    return app


def app_from_env() -> FastAPI:
    """The app with ``FILESTACK_WEBHOOK_SECRET`` (for ``uvicorn examples.webhook_app:app``)."""
    return create_app(os.environ["FILESTACK_WEBHOOK_SECRET"])


def __getattr__(name: str) -> Any:
    if name == "app":  # built on first use, so importing the module needs no environment
        return app_from_env()
    raise AttributeError(name)
