"""The control plane under ``/_emulator/``: health, reset, files, faults, violations."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._version import __version__
from .av_convert import stop_conversions
from .config import FaultConfigError, Faults
from .web import error, loads_strict

if TYPE_CHECKING:
    from .app import Emulator


class Control:
    """Routes for tests and tools to inspect and steer the emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

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
        result, and clear the log."""
        await self.emu.run(stop_conversions, self.emu)
        await self.emu.run(self.emu.storage.reset)
        self.emu.violations.clear()
        return JSONResponse({"status": "reset"})

    async def files(self, request: Request) -> Response:
        """``GET /_emulator/files``: every stored file's metadata."""
        stored = await self.emu.run(self.emu.storage.list_files)
        return JSONResponse({"files": [dataclasses.asdict(f) for f in stored]})

    async def faults(self, request: Request) -> Response:
        """``GET``: the fault settings and counts; ``POST``: replace them; ``DELETE``: none."""
        if request.method == "POST":
            try:
                faults = Faults.from_json(loads_strict(await request.body()))
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
