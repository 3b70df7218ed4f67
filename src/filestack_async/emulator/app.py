"""The emulator: shared state, the fault hook, and the Starlette app with every route."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import weakref
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from .._client import Client
from .config import DEFAULT_WEBHOOK_SECRET, EmulatorConfig
from .disk import DISK_FULL_MESSAGE, is_disk_full
from .faults import Decision, FaultInjector
from .journal import AttributedViolationLog, JournalMiddleware, RequestJournal
from .security import Credentials, Denied, StoreGrant, check, check_store
from .storage import Storage
from .strict import Checker, ProtocolError
from .web import ResetResponse, error, protocol_error
from .webhooks import WebhookDispatcher

T = TypeVar("T")
Handler = Callable[[Request], Awaitable[Response]]

#: The base URL in-process clients use; ``.invalid`` never resolves, so a client
#: missing the in-process transport fails at once instead of reaching a network.
IN_PROCESS_URL = "http://emulator.invalid"


class Emulator:
    """One emulator instance: storage, security, faults, the violation log and the app.

    Use `create_app` for the ASGI app alone; the instance is ``app.state.emulator``.
    Call `close` (or use `EmulatorServer`, or the pytest fixtures) when done: it
    closes the database and removes a temporary data folder.
    """

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        config = self.config
        # the checks that hold nothing come first: a bad setting leaves nothing open
        #: every request served (see `journal.RequestJournal`)
        self.journal = journal = RequestJournal(config.journal_size, config.journal_file)
        #: webhook targets and deliveries (see `webhooks.WebhookDispatcher`)
        self.webhooks = WebhookDispatcher(
            config.webhook_secret or config.secret or DEFAULT_WEBHOOK_SECRET,
            origin=lambda: journal.last_origin or IN_PROCESS_URL,
            retry_scale=config.webhook_retry_scale,
            timeout=config.webhook_timeout,
            allow_remote=config.webhook_allow_remote,
        )
        for url in config.webhooks:
            self.webhooks.add(url)
        journal.open()
        self._temporary: str | None = None
        try:
            if self.config.data_dir is None:
                self._temporary = tempfile.mkdtemp(prefix="filestack-emulator-")
                root = Path(self._temporary)
            else:
                root = Path(self.config.data_dir)
            self.storage = Storage(root, upload_expiry=self.config.upload_expiry)
        except BaseException:
            journal.close()
            if self._temporary is not None:
                shutil.rmtree(self._temporary, ignore_errors=True)
            raise
        self.faults = FaultInjector(self.config.faults)
        self.violations = AttributedViolationLog()
        self.signing_key = self.storage.signing_key()
        self._finalizer = weakref.finalize(
            self, _cleanup, self.storage, self._temporary, self.journal, self.webhooks
        )
        if config.seed is not None:
            from .seed import load_seed

            try:
                load_seed(self.storage, config.seed)
            except BaseException:
                self._finalizer()
                raise
        self.storage.listeners.append(self.webhooks.on_storage_event)
        self.app = self._build_app()

    @property
    def data_dir(self) -> Path:
        """Where files and the database live."""
        return self.storage.root

    def close(self) -> None:
        """Stop conversions, close the database, remove a temporary data folder."""
        from .av_convert import stop_conversions

        stop_conversions(self)
        self._finalizer()

    def client(self, apikey: str = "EMULATOR-APIKEY", **options: Any) -> Client:
        """An async `Client` bound to this emulator in-process (no socket).

        Takes `Client`'s keyword arguments (``security=``, ``retry=``...).

        Example:
            >>> async with create_app().state.emulator.client() as client:  # doctest: +SKIP
            ...     link = await client.upload(content=b"hello")
        """
        from .transport import EmulatorTransport

        options.setdefault("base_url", IN_PROCESS_URL)
        return Client(apikey, transport=EmulatorTransport(self.app), **options)

    # -- helpers for routes -------------------------------------------------------------

    def checker(self, route: str) -> Checker:
        """A protocol checker for one request on ``route``."""
        return Checker(self.violations, route, strict=self.config.strict)

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking storage work in a worker thread."""
        return await anyio.to_thread.run_sync(partial(func, *args, **kwargs))

    @property
    def bandwidth(self) -> float | None:
        """The network profile's bytes per second, if any."""
        network = self.faults.faults.network
        return None if network is None else network.bandwidth

    async def fault(self, route: str, key: str = "") -> Response | None:
        """Apply latency and any fault for this request; a response to send instead, or None."""
        faulty, delay = await self.fault_answer_late(route, key)
        if delay:
            await anyio.sleep(delay)
        return faulty

    async def fault_answer_late(self, route: str, key: str = "") -> tuple[Response | None, float]:
        """Like `fault`, but an injected delay is returned, not waited: the caller reads
        and keeps the request's body first and waits before answering, so the client
        sees its whole body sent and the answer late (a read timeout, not a write one)."""
        network = self.faults.faults.network
        if network is not None and network.latency:
            await anyio.sleep(network.latency)
        decision = self.faults.decide(route, key)
        return self._fault_response(decision), decision.delay

    @staticmethod
    def _fault_response(decision: Decision) -> Response | None:
        if decision.reset:
            return ResetResponse()
        if decision.status is not None:
            headers = {}
            if decision.retry_after is not None:
                headers["Retry-After"] = f"{decision.retry_after:g}"
            return Response(
                f'{{"error": "injected fault: {decision.status}"}}',
                status_code=decision.status,
                headers=headers,
                media_type="application/json",
            )
        return None

    def check_apikey(self, checker: Checker, apikey: object) -> str:
        """The API key if it is acceptable, else a 400 / 401."""
        if not isinstance(apikey, str) or not apikey:
            checker.fatal("an apikey is required")
        if self.config.apikeys and apikey not in self.config.apikeys:
            raise ProtocolError("Invalid Application", status=401, code="InvalidApplication")
        return apikey

    def security(self, credentials: Credentials, **rules: Any) -> dict[str, Any] | None:
        """Check credentials against this emulator's secret (see `security.check`)."""
        return check(self.config.secret, credentials, **rules)

    def store_grant(
        self,
        credentials: Credentials,
        *,
        call: str,
        path: str | None,
        container: str | None,
        **rules: Any,
    ) -> StoreGrant:
        """The security check of a route that stores a file (see `security.check_store`)."""
        return check_store(
            self.config.secret, credentials, call=call, path=path, container=container, **rules
        )

    @property
    def control_headers(self) -> dict[str, str]:
        """The headers a control-plane request needs (the secret, when one is set)."""
        from .control import control_headers

        return control_headers(self.config.secret)

    def set_faults(self, faults: Any) -> None:
        """Replace the fault settings at runtime."""
        self.faults.replace(faults)
        self.config = dataclasses.replace(self.config, faults=faults)

    # -- the app ----------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        from . import cdn, control, control_team, file_api, upload_api

        def guard(handler: Handler) -> Handler:
            async def wrapped(request: Request) -> Response:
                try:
                    return await handler(request)
                except ProtocolError as err:
                    return protocol_error(err)
                except Denied as err:
                    return error(403, err.message, rule=err.rule)
                except OSError as err:
                    if not is_disk_full(err):
                        raise
                    return error(507, DISK_FULL_MESSAGE, code="InsufficientStorage")
                except ClientDisconnect:
                    # the client went away mid-body (a cancelled upload): nobody to answer,
                    # and nothing for the server log (499: client closed the request)
                    return Response(status_code=499)

            return wrapped

        uploads = upload_api.UploadAPI(self)
        files = file_api.FileAPI(self)
        delivery = cdn.CDN(self)
        plane = control.Control(self)
        team = control_team.TeamControl(self)
        routes = [
            *team.routes(lambda handler: guard(plane.secured(handler))),
            Route("/_emulator/health", guard(plane.health), methods=["GET"]),
            Route("/_emulator/reset", guard(plane.secured(plane.reset)), methods=["POST"]),
            Route("/_emulator/files", guard(plane.secured(plane.files)), methods=["GET"]),
            Route(
                "/_emulator/faults",
                guard(plane.secured(plane.faults)),
                methods=["GET", "POST", "DELETE"],
            ),
            Route(
                "/_emulator/violations",
                guard(plane.secured(plane.violations)),
                methods=["GET", "DELETE"],
            ),
            Route("/multipart/start", guard(uploads.start), methods=["POST"]),
            Route("/multipart/upload", guard(uploads.upload), methods=["POST"]),
            Route("/multipart/commit", guard(uploads.commit), methods=["POST"]),
            Route("/multipart/complete", guard(uploads.complete), methods=["POST"]),
            # part and offset are parsed by the route (Starlette's int convertor raises
            # ValueError on integers of more than 4300 digits)
            Route("/_s3/{upload_id}/{part}", guard(uploads.put), methods=["PUT"]),
            Route("/_s3/{upload_id}/{part}/{offset}", guard(uploads.put), methods=["PUT"]),
            Route("/api/store/{location}", guard(files.store), methods=["POST"]),
            Route("/api/file/{handle}", guard(delivery.file_api_read), methods=["GET", "HEAD"]),
            Route("/api/file/{handle}/metadata", guard(delivery.file_api_read), methods=["GET"]),
            Route("/api/file/{handle}", guard(files.overwrite), methods=["POST"]),
            Route("/api/file/{handle}", guard(files.delete), methods=["DELETE"]),
            Route("/process", guard(files.process), methods=["POST"]),
            Route("/{path:path}", guard(delivery.dispatch), methods=["GET", "HEAD", "POST"]),
        ]
        app = Starlette(
            routes=routes,
            lifespan=_lifespan(self),
            middleware=[Middleware(JournalMiddleware, journal=self.journal)],
        )
        app.state.emulator = self
        return app


def _lifespan(emulator: Emulator) -> Any:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        emulator.close()

    return lifespan


def _cleanup(
    storage: Storage,
    temporary: str | None,
    journal: RequestJournal,
    webhooks: WebhookDispatcher,
) -> None:
    webhooks.close()
    journal.close()
    storage.close()
    if temporary is not None:
        shutil.rmtree(temporary, ignore_errors=True)


def create_app(config: EmulatorConfig | None = None, **settings: Any) -> Starlette:
    """The emulator as an ASGI app.

    Give an `EmulatorConfig`, or its fields as keywords (``data_dir=``, ``secret=``,
    ``strict=``, ``faults=``...). The `Emulator` behind the app is
    ``app.state.emulator``; call its ``close()`` when done (a server's shutdown does).

    Example:
        >>> app = create_app(strict=True)
        >>> app.state.emulator.config.strict
        True
        >>> app.state.emulator.close()
    """
    if config is not None and settings:
        raise TypeError("give config= or keyword settings, not both")
    if config is None:
        config = EmulatorConfig(**settings)
    return Emulator(config).app
