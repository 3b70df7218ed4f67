"""Getting source files for ``/process``, overwrite-by-URL and processing URLs.

The emulator never reaches the internet: a source is a file of this emulator (a
handle, or a URL on the emulator's own origin) or an http(s) URL on a loopback
address; anything else is refused with a clear 400.
"""

from __future__ import annotations

import hashlib
import ipaddress
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

import anyio
import httpx

from .._exceptions import ConfigurationError
from .._params import validate_handle
from .._tasks import parse_path
from .security import Credentials
from .strict import ProtocolError

if TYPE_CHECKING:
    from .app import Emulator

_BLOCK = 1024 * 1024
#: the largest file the emulator fetches from a loopback URL
MAX_FETCH = 2 * 1024 * 1024 * 1024


@dataclass
class Fetched:
    """A source ready to be stored: a temporary file the caller must move or delete."""

    path: Path
    size: int
    mimetype: str
    filename: str
    md5: str


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ``::1``."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def own_file(url: str, own_netloc: str) -> tuple[str, Credentials] | None:
    """``(handle, credentials)`` if ``url`` is a file URL on this emulator's origin.

    The credentials are the URL's own (a ``security=p:..,s:..`` segment or
    ``policy``/``signature`` query parameters), as the CDN would see them.
    """
    parts = urlsplit(url)
    if parts.netloc != own_netloc:
        return None
    segments = unquote(parts.path).strip("/").split("/")
    query = parse_qs(parts.query)
    policy, signature = query.get("policy"), query.get("signature")
    credentials = Credentials(policy[0] if policy else None, signature[0] if signature else None)
    if len(segments) == 2 and segments[0].startswith("security="):
        try:
            parsed = parse_path("/".join(segments))
        except ConfigurationError:
            return None
        credentials = Credentials(parsed.policy, parsed.signature)
        segments = [parsed.source]
    if len(segments) != 1:
        return None
    try:
        return validate_handle(segments[0]), credentials
    except ConfigurationError:
        return None


async def fetch(
    emulator: Emulator, url: str, own_netloc: str, *, authorized: bool = False
) -> Fetched:
    """Copy a source into a temporary file under the data folder.

    A file of this emulator is read as the CDN would serve it: with a secret set,
    the URL must carry read rights, unless the request is ``authorized`` already
    (a processing URL whose own security was checked for that handle).

    Raises:
        ProtocolError: the URL is not an allowed source, or fetching it failed.
    """
    try:
        url.encode("utf-8")  # UnicodeEncodeError (a ValueError) for lone surrogates
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:  # such as an unclosed IPv6 bracket, port 99999 or a lone surrogate
        raise ProtocolError(
            f"the source is not a valid URL: {url[:80]!r}", code="BadSource"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProtocolError(
            f"the source must be an http(s) URL, not {url[:80]!r}", code="BadSource"
        )
    own = own_file(url, own_netloc)
    temp = emulator.storage.incoming_path()
    md5 = hashlib.md5()
    if own is not None:
        handle, credentials = own
        if not authorized:
            emulator.security(credentials, call="read", handle=handle)  # as the CDN would
        reading = await emulator.run(emulator.storage.open_file, handle)
        if reading is None:
            raise ProtocolError(f"the source file {handle} does not exist", status=404)
        stored = reading.file
        try:
            digest = await emulator.run(reading.copy_to, temp)
        except BaseException:
            await discard(temp)
            raise
        finally:
            await emulator.run(reading.close)
        return Fetched(temp, stored.size, stored.mimetype, stored.filename, digest)
    if not is_loopback_host(parts.hostname) and parts.netloc != own_netloc:
        raise ProtocolError(
            f"the emulator does not fetch from {parts.hostname!r}: it never reaches the "
            "internet; use a file of this emulator or a loopback (127.0.0.1/localhost) URL",
            code="BadSource",
        )
    size = 0
    try:
        async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
            async with client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ProtocolError(
                        f"fetching the source answered {response.status_code}", code="BadSource"
                    )
                mimetype = response.headers.get("content-type", "application/octet-stream")
                file = await emulator.run(temp.open, "wb")
                try:
                    async for chunk in response.aiter_bytes(_BLOCK):
                        size += len(chunk)
                        if size > MAX_FETCH:
                            raise ProtocolError("the source is larger than the emulator fetches")
                        md5.update(chunk)
                        await emulator.run(file.write, chunk)
                finally:
                    with anyio.CancelScope(shield=True):
                        await emulator.run(file.close)
    except (httpx.HTTPError, httpx.InvalidURL) as err:
        await discard(temp)
        raise ProtocolError(
            f"fetching the source failed: {type(err).__name__}", code="BadSource"
        ) from None
    except BaseException:
        await discard(temp)
        raise
    filename = posixpath.basename(unquote(parts.path)) or "file"
    return Fetched(temp, size, mimetype.split(";")[0].strip(), filename, md5.hexdigest())


async def discard(path: Path) -> None:
    """Remove a temporary file (in a worker thread), even while being cancelled."""
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))
