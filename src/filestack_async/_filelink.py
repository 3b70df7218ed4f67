"""Filelink: one stored file, its URLs and the File API calls on it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from ._config import Endpoints
from ._context import Context
from ._download import DownloadStream, check_range, download_to, open_download, read_all
from ._exceptions import APIResponseValidationError, ConfigurationError
from ._files import (
    check_binary_file_obj,
    check_readable_file,
    is_seekable,
    iter_file_obj,
    iter_path,
    replayable,
)
from ._form import file_form
from ._http import Body, Retry
from ._params import validate_handle
from ._results import register_filelink_maker
from ._security import Security, check_security, url_security
from ._task_methods import TaskMethods
from ._tasks import Task, check_apikey
from ._transform import Transformation

#: Attributes ``metadata()`` can ask for.
METADATA_ATTRIBUTES: tuple[str, ...] = (
    "size",
    "mimetype",
    "filename",
    "width",
    "height",
    "uploaded",
    "writeable",
    "cloud",
    "source_url",
    "location",
    "path",
    "container",
    "key",
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "exif",
)


class Filelink(TaskMethods):
    """A stored file, named by its handle.

    A Filelink made by a `Client` (``client.filelink(handle)``, or returned by an
    upload) uses that client's connection pool, API key and security. One made on
    its own (``Filelink(handle)``) still works: each call then opens and closes a
    connection pool of its own (a new TCP and TLS handshake per call), and the
    hosts come from ``FILESTACK_BASE_URL`` or Filestack's defaults.

    Example:
        >>> link = Filelink("AbCdEfGhIjKlMnOpQrSt")
        >>> link.url
        'https://cdn.filestackcontent.com/AbCdEfGhIjKlMnOpQrSt'
    """

    __slots__ = ("_context", "handle", "upload_response")

    def __init__(
        self,
        handle: str,
        *,
        apikey: str | None = None,
        security: Security | None = None,
        upload_response: dict[str, Any] | None = None,
        context: Context | None = None,
    ) -> None:
        self.handle = validate_handle(handle)
        check_security(security)
        if apikey is not None:
            check_apikey(apikey)
        if upload_response is not None and not isinstance(upload_response, dict):
            raise ConfigurationError(
                f"upload_response must be a dict, not {type(upload_response).__name__}"
            )
        if context is not None and not isinstance(context, Context):
            raise ConfigurationError("context must be a Context (from client.context)")
        base = context or Context(endpoints=Endpoints.resolve())
        overrides: dict[str, Any] = {}
        if apikey is not None:
            overrides["apikey"] = apikey
        if security is not None:
            overrides["security"] = security
        self._context = replace(base, **overrides) if overrides else base
        #: the JSON the upload (or store) call answered with, when this link came from one
        self.upload_response = upload_response

    @property
    def apikey(self) -> str | None:
        """The API key used for calls that need one (delete, processing)."""
        return self._context.apikey

    @property
    def security(self) -> Security | None:
        """The security used when a call is not given one."""
        return self._context.security

    @property
    def url(self) -> str:
        """The file's unsigned CDN URL (no I/O)."""
        return f"{self._context.endpoints.cdn}/{self.handle}"

    def signed_url(
        self,
        security: Security | None = None,
        *,
        call: Sequence[str] | None = None,
        expires_in: float | None = None,
    ) -> str:
        """The CDN URL with a ``security=`` segment, for handing to someone else (no I/O).

        When the security holds the app secret (``Security(policy, secret)``,
        `Security.create`), the URL carries a policy of its own, signed with that
        secret: only ``call`` (default ``["read"]``) on this handle, for ``expires_in``
        seconds (default `SIGNED_URL_EXPIRES_IN`, one hour), and never more than the
        security's own policy allows. A ready-made policy (`Security.from_signature`)
        goes into the URL as it is: the URL then grants whatever that policy grants.

        Args:
            security: instead of the link's (or its client's) security.
            call: the calls the URL allows, e.g. ``["read", "stat"]``.
            expires_in: how long the URL stays valid, in seconds.

        Raises:
            ConfigurationError: no security anywhere; ``call`` or ``expires_in`` is
                invalid, is more than the security's policy allows, or is given with a
                ready-made policy.

        Example:
            >>> link = Filelink("AbCdEfGhIjKlMnOpQrSt", security=Security.create(
            ...     "APP_SECRET", expires_in=86400, call=["read", "remove"]))
            >>> url = link.signed_url(expires_in=600)  # read this file, for 10 minutes
        """
        sec = self._require_security(security, "sign a URL")
        narrow = url_security(
            sec, call=call, default_call=("read",), handle=self.handle, expires_in=expires_in
        )
        return self._signed(narrow)

    def _signed(self, security: Security) -> str:
        """The CDN URL carrying ``security`` as it is (the SDK's own requests)."""
        return f"{self._context.endpoints.cdn}/{security.as_url_string()}/{self.handle}"

    def __repr__(self) -> str:
        return f"<Filelink {self.handle}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Filelink):
            return NotImplemented
        return self.handle == other.handle and self._context.endpoints == other._context.endpoints

    def __hash__(self) -> int:
        return hash((self.handle, self._context.endpoints))

    # -- helpers -----------------------------------------------------------------

    def _security_or_none(self, security: Security | None) -> Security | None:
        return self._context.resolve_security(security)

    def _require_security(self, security: Security | None, action: str) -> Security:
        return self._context.require_security(security, action)

    def _content_url(self, security: Security | None) -> str:
        sec = self._security_or_none(security)
        return self._signed(sec) if sec is not None else self.url

    # -- reading -----------------------------------------------------------------

    async def get_content(self, *, security: Security | None = None) -> bytes:
        """Download the whole file into memory and return its bytes.

        A connection lost mid-body is resumed as `stream` resumes it.
        """
        sec = self._security_or_none(security)
        return await read_all(self._context, self._content_url(sec), sec)

    def stream(
        self,
        *,
        start: int | None = None,
        end: int | None = None,
        security: Security | None = None,
    ) -> AbstractAsyncContextManager[DownloadStream]:
        """Open the file for reading as a stream: ``async with link.stream() as body``.

        ``body`` is a `DownloadStream`: an async iterable of `bytes` whose ``size``,
        ``mimetype``, ``etag`` and ``length`` are known before the first byte is
        read (what a FastAPI ``StreamingResponse`` or an aiohttp ``StreamResponse``
        needs). A connection lost mid-body is resumed where it stopped (``Range`` and
        ``If-Range`` with the first answer's ETag), under the client's retry policy;
        a file that changed meanwhile raises `ContentChangedError`, never a splice
        of two versions. The connection is closed when the block ends.

        Args:
            start: the first byte to read (default 0).
            end: the last byte to read, inclusive as in HTTP's ``Range``
                (``end=start+n-1`` reads n bytes); past the end of the file it reads
                to the end. Default: to the end.
            security: instead of the link's (or its client's) security.

        Raises:
            ConfigurationError: ``start`` or ``end`` is not a non-negative int, or
                ``end`` is before ``start`` (at the call, before any I/O).
            RangeNotSatisfiableError: ``start`` is past the end of the file.

        Example:
            >>> async with link.stream(start=0, end=1023) as body:  # doctest: +SKIP
            ...     first_kib = b"".join([chunk async for chunk in body])
        """
        first, last = check_range(start, end)
        sec = self._security_or_none(security)
        return open_download(self._context, self._content_url(sec), sec, start=first, end=last)

    async def download(
        self, destination: str | os.PathLike[str] | BinaryIO, *, security: Security | None = None
    ) -> int:
        """Stream the file to a path or a binary file object; return the bytes written.

        A path is written atomically: the body goes to a temporary file beside it,
        which is renamed into place only once every byte has arrived. On any error
        or cancellation the temporary file is removed and the destination is left
        as it was.
        """
        sec = self._security_or_none(security)
        return await download_to(self._context, self._content_url(sec), destination, sec)

    async def metadata(
        self,
        attributes_list: Sequence[str] | None = None,
        *,
        security: Security | None = None,
    ) -> dict[str, Any]:
        """Return the file's metadata.

        Args:
            attributes_list: which attributes to ask for (see `METADATA_ATTRIBUTES`);
                by default the service's defaults.

        Example:
            >>> meta = await link.metadata(["size", "md5"])  # doctest: +SKIP
        """
        params: dict[str, str] = {}
        if isinstance(attributes_list, (str, bytes)) or not isinstance(
            attributes_list, (Sequence, type(None))
        ):
            raise ConfigurationError(
                "attributes_list must be a list of attribute names, "
                f"not {type(attributes_list).__name__}"
            )
        for attribute in attributes_list or ():
            if attribute not in METADATA_ATTRIBUTES:
                raise ConfigurationError(
                    f"unknown metadata attribute {attribute!r}; "
                    f"known ones: {', '.join(METADATA_ATTRIBUTES)}"
                )
            params[attribute] = "true"
        sec = self._security_or_none(security)
        if sec is not None:
            params.update(sec.as_params())
        url = f"{self._context.endpoints.cdn}/{self.handle}/metadata"
        async with self._context.session(sec) as http:
            response = await http.request("GET", url, params=params, redact=_secrets_of(sec))
        return response.json_object()

    async def _intelligence(self, task: str, security: Security | None) -> dict[str, Any]:
        sec = self._require_security(security, f"call {task}")
        url = f"{self._context.endpoints.cdn}/{task}/{sec.as_url_string()}/{self.handle}"
        async with self._context.session(sec) as http:
            response = await http.request("GET", url, redact=_secrets_of(sec))
        return response.json_object()

    async def tags(self, *, security: Security | None = None) -> dict[str, Any]:
        """Image tagging: ``{"tags": {"auto": {...}, "user": ...}}``. Needs security."""
        return await self._intelligence("tags", security)

    async def sfw(self, *, security: Security | None = None) -> dict[str, Any]:
        """Safe-for-work check: ``{"sfw": true}``. Needs security."""
        return await self._intelligence("sfw", security)

    async def ocr(self, *, security: Security | None = None) -> dict[str, Any]:
        """Optical character recognition of an image. Needs security."""
        return await self._intelligence("ocr", security)

    # -- writing -----------------------------------------------------------------

    async def overwrite(
        self,
        *,
        filepath: str | os.PathLike[str] | None = None,
        url: str | None = None,
        file_obj: BinaryIO | None = None,
        content: bytes | None = None,
        base64decode: bool = False,
        security: Security | None = None,
    ) -> Filelink:
        """Replace the file's content, keeping its handle. Needs security.

        Give exactly one of ``filepath``, ``url``, ``file_obj`` or ``content``.
        Returns this Filelink.
        """
        sources = [s for s in (filepath, url, file_obj, content) if s is not None]
        if len(sources) != 1:
            raise ConfigurationError(
                "give exactly one of filepath=, url=, file_obj= or content= to overwrite"
            )
        if not isinstance(base64decode, bool):
            raise ConfigurationError("base64decode must be a bool")
        if url is not None and (
            not isinstance(url, str) or not url.startswith(("http://", "https://"))
        ):
            raise ConfigurationError("url must be an http(s) URL")
        sec = self._require_security(security, "overwrite a file")
        params = {**sec.as_params(), "base64decode": "true" if base64decode else "false"}
        endpoint = f"{self._context.endpoints.api}/file/{self.handle}"
        async with self._context.session(sec) as http:
            if url is not None:
                await http.request(
                    "POST", endpoint, params=params, data={"url": url}, redact=_secrets_of(sec)
                )
            else:
                body, headers, retry = _file_upload_form(filepath, file_obj, content)
                await http.request(
                    "POST",
                    endpoint,
                    params=params,
                    content=body,
                    headers=headers,
                    retry=retry,
                    redact=_secrets_of(sec),
                )
        return self

    async def delete(self, *, apikey: str | None = None, security: Security | None = None) -> None:
        """Delete the file. Needs the API key and security (with the ``remove`` call)."""
        await self._remove(apikey, security, "delete a file", skip_storage=False)

    async def remove_metadata(
        self, *, apikey: str | None = None, security: Security | None = None
    ) -> None:
        """Remove the file from Filestack but keep the stored object in your storage.

        The File API delete with ``skip_storage=true`` (filestack-js ``removeMetadata``):
        the handle stops working; the object in your S3 bucket (or other storage) stays.
        Needs the API key and security (with the ``remove`` call), as `delete`.
        """
        await self._remove(apikey, security, "remove a file's metadata", skip_storage=True)

    async def _remove(
        self, apikey: str | None, security: Security | None, action: str, *, skip_storage: bool
    ) -> None:
        if apikey is not None:
            check_apikey(apikey)
        key = apikey or self._context.apikey
        if not key:
            raise ConfigurationError(f"an API key is required to {action}")
        sec = self._require_security(security, action)
        params = {"key": key, **sec.as_params()}
        if skip_storage:
            params["skip_storage"] = "true"
        endpoint = f"{self._context.endpoints.api}/file/{self.handle}"
        async with self._context.session(sec) as http:
            await http.request("DELETE", endpoint, params=params, redact=(key, *sec.secrets()))

    # -- processing --------------------------------------------------------------------

    def with_tasks(self, tasks: str | Iterable[Task]) -> Transformation:
        """A chain on this file with ``tasks``: URL grammar or `Task` objects (no I/O).

        As `Transformation.with_tasks`.

        Raises:
            ConfigurationError: ``tasks`` is neither, or holds a task the catalogue
                rejects, or a ``security`` task.

        Example:
            >>> Filelink("AbCdEfGhIjKlMnOpQrSt").with_tasks("resize=w:200/flip").url
            'https://cdn.filestackcontent.com/resize=width:200/flip/AbCdEfGhIjKlMnOpQrSt'
        """
        return self._transformation().with_tasks(tasks)

    # -- for other modules -----------------------------------------------------------

    def _transformation(self) -> Transformation:
        """A new chain on this file, for the task methods of `TaskMethods`."""
        return Transformation(handle=self.handle, context=self._context)

    @property
    def context(self) -> Context:
        """The settings this link uses (for the SDK's own modules)."""
        return self._context


