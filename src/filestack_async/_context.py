"""Context: what a Filelink, Transformation, conversion or upload shares with its Client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

from ._config import Endpoints, RetryPolicy, Timeouts, UploadConfig
from ._events import EventHook
from ._exceptions import ConfigurationError
from ._http import HTTPSession
from ._security import Security, check_security


@dataclass(frozen=True)
class Context:
    """A client's settings and, when bound to a `Client`, its connection pool.

    Public so that the ``context=`` parameter of `Filelink`, `Transformation` and
    `AudioVisual` has a type you can name: pass ``client.context`` to make one of
    them share a client's pool, API key, security, hosts and retry policy (as
    ``client.filelink(handle)`` does). It is a frozen value; make it through a
    `Client` rather than by hand. A context without a pool (a `Filelink` made on its
    own) opens a short-lived connection pool for each call.

    Example:
        >>> t = Transformation(handle=HANDLE, context=client.context)  # doctest: +SKIP
    """

    endpoints: Endpoints
    apikey: str | None = None
    storage: str = "S3"
    security: Security | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    upload: UploadConfig = field(default_factory=UploadConfig)
    http: HTTPSession | None = None
    #: client-wide limit on parts in flight (shared by every upload of a client)
    part_limiter: anyio.CapacityLimiter | None = None
    #: the client's event hook (``Client(on_event=...)``)
    on_event: EventHook | None = None
    #: client-wide limit on worker threads hashing parts at once (None: anyio's default)
    hash_limiter: anyio.CapacityLimiter | None = None

    def secrets(self, security: Security | None = None) -> tuple[str, ...]:
        """Strings to mask in messages for a call using ``security``."""
        found: list[str] = []
        if self.apikey:
            found.append(self.apikey)
        for sec in (self.security, security):
            if sec is not None:
                found.extend(sec.secrets())
        return tuple(found)

    def resolve_security(self, security: Security | None) -> Security | None:
        """The security for a call: the call's own, else this context's (may be None)."""
        return check_security(security) or self.security

    def require_security(self, security: Security | None, action: str) -> Security:
        """Like `resolve_security`, but raise when there is none.

        Raises:
            ConfigurationError: no security on the call, the object or the client.
        """
        sec = self.resolve_security(security)
        if sec is None:
            raise ConfigurationError(
                f"security is required to {action}: pass security=Security(policy, secret) "
                "to this call, the Filelink or the Client"
            )
        return sec

    @asynccontextmanager
    async def session(self, security: Security | None = None) -> AsyncIterator[HTTPSession]:
        """Yield the client's session, or a temporary one closed afterwards."""
        if self.http is not None:
            yield self.http
            return
        temporary = HTTPSession(
            timeouts=self.timeouts, retry=self.retry, secrets=self.secrets(security)
        )
        try:
            yield temporary
        finally:
            with anyio.CancelScope(shield=True):
                await temporary.aclose()
