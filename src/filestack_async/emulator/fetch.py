"""Getting source files for ``/process``, overwrite-by-URL and processing URLs.

The emulator never reaches the internet: a source is a file of this emulator (a
handle, or a URL on the emulator's own origin) or an http(s) URL on a loopback
address; anything else is refused with a clear 400. A name (``localhost``,
``*.localhost``) is resolved first and every address it resolves to must be
loopback; the fetch then connects to the address checked, so a name that resolves
differently a moment later (DNS rebinding) cannot send it elsewhere.
"""

from __future__ import annotations

import ipaddress
import posixpath
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

import anyio
import httpx

from .._exceptions import ConfigurationError
from .._params import validate_handle
from .._tasks import parse_path
from .receive import receive
from .security import Credentials, Denied
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


def _not_loopback(host: str, detail: str) -> ProtocolError:
    return ProtocolError(
        f"the emulator does not fetch from {host!r}{detail}: it never reaches the "
        "internet; use a file of this emulator or a loopback (127.0.0.1/localhost) URL",
        code="BadSource",
    )


async def resolve_loopback(host: str, port: int) -> str:
    """The address to connect to for ``host``: itself if it is a loopback address,
    else the first address of a loopback name once every address it resolves to has
    been checked to be loopback.

    Raises:
        ProtocolError: the host is not loopback, resolves to a non-loopback address,
            or does not resolve.
    """
    if not is_loopback_host(host):
        raise _not_loopback(host, "")
    literal = host.strip("[]")
    try:
        return str(ipaddress.ip_address(literal))
    except ValueError:
        pass
    try:
        infos = await anyio.getaddrinfo(literal, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise ProtocolError(
            f"the source host {host!r} does not resolve ({err.strerror or err})", code="BadSource"
        ) from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        if not ipaddress.ip_address(address.partition("%")[0]).is_loopback:
            raise _not_loopback(host, f" (it resolves to {address}, not a loopback address)")
    if not addresses:
        raise ProtocolError(f"the source host {host!r} does not resolve", code="BadSource")
    return addresses[0]


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
    emulator: Emulator,
    url: str,
    own_netloc: str,
    *,
    authorized: bool = False,
    limit: int | None = None,
    headers: dict[str, str] | None = None,
) -> Fetched:
    """Copy a source into a temporary file under the data folder.

    A file of this emulator is read as the CDN would serve it: with a secret set,
    the URL must carry read rights, unless the request is ``authorized`` already
    (a processing URL whose own security was checked for that handle). Any other
    URL must be on a loopback address (see `resolve_loopback`); ``headers`` (the origin
    headers of a private source) go with its GET.

    Raises:
        ProtocolError: the URL is not an allowed source, or fetching it failed.
        Denied: the source is larger than ``limit`` (a policy's ``maxSize``).
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
    if own is not None:
        handle, credentials = own
        if not authorized:
            emulator.security(credentials, call="read", handle=handle)  # as the CDN would
        reading = await emulator.run(emulator.storage.open_file, handle)
        if reading is None:
            raise ProtocolError(f"the source file {handle} does not exist", status=404)
        stored = reading.file
        try:
            if limit is not None and stored.size > limit:
                raise _too_big(limit)
            digest = await emulator.run(reading.copy_to, temp)
        except BaseException:
            await discard(temp)
            raise
        finally:
            await emulator.run(reading.close)
        return Fetched(temp, stored.size, stored.mimetype, stored.filename, digest)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = await resolve_loopback(parts.hostname, port)
    # connect to the address checked (not the name again), telling the server the name
    host = f"[{address}]" if ":" in address else address
    pinned = parts._replace(netloc=f"{host}:{port}").geturl()
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}

    def within(received: int) -> None:
        if received > MAX_FETCH:
            raise ProtocolError("the source is larger than the emulator fetches")
        if limit is not None and received > limit:
            raise _too_big(limit)

    try:
        async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
            async with client.stream(
                "GET",
                pinned,
                headers={**(headers or {}), "Host": parts.netloc.rpartition("@")[2]},
                extensions=extensions,
            ) as response:
                if response.status_code != 200:
                    raise ProtocolError(
                        f"fetching the source answered {response.status_code}", code="BadSource"
                    )
                mimetype = response.headers.get("content-type", "application/octet-stream")
                got = await receive(response.aiter_bytes(_BLOCK), temp, emulator.run, check=within)
    except (httpx.HTTPError, httpx.InvalidURL) as err:
        await discard(temp)
        raise ProtocolError(
            f"fetching the source failed: {type(err).__name__}", code="BadSource"
        ) from None
    except BaseException:
        await discard(temp)
        raise
    filename = posixpath.basename(unquote(parts.path)) or "file"
    return Fetched(temp, got.size, mimetype.split(";")[0].strip(), filename, got.md5)


def _too_big(limit: int) -> Denied:
    return Denied("maxSize", f"the source is more than the policy's maxSize ({limit} bytes)")


async def discard(path: Path) -> None:
    """Remove a temporary file (in a worker thread), even while being cancelled."""
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))
