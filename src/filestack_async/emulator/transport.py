"""An in-process transport to the emulator for ``httpx`` clients (no sockets)."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from .web import EmulatedReset


class EmulatorTransport(httpx.ASGITransport):
    """``httpx.ASGITransport`` to an emulator app, where injected resets look like resets.

    Example:
        >>> app = create_app()  # doctest: +SKIP
        >>> client = Client("KEY", base_url="http://emulator", transport=EmulatorTransport(app))
    """

    def __init__(self, app: Starlette) -> None:
        super().__init__(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request to the app; an emulated reset becomes ``httpx.ReadError``."""
        try:
            return await super().handle_async_request(request)
        except EmulatedReset as err:
            raise httpx.ReadError(str(err), request=request) from err
