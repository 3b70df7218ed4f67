"""The control plane under ``/_emulator/``: health, reset, files, faults, violations.

With an app secret set, every route but health needs it, in ``Authorization: Bearer
<secret>`` or ``X-Emulator-Secret: <secret>`` (compared in constant time); anything
else is a 401. Health stays open for liveness probes: it tells only the version and
the modes.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._version import __version__
from .av_convert import stop_conversions
from .config import FaultConfigError, Faults
from .web import error, loads_strict, read_capped

if TYPE_CHECKING:
    from .app import Emulator

#: the header that can carry the control-plane secret (besides ``Authorization: Bearer``)
SECRET_HEADER = "X-Emulator-Secret"
_Handler = Callable[[Request], Awaitable[Response]]


def control_headers(secret: str | None) -> dict[str, str]:
    """The headers a control-plane request needs with this app secret (none without)."""
    return {} if secret is None else {"Authorization": f"Bearer {secret}"}


def control_authorized(secret: str | None, headers: Mapping[str, str]) -> bool:
    """True when no secret is set, or ``headers`` carry it (constant-time compare)."""
    if secret is None:
        return True
    given = headers.get(SECRET_HEADER.lower())
    if given is None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        given = token.strip()
    # header values arrive as latin-1 text: compare the bytes sent with the UTF-8 secret
    return hmac.compare_digest(given.encode("latin-1", "replace"), secret.encode("utf-8"))


class Control:
    """Routes for tests and tools to inspect and steer the emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def secured(self, handler: _Handler) -> _Handler:
        """``handler`` answering 401 unless the request carries the secret (if one is set)."""

        async def checked(request: Request) -> Response:
            if not control_authorized(self.emu.config.secret, request.headers):
                response = error(
                    401,
                    "the control plane needs the emulator's secret "
                    f"(Authorization: Bearer <secret> or {SECRET_HEADER})",
                    code="Unauthorized",
                )
                response.headers["WWW-Authenticate"] = 'Bearer realm="filestack-emulator"'
                return response
            return await handler(request)

        return checked

    async def health(self, request: Request) -> Response:
        """``GET /_emulator/health``: liveness and the main settings."""
        config = self.emu.config
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "strict": config.strict,
                "secured": config.secret is not None,
            }
        )

    async def reset(self, request: Request) -> Response:
        """``POST /_emulator/reset``: delete every file, upload, conversion and cached
        result, and clear the violation log and the request journal."""
        await self.emu.run(stop_conversions, self.emu)
        await self.emu.run(self.emu.storage.reset)
        self.emu.violations.clear()
        self.emu.journal.clear()
        return JSONResponse({"status": "reset"})

    async def files(self, request: Request) -> Response:
        """``GET /_emulator/files``: every stored file's metadata."""
        stored = await self.emu.run(self.emu.storage.list_files)
        return JSONResponse({"files": [dataclasses.asdict(f) for f in stored]})

    async def faults(self, request: Request) -> Response:
        """``GET``: the fault settings and counts; ``POST``: replace them; ``DELETE``: none."""
        if request.method == "POST":
            try:
                faults = Faults.from_json(loads_strict(await read_capped(request)))
            except (ValueError, FaultConfigError) as err:
                return error(400, f"bad fault settings: {err}")
            self.emu.set_faults(faults)
        elif request.method == "DELETE":
            self.emu.set_faults(Faults())
        return JSONResponse(
            {
                "faults": self.emu.faults.faults.to_json(),
                "injected": dict(self.emu.faults.injected),
            }
        )

    async def violations(self, request: Request) -> Response:
        """``GET``: the protocol deviations seen; ``DELETE``: forget them."""
        if request.method == "DELETE":
            self.emu.violations.clear()
        return JSONResponse({"violations": [v.to_json() for v in self.emu.violations.snapshot()]})
