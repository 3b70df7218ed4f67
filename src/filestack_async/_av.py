"""AudioVisual: an audio/video conversion in progress, polled until it completes.

``av_convert`` starts a ``video_convert`` task; the service answers at once with a
``uuid`` and keeps working. Asking the same URL again reports the status
(``pending``/``started`` → ``completed`` with ``data.url``, or ``failed``).

Example:
    >>> av = await link.av_convert(preset="h264", width=320)  # doctest: +SKIP
    >>> video = await av.wait_until_complete(timeout=300)  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import anyio

from ._config import Endpoints
from ._context import Context
from ._exceptions import APIResponseValidationError, ConfigurationError, ConversionError
from ._filelink import Filelink, filelink_from_answer
from ._params import handle_in_url
from ._results import register_conversion_maker
from ._security import Security, check_security
from ._tasks import parse_path
from ._transform import Transformation

__all__ = ["AudioVisual", "ProgressCallback"]

#: Called with each status payload; may be a plain function or a coroutine function.
ProgressCallback = Callable[[dict[str, Any]], Awaitable[None] | None]

#: Statuses that mean the conversion is over and did not produce a file.
FAILED_STATUSES = frozenset({"failed", "error"})
COMPLETED = "completed"


class AudioVisual:
    """A running audio/video conversion.

    Attributes:
        url: the conversion URL (unsigned; the SDK signs requests when security is set).
        uuid: the conversion's id.
        timestamp: the service's timestamp (a string, as the service sends it).
        last_payload: the last status JSON received (``None`` before the first).

    It is usually returned by ``await filelink.av_convert(...)``. Made by hand from a
    saved ``url`` (``AudioVisual(url, uuid, timestamp, apikey=..., security=...)``),
    it polls that URL.
    """

    def __init__(
        self,
        url: str,
        uuid: str,
        timestamp: str,
        apikey: str | None = None,
        security: Security | None = None,
        *,
        transformation: Transformation | None = None,
        payload: dict[str, Any] | None = None,
        context: Context | None = None,
    ) -> None:
        check_security(security)
        if not isinstance(url, str):
            raise ConfigurationError(
                f"url must be the conversion's http(s) URL, not {type(url).__name__}"
            )
        if not isinstance(uuid, str) or not uuid:
            raise ConfigurationError("uuid must be the conversion's id (a non-empty string)")
        if not isinstance(timestamp, str):
            raise ConfigurationError(
                f"timestamp must be a string (as the service sends it), "
                f"not {type(timestamp).__name__}"
            )
        if context is not None and not isinstance(context, Context):
            raise ConfigurationError("context must be a Context (from client.context)")
        if payload is not None and not isinstance(payload, dict):
            raise ConfigurationError(f"payload must be a dict, not {type(payload).__name__}")
        if transformation is not None and not isinstance(transformation, Transformation):
            raise ConfigurationError(
                "transformation must be the conversion's Transformation, "
                f"not {type(transformation).__name__}"
            )
        self.url = url
        self.uuid = uuid
        self.timestamp = timestamp
        self.last_payload = payload
        self._security = security
        self._chain = transformation or _chain_from_url(url, apikey, security, context)

    @property
    def security(self) -> Security | None:
        """The security used to sign the status requests."""
        return self._security

    @property
    def apikey(self) -> str | None:
        """The API key of the conversion's chain."""
        return self._chain.apikey

    def __repr__(self) -> str:
        status = self.last_payload.get("status") if self.last_payload else None
        return f"<AudioVisual uuid={self.uuid!r} status={status!r}>"

    # -- polling -------------------------------------------------------------------------

    async def _fetch(self) -> dict[str, Any]:
        sec = self._security
        url = self._chain.request_url(sec)
        context = self._chain.context
        async with context.session(sec) as http:
            response = await http.request("GET", url, redact=context.secrets(sec))
        payload: dict[str, Any] = response.json_object("status")
        if not isinstance(payload["status"], str):
            raise APIResponseValidationError(
                f"the conversion status answer has a status of type "
                f"{type(payload['status']).__name__}, not a string",
                method="GET",
                url=response.url,
            )
        self.last_payload = payload
        return payload

    async def status(self) -> str:
        """Ask the service for the conversion's status (``started``, ``completed``...).

        The whole answer is kept in `last_payload`.
        """
        return str((await self._fetch())["status"])

    async def to_filelink(self) -> Filelink:
        """The converted file, if the conversion has completed.

        Raises:
            ConversionError: the conversion failed, or is not complete yet.
        """
        payload = await self._fetch()
        status = str(payload["status"])
        if status == COMPLETED:
            return self._filelink(payload)
        self._raise_if_failed(payload)
        raise ConversionError(
            f"audio/video conversion {self.uuid} is not complete yet (status {status!r}); "
            "use wait_until_complete()",
            uuid=self.uuid,
            status=status,
        )

    async def wait_until_complete(
        self,
        timeout: float = 600,  # noqa: ASYNC109 - the documented API (a polling deadline)
        initial_delay: float = 1,
        max_delay: float = 30,
        jitter: bool = True,
        progress: ProgressCallback | None = None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> Filelink:
        """Poll until the conversion completes and return the converted file.

        The wait between polls starts at ``initial_delay`` seconds and doubles up to
        ``max_delay``; with ``jitter`` each wait is scaled by a random factor in
        ``[0.5, 1)``. The sleep and the random source are the client's
        `RetryPolicy` ones, and ``clock`` (default: the event loop's clock) can be
        replaced too, so tests never wait. Cancelling the awaiting task stops the
        polling at once.

        Args:
            timeout: seconds before giving up.
            progress: called with every status payload (sync or async).

        Raises:
            ConversionError: the service reported the conversion failed (its message
                is in the error).
            TimeoutError: still not complete after ``timeout`` seconds.

        Example:
            >>> video = await av.wait_until_complete(timeout=120, progress=print)  # doctest: +SKIP
        """
        for name, value in (
            ("timeout", timeout),
            ("initial_delay", initial_delay),
            ("max_delay", max_delay),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise ConfigurationError(
                    f"{name} must be a number of seconds, not {type(value).__name__}"
                )
        if timeout < 0 or initial_delay < 0 or max_delay < 0:
            raise ConfigurationError("timeout and delays must not be negative")
        if not isinstance(jitter, bool):
            raise ConfigurationError("jitter must be True or False")
        if progress is not None and not callable(progress):
            raise ConfigurationError("progress must be a callable taking the status payload")
        if clock is not None and not callable(clock):
            raise ConfigurationError("clock must be a callable returning seconds")
        policy = self._chain.context.retry
        now = clock or anyio.current_time
        deadline = now() + timeout
        delay = initial_delay
        last = "unknown"
        # the scope bounds a request that hangs; the deadline check bounds the polling
        with anyio.move_on_after(timeout):
            while True:
                payload = await self._fetch()
                last = str(payload["status"])
                if progress is not None:
                    result = progress(payload)
                    if inspect.isawaitable(result):
                        await result
                if last == COMPLETED:
                    return self._filelink(payload)
                self._raise_if_failed(payload)
                remaining = deadline - now()
                if remaining <= 0:
                    break
                wait = min(delay, max_delay)
                if jitter:
                    wait *= 0.5 + 0.5 * policy.random()
                await policy.sleep(min(wait, remaining))
                delay = min(delay * 2, max_delay)
        raise TimeoutError(
            f"audio/video conversion {self.uuid} not complete after {timeout:g} s "
            f"(last status {last!r})"
        )

    # -- results ---------------------------------------------------------------------------

    def _raise_if_failed(self, payload: dict[str, Any]) -> None:
        status = str(payload.get("status"))
        if status in FAILED_STATUSES:
            message = _service_message(payload) or "no reason given"
            raise ConversionError(
                f"audio/video conversion {self.uuid} failed: {message}",
                uuid=self.uuid,
                status=status,
            )

    def _filelink(self, payload: dict[str, Any]) -> Filelink:
        data = payload.get("data")
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url.strip("/"):
            raise APIResponseValidationError(
                f"conversion {self.uuid} completed without data.url", method="GET"
            )
        return filelink_from_answer(
            handle_in_url(url),
            what=f"conversion {self.uuid}'s data.url",
            method="GET",
            url=None,
            security=self._security,
            upload_response=payload,
            context=self._chain.context,
        )


register_conversion_maker(AudioVisual)


def _service_message(payload: dict[str, Any]) -> str | None:
    candidates: list[Any] = [payload.get("error"), payload.get("message")]
    data = payload.get("data")
    if isinstance(data, dict):
        candidates += [data.get("error"), data.get("message")]
    metadata = payload.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("result"), dict):
        candidates.append(metadata["result"].get("error"))
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
        if isinstance(candidate, dict):
            inner = candidate.get("message") or candidate.get("error")
            if isinstance(inner, str) and inner.strip():
                return inner.strip()
    return None


def _chain_from_url(
    url: str, apikey: str | None, security: Security | None, context: Context | None
) -> Transformation:
    """Rebuild the chain behind a saved conversion URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError("url must be the conversion's http(s) URL")
    parsed = parse_path(parts.path)
    base = context or Context(endpoints=Endpoints.resolve())
    origin = f"{parts.scheme}://{parts.netloc}"
    if base.endpoints.cdn != origin:
        base = replace(base, endpoints=replace(base.endpoints, cdn=origin))
    key = apikey or parsed.apikey
    if len(parsed.sources) > 1:
        chain = Transformation(key, handles=parsed.sources, security=security, context=base)
    elif parsed.source.startswith(("http://", "https://", "src://")):
        chain = Transformation(key, external_url=parsed.source, security=security, context=base)
    else:
        chain = Transformation(key, handle=parsed.source, security=security, context=base)
    return chain.with_tasks(parsed.tasks)