def filelink_from_answer(
    handle: object,
    *,
    what: str,
    method: str,
    url: str | None,
    security: Security | None,
    upload_response: dict[str, Any],
    context: Context,
) -> Filelink:
    """The Filelink a service answer names; a missing or malformed handle is the service's fault.

    Raises:
        APIResponseValidationError: ``handle`` is not a Filestack handle (``what``
            names the answer in the message).
    """
    try:
        checked = validate_handle(handle)
    except ConfigurationError as err:
        raise APIResponseValidationError(
            f"{what} has no usable handle: {err}", method=method, url=url
        ) from err
    return Filelink(checked, security=security, upload_response=upload_response, context=context)


register_filelink_maker(filelink_from_answer)


def _secrets_of(security: Security | None) -> tuple[str, ...]:
    return security.secrets() if security is not None else ()


def _file_upload_form(
    filepath: str | os.PathLike[str] | None,
    file_obj: BinaryIO | None,
    content: bytes | None,
) -> tuple[Body, dict[str, str], Retry]:
    """A streamed ``multipart/form-data`` body with one field, ``fileUpload``."""
    source: Body
    retry = Retry.ALWAYS
    if filepath is not None:
        path = check_readable_file(filepath)
        name, size = path.name, path.stat().st_size

        def source() -> AsyncIterator[bytes]:
            return iter_path(path)

    elif file_obj is not None:
        obj = check_binary_file_obj(file_obj)
        name, size = Path(str(getattr(obj, "name", "file"))).name or "file", None
        if is_seekable(obj):
            source = replayable(obj)
        else:
            retry = Retry.NEVER

            def source() -> AsyncIterator[bytes]:
                return iter_file_obj(obj)

    else:
        if not isinstance(content, (bytes, bytearray, memoryview)):
            raise ConfigurationError("content must be bytes")
        source = bytes(content)
        name, size = "file", len(source)
    form = file_form(name, "application/octet-stream")
    return form.body(source), form.headers(size), retry
