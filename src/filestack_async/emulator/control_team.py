"""Control-plane routes for app teams: the request journal, webhooks, the dashboard.

``GET /_emulator/journal`` (filters ``route``, ``method``, ``status``, ``trace_id``,
``violations``, ``since``, ``limit``), ``DELETE`` to clear it;
``GET /_emulator/webhooks`` (targets and deliveries), ``POST`` ``{"url": ...,
"events": [...]}`` to add a target, ``DELETE`` (``?url=``: one) to remove targets.
Every route needs the emulator's secret when one is set (see `control`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .journal import JournalError
from .web import error, loads_strict, read_capped
from .webhooks import WebhookError

if TYPE_CHECKING:
    from .app import Emulator

_Handler = Callable[[Request], Awaitable[Response]]


def journal_filters(query: dict[str, str]) -> tuple[dict[str, Any], int | None]:
    """The `RequestJournal.entries` filters and the limit a query string asks for.

    Raises:
        JournalError: a filter is unknown or its value is not valid.
    """
    filters: dict[str, Any] = {}
    limit: int | None = None
    for name, value in query.items():
        if name in ("route", "method", "trace_id"):
            filters[name] = value
        elif name in ("status", "since", "limit"):
            if not value.isdigit() or len(value) > 12:
                raise JournalError(f"{name} must be a non-negative integer, not {value[:20]!r}")
            if name == "limit":
                limit = int(value)
            else:
                filters[name] = int(value)
        elif name == "violations":
            if value not in ("true", "false"):
                raise JournalError("violations must be true or false")
            filters[name] = value == "true"
        else:
            raise JournalError(
                f"unknown journal filter {name[:40]!r}; known: route, method, status, "
                "trace_id, violations, since, limit"
            )
    return filters, limit


class TeamControl:
    """The journal and webhook routes of one emulator (and the dashboard's)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def routes(self, secured: Callable[[_Handler], _Handler]) -> list[BaseRoute]:
        """The routes, each wrapped by ``secured`` (the control plane's guard)."""
        from .dashboard import Dashboard

        routes: list[BaseRoute] = [
            Route("/_emulator/journal", secured(self.journal), methods=["GET", "DELETE"]),
            Route("/_emulator/webhooks", secured(self.webhooks), methods=["GET", "POST", "DELETE"]),
        ]
        if self.emu.config.dashboard:
            routes += Dashboard(self.emu).routes()
        return routes

    async def journal(self, request: Request) -> Response:
        """``GET``: the journal's entries (filtered); ``DELETE``: forget them."""
        if request.method == "DELETE":
            self.emu.journal.clear()
            return JSONResponse({"entries": []})
        try:
            filters, limit = journal_filters(dict(request.query_params))
        except JournalError as err:
            return error(400, str(err))
        entries = self.emu.journal.entries(**filters)
        if limit is not None:
            entries = entries[-limit:] if limit else []
        return JSONResponse({"entries": [e.to_json() for e in entries]})

    async def webhooks(self, request: Request) -> Response:
        """``GET``: targets and deliveries; ``POST``: add a target; ``DELETE``: remove."""
        hooks = self.emu.webhooks
        if request.method == "POST":
            try:
                body = loads_strict(await read_capped(request))
            except ValueError as err:
                return error(400, f"bad webhook settings: {err}")
            if not isinstance(body, dict) or set(body) - {"url", "events"}:
                return error(400, 'bad webhook settings: send {"url": ..., "events": [...]}')
            try:
                # resolving a name can block: off the event loop
                await self.emu.run(hooks.add, body.get("url"), body.get("events"))
            except WebhookError as err:
                return error(400, f"bad webhook settings: {err}")
        elif request.method == "DELETE":
            url = request.query_params.get("url")
            if url is None:
                hooks.clear()
            elif not hooks.remove(url):
                return error(404, "no such webhook target")
        return JSONResponse(
            {
                "targets": [t.to_json() for t in hooks.targets],
                "deliveries": [d.to_json() for d in hooks.deliveries()],
            }
        )
