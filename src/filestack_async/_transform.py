"""Transformation: an immutable chain of processing tasks on a source, and running it.

A `Transformation` is a frozen value: its source (a handle, an external URL or
storage alias, or several handles) and a tuple of `Task`. Each task method returns
a new object; equal chains compare and hash equal. Building a URL needs no I/O;
``store``, ``get_content``, ``download``, ``debug``, ``tags``/``sfw``/``ocr`` and
``av_convert`` send requests.

Example:
    >>> t = Transformation(handle="AbCdEfGhIjKlMnOpQrSt").resize(width=500, height=500)
    >>> t.url
    'https://cdn.filestackcontent.com/resize=height:500,width:500/AbCdEfGhIjKlMnOpQrSt'
    >>> t.flip() == t.flip(), t.flip() == t
    (True, False)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, BinaryIO, Literal
from urllib.parse import quote, urlsplit

from ._config import Endpoints
from ._context import Context
from ._download import DownloadStream, check_range, download_to, open_download, read_all
from ._exceptions import APIResponseValidationError, ConfigurationError
from ._http import Kind, Retry
from ._params import handle_in_answer, validate_handle
from ._results import conversion_maker, filelink_maker
from ._security import Security, check_security, url_security
from ._task_methods import TaskMethods
from ._tasks import Invalid, Task, build_task, check_apikey, parse_task, split_top_level

if TYPE_CHECKING:
    from ._av import AudioVisual
    from ._filelink import Filelink

__all__ = ["Transformation"]

_EXTERNAL_SCHEMES = ("http://", "https://", "src://")
# Characters kept as they are when a task segment is sent; everything else
# (double quotes, spaces, '%', '>', ...) is percent-encoded.
_SEGMENT_SAFE = "/:,=[]@!$&'()*+;-._~"
_SOURCE_ITEM = re.compile(r"[^\s,\[\]\"]+")


@dataclass(frozen=True)
class _Source:
    kind: Literal["handle", "url", "handles"]
    value: str | tuple[str, ...]

    def render(self, *, wire: bool = False) -> str:
        """The source as the URL's last segment(s).

        ``wire``: the form sent, where the ``.`` and ``..`` segments of URL sources are
        percent-encoded, since HTTP clients remove dot segments from paths
        (``https://a.io/./x/../y`` would reach the service as ``https://a.io/y``).
        """
        if isinstance(self.value, tuple):
            items = [_dots_kept(v) if wire else v for v in self.value]
            return "[" + ",".join(items) + "]"
        if self.kind == "url":
            # '?' and '#' would end the path; keep them part of the source
            text = self.value.replace("?", "%3F").replace("#", "%23")
            return _dots_kept(text) if wire else text
        return self.value

    def describe(self) -> str:
        if isinstance(self.value, tuple):
            return f"{len(self.value)} files"
        if self.kind == "url":
            parts = urlsplit(self.value)
            return f"{parts.scheme}://{parts.netloc}{parts.path}"
        return self.value


def _dots_kept(url: str) -> str:
    """``url`` with its ``.`` and ``..`` path segments percent-encoded."""
    segments = url.split("/")
    dots = {".": "%2E", "..": "%2E%2E"}
    return "/".join(dots.get(segment, segment) for segment in segments)


def _external_url(url: object) -> str:
    if not isinstance(url, str) or not url.startswith(_EXTERNAL_SCHEMES):
        raise ConfigurationError(
            "external_url must be an http(s) URL or a storage alias src://alias/path"
        )
    if re.search(r"[\s\"\x00-\x1f\x7f]", url):
        raise ConfigurationError(
            "external_url must not contain spaces, double quotes or control characters"
        )
    return url


def _source_items(handles: object) -> tuple[str, ...]:
    if isinstance(handles, str) or not isinstance(handles, Sequence) or not handles:
        raise ConfigurationError("handles must be a non-empty list of handles or URLs")
    items = []
    for item in handles:
        if not isinstance(item, str) or not _SOURCE_ITEM.fullmatch(item):
            raise ConfigurationError(
                f"{item!r} cannot be a source: give handles or URLs without commas or brackets"
            )
        if not item.startswith(_EXTERNAL_SCHEMES):
            validate_handle(item)
        items.append(item)
    return tuple(items)


class Transformation(TaskMethods):
    """An immutable processing chain.

    Give exactly one source: ``handle``, ``external_url`` (an http(s) URL or
    ``src://alias/path``; needs the API key) or ``handles`` (several files, for
    ``zip``, ``pdfcreate`` and ``animate``; needs the API key). Usually made with
    ``filelink.<task>(...)``, ``client.transform_external(url)``,
    ``client.transform_handles([...])`` or ``client.urlscreenshot(url)``.

    Args:
        apikey: the API key (external and multi-file sources, store).
        handle: a file handle.
        external_url: an http(s) URL or a storage alias.
        security: used to sign URLs and the requests this chain sends.
        handles: several handles (or URLs).
        context: settings shared with a `Client` (set by the client).

    Example:
        >>> t = Transformation("KEY", external_url="https://a.io/i.png").rotate(deg=90)
        >>> t.url
        'https://cdn.filestackcontent.com/KEY/rotate=deg:90/https://a.io/i.png'
    """

    __slots__ = ("_context", "_source", "_tasks")

    _context: Context
    _source: _Source
    _tasks: tuple[Task, ...]

    def __init__(
        self,
        apikey: str | None = None,
        handle: str | None = None,
        external_url: str | None = None,
        security: Security | None = None,
        *,
        handles: Sequence[str] | None = None,
        context: Context | None = None,
    ) -> None:
        given = [x for x in (handle, external_url, handles) if x is not None]
        if len(given) != 1:
            raise ConfigurationError("give exactly one of handle=, external_url= or handles=")
        check_security(security)
        if apikey is not None:
            check_apikey(apikey)
        if context is not None and not isinstance(context, Context):
            raise ConfigurationError("context must be a Context (from client.context)")
        base = context or Context(endpoints=Endpoints.resolve())
        overrides: dict[str, Any] = {}
        if apikey is not None:
            overrides["apikey"] = apikey
        if security is not None:
            overrides["security"] = security
        ctx = replace(base, **overrides) if overrides else base
        source: _Source
        if handle is not None:
            source = _Source("handle", validate_handle(handle))
        elif external_url is not None:
            source = _Source("url", _external_url(external_url))
        else:
            source = _Source("handles", _source_items(handles))
        if source.kind != "handle" and not ctx.apikey:
            raise ConfigurationError(
                "an API key is required to process an external URL or several files: "
                "pass apikey= or use the Client's transform_external/transform_handles"
            )
        self._init(source, (), ctx)

    def _init(self, source: _Source, tasks: tuple[Task, ...], context: Context) -> None:
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_tasks", tasks)
        object.__setattr__(self, "_context", context)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Transformation is immutable; task methods return a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Transformation is immutable")

    def __copy__(self) -> Transformation:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Transformation:
        return self

    # -- chaining ----------------------------------------------------------------------

    def _transformation(self) -> Transformation:
        return self

    def with_tasks(self, tasks: str | Iterable[Task]) -> Transformation:
        """A new chain with ``tasks`` appended: URL grammar or `Task` objects (no I/O).

        ``tasks`` is either text as it appears in a processing URL
        (``"resize=width:200/flip"``), each task checked against the catalogue as a
        task method checks its arguments, or an iterable of `Task` (such as another
        chain's `tasks`).

        Raises:
            ConfigurationError: ``tasks`` is neither; an unknown task or parameter, a
                value of the wrong type or range, malformed grammar; or a ``security``
                task (give ``security=`` instead: requests are signed with it).

        Example:
            >>> t = Transformation(handle="AbCdEfGhIjKlMnOpQrSt")
            >>> t.with_tasks("resize=width:200/flip").url
            'https://cdn.filestackcontent.com/resize=width:200/flip/AbCdEfGhIjKlMnOpQrSt'
        """
        if isinstance(tasks, str):
            added = _parse_tasks(tasks)
        elif isinstance(tasks, (bytes, bytearray, memoryview)) or not isinstance(tasks, Iterable):
            raise ConfigurationError(
                "tasks must be URL grammar such as 'resize=width:200/flip' or a list of "
                f"Task, not {type(tasks).__name__}"
            )
        else:
            added = tuple(tasks)
            for task in added:
                if not isinstance(task, Task):
                    raise ConfigurationError(
                        f"tasks must hold Task objects, not {type(task).__name__}"
                    )
                _check_not_security(task)
        new = object.__new__(Transformation)
        new._init(self._source, (*self._tasks, *added), self._context)
        return new

    # -- values ------------------------------------------------------------------------

    @property
    def handle(self) -> str | None:
        """The source handle, if the source is one handle."""
        value = self._source.value
        return value if self._source.kind == "handle" and isinstance(value, str) else None

    @property
    def external_url(self) -> str | None:
        """The source URL (or ``src://`` alias), if the source is one."""
        value = self._source.value
        return value if self._source.kind == "url" and isinstance(value, str) else None

    @property
    def handles(self) -> tuple[str, ...] | None:
        """The sources, if this chain works on several files."""
        value = self._source.value
        return value if isinstance(value, tuple) else None

    @property
    def apikey(self) -> str | None:
        """The API key (sent for external and multi-file sources, and with store)."""
        return self._context.apikey

    @property
    def security(self) -> Security | None:
        """The security used when a call is not given one."""
        return self._context.security

    @property
    def tasks(self) -> tuple[Task, ...]:
        """The tasks, in order."""
        return self._tasks

    @property
    def context(self) -> Context:
        """Settings and connection pool (for the SDK's own modules)."""
        return self._context

    def _key(self) -> tuple[Any, ...]:
        ctx = self._context
        return (self._source, self._tasks, ctx.endpoints, ctx.apikey, ctx.security)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Transformation):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        chain = "/".join(t.render() for t in self._tasks) or "(no tasks)"
        return f"<Transformation {chain} on {self._source.describe()}>"

    # -- URLs ----------------------------------------------------------------------------

    def _render(
        self,
        tasks: Sequence[Task],
        security: Security | None,
        *,
        apikey: bool = False,
        wire: bool = False,
    ) -> str:
        parts = [self._context.endpoints.cdn]
        if self._source.kind != "handle" or (apikey and self._context.apikey):
            assert self._context.apikey is not None
            parts.append(self._context.apikey)
        for task in tasks:
            text = task.render()
            parts.append(quote(text, safe=_SEGMENT_SAFE) if wire else text)
        if security is not None:
            parts.append(security.as_url_string())
        parts.append(self._source.render(wire=wire))
        return "/".join(parts)

    @property
    def url(self) -> str:
        """The unsigned processing URL (no I/O).

        Values are written as the URL grammar has them (a string holding a comma,
        slash, bracket or space is put between double quotes); requests are sent
        with those characters percent-encoded.
        """
        return self._render(self._tasks, None)

    def signed_url(
        self,
        security: Security | None = None,
        *,
        call: Sequence[str] | None = None,
        expires_in: float | None = None,
    ) -> str:
        """The URL with a ``security=p:...,s:...`` segment before the source (no I/O).

        As `Filelink.signed_url`: with the app secret the URL carries a policy of its
        own, for ``expires_in`` seconds (default one hour) and ``call`` (default
        ``["read", "convert"]``, or ``["read"]`` without tasks), bound to the source:
        its ``handle``, or (``url``) exactly its external URL. A chain on several
        files cannot be bound to them (a policy names one handle): its URL allows
        those calls on any file of the app until it expires. A ready-made policy
        (`Security.from_signature`) goes into the URL as it is.

        Raises:
            ConfigurationError: no security anywhere; ``call`` or ``expires_in`` is
                invalid, is more than the security's policy allows, or is given with a
                ready-made policy.
        """
        sec = self._require_security(security, "sign a URL")
        default = ("read", "convert") if self._tasks else ("read",)
        narrow = url_security(
            sec,
            call=call,
            default_call=default,
            handle=self.handle,
            url=self.external_url,
            expires_in=expires_in,
        )
        return self._render(self._tasks, narrow)

    def _security(self, security: Security | None) -> Security | None:
        return self._context.resolve_security(security)

    def _require_security(self, security: Security | None, action: str) -> Security:
        return self._context.require_security(security, action)

    def _redact(self, sec: Security | None) -> tuple[str, ...]:
        found = [self._context.apikey] if self._context.apikey else []
        return (*found, *(sec.secrets() if sec else ()))

    # -- running -------------------------------------------------------------------------

    async def _get(
        self,
        url: str,
        sec: Security | None,
        *,
        method: str = "GET",
        retry: Retry = Retry.ALWAYS,
        kind: Kind = Kind.API,
    ) -> Any:
        async with self._context.session(sec) as http:
            return await http.request(method, url, retry=retry, redact=self._redact(sec), kind=kind)

    async def get_content(self, *, security: Security | None = None) -> bytes:
        """Run the chain and return the result's bytes (signed when security is set).

        A connection lost mid-body is resumed as `stream` resumes it.
        """
        sec = self._security(security)
        return await read_all(self._context, self._render(self._tasks, sec, wire=True), sec)

    def stream(
        self,
        *,
        start: int | None = None,
        end: int | None = None,
        security: Security | None = None,
    ) -> AbstractAsyncContextManager[DownloadStream]:
        """Run the chain and read the result as a stream: ``async with t.stream() as body``.

        As `Filelink.stream`: ``body`` is a `DownloadStream` (an async iterable of
        `bytes`, with ``size``, ``mimetype`` and ``etag`` known up front), the byte
        range ``start``-``end`` is inclusive, and a connection lost mid-body is
        resumed against the first answer's ETag (a result without one cannot be
        resumed, and the loss is raised).

        Raises:
            ConfigurationError: ``start`` or ``end`` is not a non-negative int, or
                ``end`` is before ``start``.
            RangeNotSatisfiableError: ``start`` is past the end of the result.
        """
        first, last = check_range(start, end)
        sec = self._security(security)
        url = self._render(self._tasks, sec, wire=True)
        return open_download(self._context, url, sec, start=first, end=last)

    async def download(
        self,
        destination: str | os.PathLike[str] | BinaryIO,
        *,
        security: Security | None = None,
    ) -> int:
        """Run the chain and stream the result to a path or a binary file object.

        Returns the bytes written. As `Filelink.download`: a path is written under a
        temporary name and renamed into place once complete, so an error or
        cancellation never leaves a partial file; a file object (opened for binary
        writing) receives the bytes as they arrive.

        Raises:
            ConfigurationError: ``destination`` is neither a path nor a binary file
                object open for writing.
        """
        sec = self._security(security)
        url = self._render(self._tasks, sec, wire=True)
        return await download_to(self._context, url, destination, sec)

    async def debug(self, *, security: Security | None = None) -> dict[str, Any]:
        """Ask the service to describe this chain (``debug`` task first); returns the JSON."""
        sec = self._security(security)
        url = self._render((build_task("debug"), *self._tasks), sec, wire=True)
        response = await self._get(url, sec)
        result: dict[str, Any] = response.json_object()
        return result

    async def _intelligence(self, name: str, security: Security | None) -> dict[str, Any]:
        sec = self._require_security(security, f"call {name}")
        url = self._render((*self._tasks, build_task(name)), sec, wire=True)
        response = await self._get(url, sec)
        result: dict[str, Any] = response.json_object()
        return result

    async def tags(self, *, security: Security | None = None) -> dict[str, Any]:
        """Image tags of the result: ``{"tags": {"auto": {...}, "user": ...}}``. Needs security."""
        return await self._intelligence("tags", security)

    async def sfw(self, *, security: Security | None = None) -> dict[str, Any]:
        """Safe-for-work check of the result: ``{"sfw": true}``. Needs security."""
        return await self._intelligence("sfw", security)

    async def ocr(self, *, security: Security | None = None) -> dict[str, Any]:
        """Text recognition on the result. Needs security."""
        return await self._intelligence("ocr", security)

    async def store_task(self, task: Task, *, security: Security | None = None) -> Filelink:
        """Run the chain with a ready ``store`` `Task` last and return the stored file.

        For a store task parsed from URL grammar (``store=path:/thumbs/``) or built
        elsewhere; `store` builds one from its arguments.

        Raises:
            ConfigurationError: ``task`` is not a `Task` named ``store``; bad security.
        """
        _check_task(task, "store")
        sec = self._security(security)
        url = self._render((*self._tasks, task), sec, apikey=True, wire=True)
        response = await self._get(url, sec, method="POST", retry=Retry.NO_RESPONSE)
        body: dict[str, Any] = response.json_object()
        handle = handle_in_answer(body)
        if not isinstance(handle, str) or not handle:
            raise APIResponseValidationError(
                "the store answer has neither a handle nor a url", method="POST", url=response.url
            )
        return filelink_maker()(
            handle,
            what="the store answer",
            method="POST",
            url=response.url,
            security=sec,
            upload_response=body,
            context=self._context,
        )

    async def av_convert_task(self, task: Task, *, security: Security | None = None) -> AudioVisual:
        """Start the chain with a ready ``video_convert`` `Task` last; return the conversion.

        For a task parsed from URL grammar or built elsewhere; `av_convert` builds
        one from its arguments.

        Raises:
            ConfigurationError: ``task`` is not a `Task` named ``video_convert``; bad
                security.
        """
        _check_task(task, "video_convert")
        sec = self._security(security)
        chain = self.with_tasks((task,))
        response = await self._get(chain._render(chain._tasks, sec, wire=True), sec)
        body: dict[str, Any] = response.json_object("uuid")
        uuid, timestamp = body["uuid"], body.get("timestamp", "")
        if not isinstance(uuid, (str, int)) or isinstance(uuid, bool) or uuid == "":
            raise APIResponseValidationError(
                f"the video_convert answer has a uuid of type {type(uuid).__name__}, "
                "not a non-empty string",
                method="GET",
                url=response.url,
            )
        if not isinstance(timestamp, (str, int, float)) or isinstance(timestamp, bool):
            raise APIResponseValidationError(
                f"the video_convert answer has a timestamp of type {type(timestamp).__name__}",
                method="GET",
                url=response.url,
            )
        return conversion_maker()(
            chain.url,
            str(uuid),
            str(timestamp),
            transformation=chain,
            security=sec,
            payload=body,
        )

    def request_url(self, security: Security | None = None) -> str:
        """The URL a request for this chain goes to (no I/O).

        Values are percent-encoded as sent, and ``security`` (if given) goes in as it
        is, unnarrowed; without it the URL is unsigned. `signed_url` is the one for
        handing to someone else.

        Raises:
            ConfigurationError: ``security`` is not a `Security`.
        """
        check_security(security)
        return self._render(self._tasks, security, wire=True)


def _check_task(task: object, name: str) -> None:
    if not isinstance(task, Task) or task.name != name:
        what = f"the {task.name!r} task" if isinstance(task, Task) else type(task).__name__
        raise ConfigurationError(f"task must be a Task named {name!r}, not {what}")


def _check_not_security(task: Task) -> None:
    if task.name == "security":
        raise ConfigurationError(
            "tasks must not hold a security task: give security= and requests are signed"
        )


def _parse_tasks(text: str) -> tuple[Task, ...]:
    """Tasks in the URL grammar (``resize=width:200/flip``), checked by the catalogue."""
    try:
        segments = [s for s in split_top_level(text.strip().strip("/"), "/") if s]
    except Invalid as err:
        raise ConfigurationError(f"bad tasks {text!r}: {err}") from None
    tasks = tuple(parse_task(segment) for segment in segments)
    for task in tasks:
        _check_not_security(task)
    return tasks
