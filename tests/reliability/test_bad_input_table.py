"""The bad-input table (issue 7): every public method, every kind of wrong argument.

Each `Row` is a call with one wrong argument, the exception it must raise and a
fragment of the message that names the cause. The same rows render the table of
docs/errors.md (``python docs/gen_errors.py``), so the page cannot drift from what
the tests check.

Every row is run (by test_bad_input_run.py) with a client whose transport records
requests: a bad argument must be caught before any request is sent, within a
generous time limit, and with no secret in the message, the repr, the args or the
log. A coverage test lists every public method by introspection and fails when one
that takes an argument has no row.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import io
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import httpx

import filestack_async
from filestack_async import (
    AudioVisual,
    ConfigurationError,
    Endpoints,
    RetryPolicy,
    Security,
    Timeouts,
    UploadConfig,
    UploadItem,
)
from filestack_async._task_methods import TaskMethods
from filestack_async._tasks import Task, build_task, iter_specs

#: A distinctive app secret: neither it nor the signature may appear in any error.
SECRET = "bad-input-APP-SECRET-5f1e9c"
APIKEY = "BadInputApiKey7Q3x"
HANDLE = "AbCdEfGhIjKlMnOpQrSt"
SECURITY = Security(
    {"expiry": 4102444800, "call": ["read", "store", "write", "remove", "convert"]}, SECRET
)
#: The same policy, ready-made (no secret): URLs carry it as it is.
READY_MADE: Any = Security.from_signature(SECURITY.policy_b64, SECURITY.signature)
#: Strings that must never appear in an exception or a log record.
SECRETS: tuple[str, ...] = (SECRET, SECURITY.signature, SECURITY.policy_b64, APIKEY)
CDN = "https://cdn.filestackcontent.com"
AV_URL = f"{CDN}/video_convert=preset:h264/{HANDLE}"
WEBHOOK_HEADERS = {"FS-Signature": "0" * 64, "FS-Timestamp": "1700000000"}

CE = ConfigurationError
#: The package and the security typed as Any, so rows can pass wrong types without casts.
fa: Any = filestack_async
fa_security: Any = SECURITY


@dataclasses.dataclass
class Env:
    """What a row's call gets: the API (async package or ``filestack_async.sync``) and objects.

    ``client`` has `SECURITY` and a transport that records (and fails) every request.
    """

    api: ModuleType
    client: Any
    link: Any
    chain: Any
    av: Any
    tmp: Path
    opened: list[io.IOBase] = dataclasses.field(default_factory=list)

    def close(self) -> None:
        """Close the files rows opened."""
        for file in self.opened:
            file.close()

    @property
    def sync(self) -> bool:
        """True when the calls go through the blocking facade."""
        return self.api is not filestack_async


@dataclasses.dataclass(frozen=True)
class Row:
    """One bad input: ``call(env)`` must raise ``error`` with ``match`` in its message."""

    method: str
    bad: str
    call: Callable[[Env], object]
    error: type[Exception]
    match: str
    #: False when the sync twin cannot take the same bad value (see the report in errors.md)
    sync: bool = True
    #: rows of one family share a line of docs/errors.md (one per parameter, ``param``)
    family: str = ""
    param: str = ""

    @property
    def id(self) -> str:
        """A readable pytest id."""
        return f"{self.method}: {self.bad}"


def _flip_task() -> Task:
    """A valid task that is neither store nor video_convert."""
    return build_task("flip")


async def _no_chunks() -> Any:
    yield b""


def _text_file(env: Env) -> io.TextIOWrapper:
    file = (env.tmp / "text.txt").open("w+", encoding="utf-8")
    env.opened.append(file)
    return file


def _binary_file(env: Env, mode: str, *, closed: bool = False) -> io.BufferedIOBase:
    path = env.tmp / "binary.bin"
    if "r" in mode and not path.exists():
        path.write_bytes(b"some bytes")
    file: Any = path.open(mode)
    env.opened.append(file)
    if closed:
        file.close()
    return file  # type: ignore[no-any-return]


def _checkpoint(env: Env, raw: bytes) -> Path:
    """A checkpoint file holding ``raw`` (for the ``resume=`` rows)."""
    path = env.tmp / "upload.checkpoint"
    path.write_bytes(raw)
    return path


def _closed_client(env: Env, method: str, *args: Any, **kwargs: Any) -> object:
    """Call ``method`` on a client that was closed (sync or async)."""
    if env.sync:
        client = env.api.Client(APIKEY)
        client.close()
        return getattr(client, method)(*args, **kwargs)

    async def call() -> object:
        client = env.api.Client(APIKEY)
        await client.aclose()
        result = getattr(client, method)(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    return call()


def _keyless(method: str, *args: Any, **kwargs: Any) -> Callable[[Env], object]:
    """Call ``method`` on a client made without an API key (none in the environment)."""

    def call(env: Env) -> object:
        saved = os.environ.pop("FILESTACK_API_KEY", None)
        try:
            client = env.api.Client()
        finally:
            if saved is not None:
                os.environ["FILESTACK_API_KEY"] = saved
        if env.sync:
            with client:
                return getattr(client, method)(*args, **kwargs)

        async def run() -> object:
            async with client:
                return await getattr(client, method)(*args, **kwargs)

        return run()

    return call


def _first_item_error(result: object) -> object:
    """``upload_many`` reports a bad item as that item's result: raise it."""

    def check(results: Any) -> None:
        (only,) = results
        if isinstance(only, Exception):
            raise only

    if inspect.isawaitable(result):
        awaitable = result

        async def wait() -> None:
            check(await awaitable)

        return wait()
    check(result)
    return None


def _on(target: Callable[[Env], Any], method: str, **kwargs: Any) -> Callable[[Env], object]:
    """A call of ``method`` (by name) on what ``target`` picks from the env."""

    def call(env: Env) -> object:
        return getattr(target(env), method)(**kwargs)

    return call


def _rows() -> Iterator[Row]:
    # -- Client -----------------------------------------------------------------------
    yield Row(
        "Client.upload", "no apikey", _keyless("upload", content=b"x"), CE, "needs an API key"
    )
    yield Row(
        "Client.upload_url",
        "no apikey",
        _keyless("upload_url", "https://example.com/a.png"),
        CE,
        "needs an API key",
    )
    yield Row(
        "Client.upload_many", "no apikey", _keyless("upload_many", [b"x"]), CE, "needs an API key"
    )
    yield Row("Client", "apikey int", lambda e: e.api.Client(123), CE, "apikey must be")
    yield Row("Client", "apikey blank", lambda e: e.api.Client("  "), CE, "apikey must be")
    yield Row(
        "Client",
        "apikey with URL characters",
        lambda e: e.api.Client("a/b?x"),
        CE,
        "apikey may hold only letters, digits",
    )
    yield Row("Client", "apikey a task name", lambda e: e.api.Client("flip"), CE, "is a task name")
    yield Row(
        "Client", "unknown storage", lambda e: e.api.Client("K", storage="s3x"), CE, "storage"
    )
    yield Row("Client", "storage None", lambda e: e.api.Client("K", storage=None), CE, "storage")
    yield Row(
        "Client",
        "security a dict",
        lambda e: e.api.Client("K", security={"expiry": 1}),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Client", "base_url int", lambda e: e.api.Client("K", base_url=8700), CE, "base_url must"
    )
    yield Row(
        "Client",
        "base_url not http",
        lambda e: e.api.Client("K", base_url="ftp://x"),
        CE,
        "base_url must be an http(s) URL",
    )
    yield Row(
        "Client",
        "base_url port out of range",
        lambda e: e.api.Client("K", base_url="http://127.0.0.1:99999"),
        CE,
        "base_url is not a valid URL",
    )
    yield Row(
        "Client",
        "base_url with a control character",
        lambda e: e.api.Client("K", base_url="http://127.0.0.1\x00:8700"),
        CE,
        "control characters",
    )
    yield Row(
        "Client",
        "base_url and cname",
        lambda e: e.api.Client("K", base_url="http://a", cname="b.com"),
        CE,
        "not both",
    )
    yield Row("Client", "cname int", lambda e: e.api.Client("K", cname=5), CE, "cname must")
    yield Row(
        "Client",
        "cname with scheme",
        lambda e: e.api.Client("K", cname="https://b.com"),
        CE,
        "bare domain",
    )
    yield Row("Client", "timeout 0", lambda e: e.api.Client("K", timeout=0), CE, "timeout must be")
    yield Row("Client", "timeout negative", lambda e: e.api.Client("K", timeout=-1), CE, "positive")
    yield Row("Client", "timeout str", lambda e: e.api.Client("K", timeout="5"), CE, "timeout")
    yield Row("Client", "timeout bool", lambda e: e.api.Client("K", timeout=True), CE, "timeout")
    yield Row("Client", "retry int", lambda e: e.api.Client("K", retry=3), CE, "RetryPolicy")
    yield Row("Client", "upload a dict", lambda e: e.api.Client("K", upload={}), CE, "UploadConfig")
    yield Row(
        "Client",
        "on_event a string",
        lambda e: e.api.Client("K", on_event="print"),
        CE,
        "on_event must be a callable",
    )
    yield Row(
        "Client",
        "on_event an int",
        lambda e: e.api.Client("K", on_event=3),
        CE,
        "on_event must be a callable",
    )
    yield Row(
        "Client",
        "http_client not httpx",
        lambda e: e.api.Client("K", http_client=object()),
        CE,
        "http_client must be an httpx.AsyncClient",
    )
    yield Row(
        "Client",
        "transport not httpx",
        lambda e: e.api.Client("K", transport="tcp"),
        CE,
        "transport must be an httpx",
    )
    yield Row(
        "Client",
        "http_backend unknown",
        lambda e: e.api.Client("K", http_backend="requests"),
        CE,
        "http_backend must be 'auto', 'aiohttp' or 'httpx', not 'requests'",
    )
    yield Row(
        "Client",
        "http_backend not a string",
        lambda e: e.api.Client("K", http_backend=1),
        CE,
        "http_backend must be 'auto', 'aiohttp' or 'httpx', not int",
    )
    yield Row(
        "Client",
        "http_backend with a transport",
        lambda e: e.api.Client(
            "K",
            http_backend="aiohttp",
            transport=httpx.MockTransport(lambda r: httpx.Response(200)),
        ),
        CE,
        "give http_backend= or transport=, not both",
    )
    yield Row("Client.filelink", "handle int", lambda e: e.client.filelink(1), CE, "handle")
    yield Row(
        "Client.filelink",
        "handle bytes",
        lambda e: e.client.filelink(HANDLE.encode()),
        CE,
        "must be a string, not bytes",
    )
    yield Row(
        "Client.filelink",
        "a file URL for the handle",
        lambda e: e.client.filelink(f"{CDN}/{HANDLE}"),
        CE,
        "not a URL",
    )
    yield Row(
        "Client.filelink",
        "handle too short",
        lambda e: e.client.filelink("abc"),
        CE,
        "20 letters and digits",
    )
    yield Row(
        "Client.filelink",
        "security str",
        lambda e: e.client.filelink(HANDLE, security="p,s"),
        CE,
        "security must be a Security",
    )
    yield Row("Client.upload_url", "url int", lambda e: e.client.upload_url(1), CE, "url must be")
    yield Row(
        "Client.upload_url",
        "url not http",
        lambda e: e.client.upload_url("ftp://a/b"),
        CE,
        "http(s) URL",
    )
    yield Row(
        "Client.upload_url",
        "store_params a list",
        lambda e: e.client.upload_url("https://a.io/x", ["path"]),
        CE,
        "store_params must be a dict",
    )
    yield Row(
        "Client.upload_url",
        "unknown store param",
        lambda e: e.client.upload_url("https://a.io/x", {"colour": "red"}),
        CE,
        "unknown store parameter 'colour'",
    )
    yield Row(
        "Client.upload_url",
        "mimetype store param",
        lambda e: e.client.upload_url("https://a.io/x", {"mimetype": "image/png"}),
        CE,
        "'mimetype' is not accepted",
    )
    yield Row(
        "Client.upload_url",
        "security str",
        lambda e: e.client.upload_url("https://a.io/x", security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Client.upload_url",
        "alt store param",
        lambda e: e.client.upload_url("https://a.io/x", {"alt": "a cat"}),
        CE,
        "'alt' is not accepted by upload_url",
    )
    yield Row(
        "Client.upload_url",
        "headers a list",
        lambda e: e.client.upload_url("https://a.io/x", headers=[("X-A", "1")]),
        CE,
        "headers must be a dict",
    )
    yield Row(
        "Client.upload_url",
        "header name with a space",
        lambda e: e.client.upload_url("https://a.io/x", headers={"X A": "1"}),
        CE,
        "is not an HTTP header name",
    )
    yield Row(
        "Client.upload_url",
        "header value int",
        lambda e: e.client.upload_url("https://a.io/x", headers={"X-A": 1}),
        CE,
        "must be a string, not int",
    )
    yield Row(
        "Client.upload_url",
        "header value with a line break",
        lambda e: e.client.upload_url("https://a.io/x", headers={"X-A": "1\r\nX-B: 2"}),
        CE,
        "line break or control character",
    )
    yield Row(
        "Client.transform_external",
        "url int",
        lambda e: e.client.transform_external(7),
        CE,
        "external_url must be",
    )
    yield Row(
        "Client.transform_external",
        "url with spaces",
        lambda e: e.client.transform_external("https://a.io/a b.png"),
        CE,
        "spaces",
    )
    yield Row(
        "Client.transform_external",
        "url with a control character",
        lambda e: e.client.transform_external("https://a.io/a\x00.png"),
        CE,
        "control characters",
    )
    yield Row(
        "Client.transform_handles",
        "one handle as a str",
        lambda e: e.client.transform_handles(HANDLE),
        CE,
        "non-empty list",
    )
    yield Row(
        "Client.transform_handles",
        "handles a dict",
        lambda e: e.client.transform_handles({HANDLE: 1}),
        CE,
        "non-empty list",
    )
    yield Row(
        "Client.transform_handles",
        "None",
        lambda e: e.client.transform_handles(None),
        CE,
        "non-empty list",
    )
    yield Row(
        "Client.transform_handles",
        "empty list",
        lambda e: e.client.transform_handles([]),
        CE,
        "non-empty list",
    )
    yield Row(
        "Client.transform_handles",
        "an int in the list",
        lambda e: e.client.transform_handles([HANDLE, 3]),
        CE,
        "cannot be a source",
    )
    yield Row(
        "Client.urlscreenshot",
        "url None",
        lambda e: e.client.urlscreenshot(None),
        CE,
        "external_url must be",
    )
    yield Row(
        "Client.urlscreenshot",
        "unknown agent",
        lambda e: e.client.urlscreenshot("https://a.io", agent="tablet"),
        CE,
        "parameter 'agent'",
    )
    yield Row(
        "Client.urlscreenshot",
        "width str",
        lambda e: e.client.urlscreenshot("https://a.io", width="800"),
        CE,
        "parameter 'width'",
    )
    yield Row(
        "Client.urlscreenshot",
        "mode unknown",
        lambda e: e.client.urlscreenshot("https://a.io", mode="page"),
        CE,
        "parameter 'mode'",
    )
    yield Row(
        "Client.urlscreenshot",
        "height str",
        lambda e: e.client.urlscreenshot("https://a.io", height="600"),
        CE,
        "parameter 'height'",
    )
    yield Row(
        "Client.urlscreenshot",
        "delay negative",
        lambda e: e.client.urlscreenshot("https://a.io", delay=-1),
        CE,
        "parameter 'delay'",
    )
    yield Row(
        "Client.urlscreenshot",
        "width negative",
        lambda e: e.client.urlscreenshot("https://a.io", width=-1),
        CE,
        "parameter 'width'",
    )
    yield Row(
        "Client.zip", "files a str", lambda e: e.client.zip(e.tmp / "a.zip", HANDLE), CE, "list"
    )
    yield Row(
        "Client.zip",
        "destination_path None",
        lambda e: e.client.zip(None, [HANDLE]),
        CE,
        "destination must be a path",
    )
    yield Row(
        "Client.zip",
        "destination int",
        lambda e: e.client.zip(3, [HANDLE]),
        CE,
        "destination must be a path",
    )
    yield Row(
        "Client.zip",
        "destination a folder",
        lambda e: e.client.zip(e.tmp, [HANDLE]),
        CE,
        "is a directory",
    )
    yield Row(
        "Client.zip",
        "destination in a missing folder",
        lambda e: e.client.zip(e.tmp / "none" / "a.zip", [HANDLE]),
        CE,
        "does not exist",
    )
    yield Row(
        "Client.zip",
        "security str",
        lambda e: e.client.zip(e.tmp / "a.zip", [HANDLE], security="x"),
        CE,
        "security must be a Security",
    )
    yield Row("Client.upload", "no source", lambda e: e.client.upload(), CE, "got none")
    yield Row(
        "Client.upload",
        "two sources",
        lambda e: e.client.upload(content=b"x", filepath=__file__),
        CE,
        "give exactly one",
    )
    yield Row(
        "Client.upload",
        "content str",
        lambda e: e.client.upload(content="text"),
        CE,
        "content must be bytes, not str",
    )
    yield Row(
        "Client.upload",
        "content int",
        lambda e: e.client.upload(content=5),
        CE,
        "content must be bytes-like",
    )
    yield Row(
        "Client.upload",
        "filepath int",
        lambda e: e.client.upload(filepath=3),
        CE,
        "filepath must be a str or os.PathLike",
    )
    yield Row(
        "Client.upload",
        "filepath bytes",
        lambda e: e.client.upload(filepath=b"/etc/hosts"),
        CE,
        "not bytes",
    )
    yield Row(
        "Client.upload",
        "filepath missing",
        lambda e: e.client.upload(filepath=e.tmp / "missing.bin"),
        CE,
        "no such file",
    )
    yield Row(
        "Client.upload",
        "filepath a folder",
        lambda e: e.client.upload(filepath=e.tmp),
        CE,
        "is a directory",
    )
    yield Row(
        "Client.upload",
        "file_obj int",
        lambda e: e.client.upload(file_obj=1),
        CE,
        "read() method",
    )
    yield Row(
        "Client.upload",
        "file_obj text mode",
        lambda e: e.client.upload(file_obj=_text_file(e)),
        CE,
        "binary mode",
    )
    yield Row(
        "Client.upload",
        "file_obj opened for writing",
        lambda e: e.client.upload(file_obj=_binary_file(e, "wb")),
        CE,
        "not open for reading",
    )
    yield Row(
        "Client.upload",
        "file_obj closed",
        lambda e: e.client.upload(file_obj=_binary_file(e, "rb", closed=True)),
        CE,
        "file_obj is closed",
    )
    yield Row(
        "Client.upload",
        "on a closed client",
        lambda e: _closed_client(e, "upload", content=b"x"),
        CE,
        "client is closed",
    )
    yield Row(
        "Client.filelink",
        "on a closed client",
        lambda e: _closed_client(e, "filelink", HANDLE),
        CE,
        "client is closed",
    )
    yield Row(
        "Client.upload",
        "resume int",
        lambda e: e.client.upload(filepath=__file__, resume=5),
        CE,
        "resume must be a str or os.PathLike",
    )
    yield Row(
        "Client.upload",
        "resume bytes",
        lambda e: e.client.upload(filepath=__file__, resume=b"/tmp/cp"),
        CE,
        "resume must be a str or os.PathLike",
    )
    yield Row(
        "Client.upload",
        "resume a folder",
        lambda e: e.client.upload(filepath=__file__, resume=e.tmp),
        CE,
        "is a folder, not a checkpoint file",
    )
    yield Row(
        "Client.upload",
        "resume in a missing folder",
        lambda e: e.client.upload(filepath=__file__, resume=e.tmp / "no" / "cp"),
        CE,
        "does not exist; create it first",
    )
    yield Row(
        "Client.upload",
        "resume with content",
        lambda e: e.client.upload(content=b"x", resume=e.tmp / "cp"),
        CE,
        "resume= needs a source a later run can read again",
    )
    yield Row(
        "Client.upload",
        "resume with a stream",
        lambda e: e.client.upload(stream=_no_chunks(), size=0, resume=e.tmp / "cp"),
        CE,
        "resume= needs a source a later run can read again",
    )
    yield Row(
        "Client.upload",
        "resume with intelligent='fallback'",
        lambda e: e.client.upload(filepath=__file__, intelligent="fallback", resume=e.tmp / "cp"),
        CE,
        "resume= does not work with intelligent='fallback'",
    )
    yield Row(
        "Client.upload",
        "resume: a truncated checkpoint",
        lambda e: e.client.upload(filepath=__file__, resume=_checkpoint(e, b'{"version": 1, ')),
        filestack_async.CheckpointError,
        "is not valid JSON",
    )
    yield Row(
        "Client.upload",
        "resume: a checkpoint of another format",
        lambda e: e.client.upload(
            filepath=__file__,
            resume=_checkpoint(e, b'{"kind": "filestack-async upload checkpoint", "version": 9}'),
        ),
        filestack_async.CheckpointError,
        "format version",
    )
    yield Row(
        "Client.upload",
        "stream bytes",
        lambda e: e.client.upload(stream=b"abc"),
        CE,
        "async iterable of bytes",
    )
    yield Row(
        "Client.upload",
        "size negative",
        lambda e: e.client.upload(stream=_no_chunks(), size=-1),
        CE,
        "size must not be negative",
    )
    yield Row(
        "Client.upload",
        "size str",
        lambda e: e.client.upload(stream=_no_chunks(), size="10"),
        CE,
        "size must be an int",
    )
    yield Row(
        "Client.upload",
        "size with content",
        lambda e: e.client.upload(content=b"x", size=1),
        CE,
        "size= only goes with",
    )
    yield Row(
        "Client.upload",
        "store_params int",
        lambda e: e.client.upload(content=b"x", store_params=1),
        CE,
        "store_params must be a dict",
    )
    yield Row(
        "Client.upload",
        "unknown store param",
        lambda e: e.client.upload(content=b"x", store_params={"bucket": "b"}),
        CE,
        "unknown store parameter 'bucket'",
    )
    yield Row(
        "Client.upload",
        "store param of a wrong type",
        lambda e: e.client.upload(content=b"x", store_params={"path": 5}),
        CE,
        "'path' must be a string",
    )
    yield Row(
        "Client.upload",
        "store access not public/private",
        lambda e: e.client.upload(content=b"x", store_params={"access": "open"}),
        CE,
        "'public' or 'private'",
    )
    yield Row(
        "Client.upload",
        "eleven upload_tags",
        lambda e: e.client.upload(
            content=b"x", store_params={"upload_tags": {str(i): "v" for i in range(11)}}
        ),
        CE,
        "at most 10",
    )
    yield Row(
        "Client.upload",
        "alt int",
        lambda e: e.client.upload(content=b"x", store_params={"alt": 3}),
        CE,
        "'alt' must be a string",
    )
    yield Row(
        "Client.upload",
        "workflow dict without id",
        lambda e: e.client.upload(content=b"x", store_params={"workflows": [{"name": "w"}]}),
        CE,
        "non-empty strings or {'id': ...} dicts",
    )
    yield Row(
        "Client.upload",
        "intelligent 'Fallback'",
        lambda e: e.client.upload(content=b"x", intelligent="Fallback"),
        CE,
        "intelligent must be True, False or 'fallback'",
    )
    yield Row(
        "Client.upload",
        "intelligent str",
        lambda e: e.client.upload(content=b"x", intelligent="yes"),
        CE,
        "intelligent must be True, False or 'fallback'",
    )
    yield Row(
        "Client.upload",
        "security str",
        lambda e: e.client.upload(content=b"x", security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Client.upload",
        "progress not callable",
        lambda e: e.client.upload(content=b"x", progress=1),
        CE,
        "progress must be a callable",
    )
    yield Row(
        "Client.upload_many",
        "items int",
        lambda e: e.client.upload_many(1),
        CE,
        "items must be a list",
    )
    yield Row(
        "Client.upload_many",
        "items None",
        lambda e: e.client.upload_many(None),
        CE,
        "items must be a list",
    )
    yield Row(
        "Client.upload_many",
        "one path as a str",
        lambda e: e.client.upload_many("a.txt"),
        CE,
        "items must be a list",
    )
    yield Row(
        "Client.upload_many",
        "concurrency 0",
        lambda e: e.client.upload_many([b"x"], concurrency=0),
        CE,
        "concurrency must be an int of at least 1",
    )
    yield Row(
        "Client.upload_many",
        "store_params int",
        lambda e: e.client.upload_many([b"x"], store_params=1),
        CE,
        "store_params must be a dict",
    )
    yield Row(
        "Client.upload_many",
        "security str",
        lambda e: e.client.upload_many([b"x"], security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Client.upload_many",
        "intelligent int",
        lambda e: e.client.upload_many([b"x"], intelligent=1),
        CE,
        "intelligent must be True, False or 'fallback'",
    )
    yield Row(
        "Client.upload_many",
        "progress not callable",
        lambda e: e.client.upload_many([b"x"], progress="bar"),
        CE,
        "progress must be a callable",
    )
    yield Row(
        "Client.upload_many",
        "an int item (the item's result)",
        lambda e: _first_item_error(e.client.upload_many([7])),
        CE,
        "an upload item must be",
    )
    yield Row(
        "UploadItem",
        "two sources (the item's result)",
        lambda e: _first_item_error(
            e.client.upload_many([fa.UploadItem(content=b"x", filepath=__file__)])
        ),
        CE,
        "give exactly one",
    )
    yield Row(
        "UploadItem",
        "file_obj text mode (the item's result)",
        lambda e: _first_item_error(e.client.upload_many([fa.UploadItem(file_obj=_text_file(e))])),
        CE,
        "binary mode",
    )
    yield Row(
        "UploadItem",
        "content str (the item's result)",
        lambda e: _first_item_error(e.client.upload_many([fa.UploadItem(content="text")])),
        CE,
        "content must be bytes, not str",
    )
    yield Row(
        "UploadItem",
        "stream bytes (the item's result)",
        lambda e: _first_item_error(e.client.upload_many([fa.UploadItem(stream=b"x")])),
        CE,
        "async iterable of bytes",
    )
    yield Row(
        "UploadItem",
        "size negative (the item's result)",
        lambda e: _first_item_error(
            e.client.upload_many([fa.UploadItem(stream=_no_chunks(), size=-1)])
        ),
        CE,
        "size must not be negative",
    )
    yield Row(
        "UploadItem",
        "unknown key in store_params (the item's result)",
        lambda e: _first_item_error(
            e.client.upload_many([fa.UploadItem(content=b"x", store_params={"bucket": "b"})])
        ),
        CE,
        "unknown store parameter 'bucket'",
    )
    yield Row(
        "UploadItem",
        "filepath int (the item's result)",
        lambda e: _first_item_error(e.client.upload_many([fa.UploadItem(filepath=5)])),
        CE,
        "filepath must be a str or os.PathLike",
    )

    # -- Filelink -----------------------------------------------------------------------
    yield Row("Filelink", "handle None", lambda e: e.api.Filelink(None), CE, "handle must be")
    yield Row("Filelink", "handle with a slash", lambda e: e.api.Filelink("a/b"), CE, "not a URL")
    yield Row(
        "Filelink",
        "apikey int",
        lambda e: e.api.Filelink(HANDLE, apikey=5),
        CE,
        "apikey must be a non-empty string",
    )
    yield Row(
        "Filelink",
        "apikey empty",
        lambda e: e.api.Filelink(HANDLE, apikey=""),
        CE,
        "apikey must be a non-empty string",
    )
    yield Row(
        "Filelink",
        "security a tuple",
        lambda e: e.api.Filelink(HANDLE, security=("p", "s")),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Filelink",
        "upload_response a str",
        lambda e: e.api.Filelink(HANDLE, upload_response="{}"),
        CE,
        "upload_response must be a dict",
    )
    yield Row(
        "Filelink",
        "context not a Context",
        lambda e: e.api.Filelink(HANDLE, context=object()),
        CE,
        "context must be a Context",
    )
    yield Row(
        "Filelink.signed_url",
        "no security anywhere",
        lambda e: e.api.Filelink(HANDLE).signed_url(),
        CE,
        "security is required to sign a URL",
    )
    yield Row(
        "Filelink.signed_url",
        "security str",
        lambda e: e.link.signed_url("p:x,s:y"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Filelink.signed_url",
        "call a str",
        lambda e: e.link.signed_url(call="read"),
        CE,
        "call must be a list of strings",
    )
    yield Row(
        "Filelink.signed_url",
        "call empty",
        lambda e: e.link.signed_url(call=[]),
        CE,
        "at least one call",
    )
    yield Row(
        "Filelink.signed_url",
        "call unknown",
        lambda e: e.link.signed_url(call=["read", "fly"]),
        CE,
        "unknown values",
    )
    yield Row(
        "Filelink.signed_url",
        "call beyond the link's policy",
        lambda e: e.link.signed_url(call=["read", "pick"]),
        CE,
        "does not allow the call(s) ['pick']",
    )
    yield Row(
        "Filelink.signed_url",
        "expires_in 0",
        lambda e: e.link.signed_url(expires_in=0),
        CE,
        "expires_in must be a positive number",
    )
    yield Row(
        "Filelink.signed_url",
        "expires_in str",
        lambda e: e.link.signed_url(expires_in="3600"),
        CE,
        "expires_in must be a finite number",
    )
    yield Row(
        "Filelink.signed_url",
        "expires_in NaN",
        lambda e: e.link.signed_url(expires_in=float("nan")),
        CE,
        "expires_in must be a finite number",
    )
    yield Row(
        "Filelink.signed_url",
        "expires_in with a ready-made policy",
        lambda e: e.link.signed_url(READY_MADE, expires_in=60),
        CE,
        "need a Security that holds the app secret",
    )
    yield Row(
        "Filelink.get_content",
        "security str",
        lambda e: e.link.get_content(security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Filelink.download",
        "destination None",
        lambda e: e.link.download(None),
        CE,
        "destination must be a path or a binary file object",
    )
    yield Row(
        "Filelink.download",
        "destination int",
        lambda e: e.link.download(3),
        CE,
        "destination must be a path or a binary file object",
    )
    yield Row(
        "Filelink.download",
        "text-mode file",
        lambda e: e.link.download(_text_file(e)),
        CE,
        "binary mode",
    )
    yield Row(
        "Filelink.download",
        "file opened for reading",
        lambda e: e.link.download(_binary_file(e, "rb")),
        CE,
        "not open for writing",
    )
    yield Row(
        "Filelink.download",
        "closed file",
        lambda e: e.link.download(_binary_file(e, "wb", closed=True)),
        CE,
        "destination is closed",
    )
    yield Row(
        "Filelink.download",
        "a missing folder",
        lambda e: e.link.download(e.tmp / "none" / "f"),
        CE,
        "does not exist",
    )
    yield Row(
        "Filelink.download",
        "a file name longer than NAME_MAX",
        lambda e: e.link.download(e.tmp / ("a" * 256)),
        CE,
        "file name is 256 bytes",
    )
    yield Row(
        "Filelink.download",
        "a file name with a lone surrogate",
        lambda e: e.link.download(e.tmp / "a\ud800b"),
        CE,
        "file system cannot take",
    )
    yield Row(
        "Filelink.download",
        "security str",
        lambda e: e.link.download(e.tmp / "f", security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Filelink.metadata",
        "attributes_list: one name as a str",
        lambda e: e.link.metadata("size"),
        CE,
        "attributes_list must be a list",
    )
    yield Row(
        "Filelink.metadata",
        "attributes_list int",
        lambda e: e.link.metadata(5),
        CE,
        "attributes_list must be a list",
    )
    yield Row(
        "Filelink.metadata",
        "attributes_list with an unknown name",
        lambda e: e.link.metadata(["size", "colour"]),
        CE,
        "unknown metadata attribute 'colour'",
    )
    yield Row(
        "Filelink.metadata",
        "security str",
        lambda e: e.link.metadata(security="x"),
        CE,
        "security must be a Security",
    )
    for task in ("tags", "sfw", "ocr"):
        yield Row(
            f"Filelink.{task}",
            "no security anywhere",
            _on(lambda e: e.api.Filelink(HANDLE), task),
            CE,
            f"security is required to call {task}",
        )
        yield Row(
            f"Filelink.{task}",
            "security str",
            _on(lambda e: e.link, task, security="x"),
            CE,
            "security must be a Security",
        )
    yield Row("Filelink.overwrite", "no source", lambda e: e.link.overwrite(), CE, "exactly one")
    yield Row(
        "Filelink.overwrite",
        "two sources",
        lambda e: e.link.overwrite(content=b"x", url="https://a.io/x"),
        CE,
        "exactly one",
    )
    yield Row(
        "Filelink.overwrite",
        "content str",
        lambda e: e.link.overwrite(content="x"),
        CE,
        "content must be bytes",
    )
    yield Row(
        "Filelink.overwrite",
        "url int",
        lambda e: e.link.overwrite(url=5),
        CE,
        "url must be an http(s) URL",
    )
    yield Row(
        "Filelink.overwrite",
        "url not http",
        lambda e: e.link.overwrite(url="file:///etc/passwd"),
        CE,
        "url must be an http(s) URL",
    )
    yield Row(
        "Filelink.overwrite",
        "filepath int",
        lambda e: e.link.overwrite(filepath=5),
        CE,
        "filepath must be a str or os.PathLike",
    )
    yield Row(
        "Filelink.overwrite",
        "filepath missing",
        lambda e: e.link.overwrite(filepath=e.tmp / "missing"),
        CE,
        "no such file",
    )
    yield Row(
        "Filelink.overwrite",
        "file_obj text mode",
        lambda e: e.link.overwrite(file_obj=_text_file(e)),
        CE,
        "binary mode",
    )
    yield Row(
        "Filelink.overwrite",
        "file_obj opened for writing",
        lambda e: e.link.overwrite(file_obj=_binary_file(e, "wb")),
        CE,
        "not open for reading",
    )
    yield Row(
        "Filelink.overwrite",
        "base64decode str",
        lambda e: e.link.overwrite(content=b"x", base64decode="yes"),
        CE,
        "base64decode must be a bool",
    )
    yield Row(
        "Filelink.overwrite",
        "no security anywhere",
        lambda e: e.api.Filelink(HANDLE).overwrite(content=b"x"),
        CE,
        "security is required to overwrite",
    )
    yield Row(
        "Filelink.delete",
        "apikey int",
        lambda e: e.link.delete(apikey=5),
        CE,
        "apikey must be a non-empty string",
    )
    yield Row(
        "Filelink.delete",
        "no API key anywhere",
        lambda e: e.api.Filelink(HANDLE, security=SECURITY).delete(),
        CE,
        "an API key is required",
    )
    yield Row(
        "Filelink.delete",
        "security str",
        lambda e: e.link.delete(security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Filelink.remove_metadata",
        "apikey int",
        lambda e: e.link.remove_metadata(apikey=5),
        CE,
        "apikey must be a non-empty string",
    )
    yield Row(
        "Filelink.remove_metadata",
        "no API key anywhere",
        lambda e: e.api.Filelink(HANDLE, security=SECURITY).remove_metadata(),
        CE,
        "an API key is required to remove a file's metadata",
    )
    yield Row(
        "Filelink.remove_metadata",
        "no security anywhere",
        lambda e: e.api.Filelink(HANDLE).remove_metadata(apikey="K"),
        CE,
        "security is required to remove a file's metadata",
    )
    yield Row(
        "Filelink.remove_metadata",
        "security str",
        lambda e: e.link.remove_metadata(security="x"),
        CE,
        "security must be a Security",
    )

    # -- Transformation -----------------------------------------------------------------
    yield Row(
        "Transformation",
        "no source",
        lambda e: e.api.Transformation(APIKEY),
        CE,
        "give exactly one of handle=",
    )
    yield Row(
        "Transformation",
        "two sources",
        lambda e: e.api.Transformation(APIKEY, handle=HANDLE, external_url="https://a.io/x"),
        CE,
        "give exactly one of handle=",
    )
    yield Row(
        "Transformation",
        "handle int",
        lambda e: e.api.Transformation(handle=5),
        CE,
        "handle must be a string",
    )
    yield Row(
        "Transformation",
        "external_url not http",
        lambda e: e.api.Transformation(APIKEY, external_url="ftp://a.io/x"),
        CE,
        "external_url must be an http(s) URL",
    )
    yield Row(
        "Transformation",
        "handles a str",
        lambda e: e.api.Transformation(APIKEY, handles=HANDLE),
        CE,
        "handles must be a non-empty list",
    )
    yield Row(
        "Transformation",
        "external URL without an API key",
        lambda e: e.api.Transformation(external_url="https://a.io/x"),
        CE,
        "an API key is required",
    )
    yield Row(
        "Transformation",
        "apikey int",
        lambda e: e.api.Transformation(5, handle=HANDLE),
        CE,
        "apikey must be a non-empty string",
    )
    yield Row(
        "Transformation",
        "security str",
        lambda e: e.api.Transformation(handle=HANDLE, security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Transformation",
        "context not a Context",
        lambda e: e.api.Transformation(handle=HANDLE, context={}),
        CE,
        "context must be a Context",
    )
    yield Row(
        "Transformation.signed_url",
        "no security anywhere",
        lambda e: e.api.Transformation(handle=HANDLE).signed_url(),
        CE,
        "security is required to sign a URL",
    )
    yield Row(
        "Transformation.signed_url",
        "security str",
        lambda e: e.chain.signed_url("x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Transformation.signed_url",
        "call a str",
        lambda e: e.chain.signed_url(call="convert"),
        CE,
        "call must be a list of strings",
    )
    yield Row(
        "Transformation.signed_url",
        "call beyond the chain's policy",
        lambda e: e.chain.signed_url(call=["convert", "exif"]),
        CE,
        "does not allow the call(s) ['exif']",
    )
    yield Row(
        "Transformation.signed_url",
        "expires_in negative",
        lambda e: e.chain.signed_url(expires_in=-1),
        CE,
        "expires_in must be a positive number",
    )
    yield Row(
        "Transformation.signed_url",
        "call with a ready-made policy",
        lambda e: e.chain.signed_url(READY_MADE, call=["read"]),
        CE,
        "need a Security that holds the app secret",
    )
    yield Row(
        "Transformation.get_content",
        "security str",
        lambda e: e.chain.get_content(security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Transformation.download",
        "path None",
        lambda e: e.chain.download(None),
        CE,
        "destination must be a path",
    )
    yield Row(
        "Transformation.download",
        "path a folder",
        lambda e: e.chain.download(e.tmp),
        CE,
        "is a directory",
    )
    yield Row(
        "Transformation.download",
        "a file name longer than NAME_MAX",
        lambda e: e.chain.download(e.tmp / ("é" * 128)),
        CE,
        "file name is 256 bytes",
    )
    yield Row(
        "Transformation.download",
        "security str",
        lambda e: e.chain.download(e.tmp / "f", security="x"),
        CE,
        "security must be a Security",
    )
    for bad, call, match in (
        ("destination int", lambda e: e.chain.download(3), "destination must be a path or"),
        ("text-mode file", lambda e: e.chain.download(_text_file(e)), "binary mode"),
        (
            "file opened for reading",
            lambda e: e.chain.download(_binary_file(e, "rb")),
            "not open for writing",
        ),
        (
            "closed file",
            lambda e: e.chain.download(_binary_file(e, "wb", closed=True)),
            "destination is closed",
        ),
    ):
        yield Row("Transformation.download", bad, call, CE, match)
    yield from _stream_rows()
    yield Row(
        "Filelink.with_tasks",
        "tasks an int",
        lambda e: e.link.with_tasks(5),
        CE,
        "tasks must be URL grammar",
    )
    yield Row(
        "Filelink.with_tasks",
        "an unknown task",
        lambda e: e.link.with_tasks("fly"),
        CE,
        "fly",
    )
    for owner, target in (("Filelink", "link"), ("Transformation", "chain")):
        for bad, call, match in (
            ("name with a slash", lambda e, t=target: getattr(e, t).custom_task("a/b"), "letters"),
            ("name an int", lambda e, t=target: getattr(e, t).custom_task(5), "custom task name"),
            (
                "name security",
                lambda e, t=target: getattr(e, t).custom_task("security"),
                "give security=",
            ),
            (
                "a string with a double quote",
                lambda e, t=target: getattr(e, t).custom_task("x", v='a"b'),
                "without double quotes",
            ),
            (
                "params: a dict value",
                lambda e, t=target: getattr(e, t).custom_task("x", v={"a": 1}),
                "bool, number, string or list",
            ),
            (
                "a parameter name with a colon",
                lambda e, t=target: getattr(e, t).custom_task("x", **{"a:b": 1}),
                "parameter name must be",
            ),
        ):
            yield Row(f"{owner}.custom_task", bad, call, CE, match)
    yield Row(
        "Filelink.preview_url",
        "css an int",
        lambda e: e.link.preview_url(5),
        CE,
        "preview: parameter 'css'",
    )
    yield Row(
        "Filelink.preview_url",
        "security a str",
        lambda e: e.link.preview_url(security="p:x,s:y"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Filelink.preview_url",
        "expires_in negative",
        lambda e: e.link.preview_url(expires_in=-1),
        CE,
        "expires_in",
    )
    yield Row(
        "Transformation.with_tasks",
        "tasks an int",
        lambda e: e.chain.with_tasks(5),
        CE,
        "tasks must be URL grammar",
    )
    yield Row(
        "Transformation.with_tasks",
        "tasks bytes",
        lambda e: e.chain.with_tasks(b"flip"),
        CE,
        "tasks must be URL grammar",
    )
    yield Row(
        "Transformation.with_tasks",
        "a list holding a str",
        lambda e: e.chain.with_tasks(["flip"]),
        CE,
        "tasks must hold Task objects, not str",
    )
    yield Row(
        "Transformation.with_tasks",
        "an unknown task",
        lambda e: e.chain.with_tasks("resize=width:10/fly"),
        CE,
        "fly",
    )
    yield Row(
        "Transformation.with_tasks",
        "a value out of range",
        lambda e: e.chain.with_tasks("resize=width:0"),
        CE,
        "width",
    )
    yield Row(
        "Transformation.with_tasks",
        "an unclosed bracket",
        lambda e: e.chain.with_tasks("crop=dim:[1,2"),
        CE,
        "crop",
    )
    yield Row(
        "Transformation.with_tasks",
        "a security task",
        lambda e: e.chain.with_tasks("security=p:x,s:y/flip"),
        CE,
        "must not hold a security task",
    )
    for method in ("store_task", "av_convert_task"):
        yield Row(
            f"Transformation.{method}",
            "task a str",
            _on(lambda e: e.chain, method, task="flip"),
            CE,
            "task must be a Task named",
        )
        yield Row(
            f"Transformation.{method}",
            "task of another name",
            _on(lambda e: e.chain, method, task=_flip_task()),
            CE,
            "not the 'flip' task",
        )
    yield Row(
        "Transformation.store_task",
        "security str",
        lambda e: e.chain.store_task(build_task("store"), security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Transformation.av_convert_task",
        "security str",
        lambda e: e.chain.av_convert_task(
            build_task("video_convert", {"preset": "h264"}), security="x"
        ),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Transformation.request_url",
        "security str",
        lambda e: e.chain.request_url("x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Transformation.debug",
        "security str",
        lambda e: e.chain.debug(security="x"),
        CE,
        "security must be a Security",
    )
    for task in ("tags", "sfw", "ocr"):
        yield Row(
            f"Transformation.{task}",
            "no security anywhere",
            _on(lambda e: e.api.Transformation(handle=HANDLE).flip(), task),
            CE,
            f"security is required to call {task}",
        )
        yield Row(
            f"Transformation.{task}",
            "security str",
            _on(lambda e: e.chain, task, security="x"),
            CE,
            "security must be a Security",
        )
    yield from _task_rows()

    # -- AudioVisual ----------------------------------------------------------------------
    yield Row(
        "AudioVisual",
        "url int",
        lambda e: e.api.AudioVisual(5, "uuid", "1"),
        CE,
        "url must be the conversion's http(s) URL",
    )
    yield Row(
        "AudioVisual",
        "url not http",
        lambda e: e.api.AudioVisual("ftp://x/video_convert/" + HANDLE, "uuid", "1"),
        CE,
        "url must be the conversion's http(s) URL",
    )
    yield Row(
        "AudioVisual",
        "url without a source",
        lambda e: e.api.AudioVisual(f"{CDN}/", "uuid", "1"),
        CE,
        "no source",
    )
    yield Row(
        "AudioVisual",
        "uuid int",
        lambda e: e.api.AudioVisual(AV_URL, 5, "1"),
        CE,
        "uuid must be",
    )
    yield Row(
        "AudioVisual",
        "timestamp None",
        lambda e: e.api.AudioVisual(AV_URL, "uuid", None),
        CE,
        "timestamp must be a string",
    )
    yield Row(
        "AudioVisual",
        "security str",
        lambda e: e.api.AudioVisual(AV_URL, "uuid", "1", security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "AudioVisual",
        "apikey int",
        lambda e: e.api.AudioVisual(f"{CDN}/video_convert/https://a.io/v.mp4", "u", "1", 5),
        CE,
        "apikey must be a non-empty string",
    )
    yield Row(
        "AudioVisual",
        "payload a str",
        lambda e: e.api.AudioVisual(AV_URL, "uuid", "1", payload="{}"),
        CE,
        "payload must be a dict",
    )
    yield Row(
        "AudioVisual",
        "transformation not a Transformation",
        lambda e: e.api.AudioVisual(AV_URL, "uuid", "1", transformation=object()),
        CE,
        "transformation must be",
    )
    yield Row(
        "AudioVisual.wait_until_complete",
        "timeout negative",
        lambda e: e.av.wait_until_complete(timeout=-1),
        CE,
        "must not be negative",
    )
    yield Row(
        "AudioVisual.wait_until_complete",
        "timeout str",
        lambda e: e.av.wait_until_complete(timeout="60"),
        CE,
        "timeout must be a number of seconds",
    )
    yield Row(
        "AudioVisual.wait_until_complete",
        "max_delay None",
        lambda e: e.av.wait_until_complete(max_delay=None),
        CE,
        "max_delay must be a number of seconds",
    )
    yield Row(
        "AudioVisual.wait_until_complete",
        "clock not callable",
        lambda e: e.av.wait_until_complete(clock=0.0),
        CE,
        "clock must be a callable",
    )
    yield Row(
        "AudioVisual",
        "context not a Context",
        lambda e: e.api.AudioVisual(AV_URL, "uuid", "1", context="client"),
        CE,
        "context must be a Context",
    )
    yield Row(
        "AudioVisual.wait_until_complete",
        "initial_delay str",
        lambda e: e.av.wait_until_complete(initial_delay="1s"),
        CE,
        "initial_delay must be a number of seconds",
    )
    yield Row(
        "AudioVisual.wait_until_complete",
        "jitter str",
        lambda e: e.av.wait_until_complete(jitter="no"),
        CE,
        "jitter must be True or False",
    )
    yield Row(
        "AudioVisual.wait_until_complete",
        "progress not callable",
        lambda e: e.av.wait_until_complete(progress="log"),
        CE,
        "progress must be a callable",
    )

    # -- Security and webhooks ------------------------------------------------------------
    yield Row(
        "Security", "policy a str", lambda e: fa.Security('{"expiry": 1}', SECRET), CE, "mapping"
    )
    yield Row("Security", "policy None", lambda e: fa.Security(None, SECRET), CE, "mapping")
    yield Row(
        "Security",
        "secret bytes",
        lambda e: fa.Security({"expiry": 1}, SECRET.encode()),
        CE,
        "app secret must be a non-empty string",
    )
    yield Row(
        "Security",
        "secret empty",
        lambda e: fa.Security({"expiry": 1}, ""),
        CE,
        "app secret must be a non-empty string",
    )
    yield Row(
        "Security",
        "expiry str",
        lambda e: fa.Security({"expiry": "tomorrow"}, SECRET),
        CE,
        "'expiry' must be int",
    )
    yield Row(
        "Security",
        "expiry negative",
        lambda e: fa.Security({"expiry": -5}, SECRET),
        CE,
        "'expiry' must not be negative",
    )
    yield Row(
        "Security",
        "call a str",
        lambda e: fa.Security({"expiry": 1, "call": "read"}, SECRET),
        CE,
        "'call' must be list",
    )
    yield Row(
        "Security",
        "unknown call",
        lambda e: fa.Security({"expiry": 1, "call": ["fly"]}, SECRET),
        CE,
        "unknown values ['fly']",
    )
    yield Row(
        "Security",
        "maxSize bool",
        lambda e: fa.Security({"expiry": 1, "maxSize": True}, SECRET),
        CE,
        "'maxSize' must be int",
    )
    yield Row(
        "Security",
        "handle int",
        lambda e: fa.Security({"expiry": 1, "handle": 5}, SECRET),
        CE,
        "'handle' must be str",
    )
    yield Row(
        "Security",
        "non-string key",
        lambda e: fa.Security({1: "x"}, SECRET),
        CE,
        "policy keys must be strings",
    )
    yield Row(
        "Security",
        "a value JSON cannot hold",
        lambda e: fa.Security({"expiry": 1, "extra": object()}, SECRET),
        CE,
        "cannot be encoded as JSON",
    )
    with_secret = {"FILESTACK_APP_SECRET": SECRET}
    yield Row(
        "Security.from_env",
        "FILESTACK_APP_SECRET unset",
        lambda e: fa.Security.from_env(environ={}),
        CE,
        "$FILESTACK_APP_SECRET is not set",
    )
    yield Row(
        "Security.from_env",
        "environ a list",
        lambda e: fa.Security.from_env(environ=cast(Any, [])),
        CE,
        "environ must be a mapping",
    )
    yield Row(
        "Security.from_env",
        "expires_in negative",
        lambda e: fa.Security.from_env(expires_in=-1, environ=with_secret),
        CE,
        "expires_in",
    )
    yield Row(
        "Security.from_env",
        "call a string",
        lambda e: fa.Security.from_env(call=cast(Any, "read"), environ=with_secret),
        CE,
        "call",
    )
    yield Row(
        "Security.from_env",
        "handle int",
        lambda e: fa.Security.from_env(handle=cast(Any, 1), environ=with_secret),
        CE,
        "handle",
    )
    yield Row(
        "Security.from_env",
        "path int",
        lambda e: fa.Security.from_env(path=cast(Any, 1), environ=with_secret),
        CE,
        "path",
    )
    yield Row(
        "Security.create",
        "neither expiry nor expires_in",
        lambda e: fa.Security.create(SECRET),
        CE,
        "give exactly one of expiry= or expires_in=",
    )
    yield Row(
        "Security.create",
        "both expiry and expires_in",
        lambda e: fa.Security.create(SECRET, expiry=1, expires_in=60),
        CE,
        "give exactly one of expiry= or expires_in=",
    )
    yield Row(
        "Security.create",
        "expires_in 0 (already expired)",
        lambda e: fa.Security.create(SECRET, expires_in=0),
        CE,
        "already be expired",
    )
    yield Row(
        "Security.create",
        "expires_in negative (already expired)",
        lambda e: fa.Security.create(SECRET, expires_in=-60),
        CE,
        "already be expired",
    )
    yield Row(
        "Security.create",
        "expires_in str",
        lambda e: fa.Security.create(SECRET, expires_in="60"),
        CE,
        "expires_in must be a finite number",
    )
    yield Row(
        "Security.create",
        "expiry str",
        lambda e: fa.Security.create(SECRET, expiry="2030-01-01"),
        CE,
        "expiry must be unix seconds",
    )
    yield Row(
        "Security.create",
        "expiry infinite",
        lambda e: fa.Security.create(SECRET, expiry=float("inf")),
        CE,
        "expiry must be unix seconds",
    )
    yield Row(
        "Security.create",
        "expiry bool",
        lambda e: fa.Security.create(SECRET, expiry=True),
        CE,
        "expiry must be unix seconds",
    )
    yield Row(
        "Security.create",
        "call a str",
        lambda e: fa.Security.create(SECRET, expiry=1, call="read"),
        CE,
        "call must be a list of strings",
    )
    yield Row(
        "Security.create",
        "call int",
        lambda e: fa.Security.create(SECRET, expiry=1, call=5),
        CE,
        "call must be a list of strings",
    )
    yield Row(
        "Security.create",
        "unknown call",
        lambda e: fa.Security.create(SECRET, expiry=1, call=["read", "fly"]),
        CE,
        "unknown values ['fly']",
    )
    yield Row(
        "Security.create",
        "max_size str",
        lambda e: fa.Security.create(SECRET, expiry=1, max_size="1MB"),
        CE,
        "'maxSize' must be int",
    )
    yield Row(
        "Security.create",
        "max_size negative",
        lambda e: fa.Security.create(SECRET, expiry=1, max_size=-1),
        CE,
        "'maxSize' must not be negative",
    )
    yield Row(
        "Security.create",
        "min_size above max_size",
        lambda e: fa.Security.create(SECRET, expiry=1, max_size=1, min_size=2),
        CE,
        "min_size must not be larger than max_size",
    )
    yield Row(
        "Security.create",
        "handle int",
        lambda e: fa.Security.create(SECRET, expiry=1, handle=5),
        CE,
        "'handle' must be str",
    )
    yield Row(
        "Security.create",
        "url int",
        lambda e: fa.Security.create(SECRET, expiry=1, url=5),
        CE,
        "'url' must be str",
    )
    yield Row(
        "Security.create",
        "path bytes",
        lambda e: fa.Security.create(SECRET, expiry=1, path=b"uploads/"),
        CE,
        "'path' must be str",
    )
    yield Row(
        "Security.create",
        "container list",
        lambda e: fa.Security.create(SECRET, expiry=1, container=["a"]),
        CE,
        "'container' must be str",
    )
    yield Row(
        "Security.create",
        "secret None",
        lambda e: fa.Security.create(None, expiry=1),
        CE,
        "app secret must be a non-empty string",
    )
    yield Row(
        "Security.is_expired",
        "now str",
        lambda e: fa_security.is_expired("now"),
        CE,
        "now must be unix seconds",
    )
    yield Row(
        "Security.is_expired",
        "leeway None",
        lambda e: fa_security.is_expired(leeway=None),
        CE,
        "leeway must be a number of seconds",
    )
    yield Row(
        "Security.from_signature",
        "policy_b64 None",
        lambda e: fa.Security.from_signature(None, "0" * 64),
        CE,
        "policy_b64 must be a non-empty string",
    )
    yield Row(
        "Security.from_signature",
        "policy_b64 not base64",
        lambda e: fa.Security.from_signature("not base64!", "0" * 64),
        CE,
        "not base64-encoded JSON",
    )
    yield Row(
        "Security.from_signature",
        "policy_b64 with a bad field",
        lambda e: fa.Security.from_signature("eyJleHBpcnkiOiAic29vbiJ9", "0" * 64),
        CE,
        "'expiry' must be int",
    )
    yield Row(
        "Security.from_signature",
        "signature too short",
        lambda e: fa.Security.from_signature(SECURITY.policy_b64, "abc"),
        CE,
        "64 hexadecimal characters",
    )
    yield Row(
        "Security.from_signature",
        "signature None",
        lambda e: fa.Security.from_signature(SECURITY.policy_b64, None),
        CE,
        "64 hexadecimal characters",
    )
    yield Row(
        "Security.narrowed",
        "call a str",
        lambda e: fa_security.narrowed("read"),
        CE,
        "call must be a list of strings",
    )
    yield Row(
        "Security.narrowed",
        "call empty",
        lambda e: fa_security.narrowed([]),
        CE,
        "at least one call",
    )
    yield Row(
        "Security.narrowed",
        "call beyond the policy",
        lambda e: fa_security.narrowed(["pick"]),
        CE,
        "does not allow the call(s) ['pick']",
    )
    yield Row(
        "Security.narrowed",
        "handle int",
        lambda e: fa_security.narrowed(["read"], handle=5),
        CE,
        "handle must be a non-empty string",
    )
    yield Row(
        "Security.narrowed",
        "url empty",
        lambda e: fa_security.narrowed(["read"], url=""),
        CE,
        "url must be a non-empty string",
    )
    yield Row(
        "Security.narrowed",
        "expires_in infinite",
        lambda e: fa_security.narrowed(["read"], expires_in=float("inf")),
        CE,
        "expires_in must be a finite number",
    )
    yield Row(
        "Security.narrowed",
        "now str",
        lambda e: fa_security.narrowed(["read"], now="now"),
        CE,
        "now must be unix seconds",
    )
    yield Row(
        "Security.narrowed",
        "a ready-made policy (no secret)",
        lambda e: READY_MADE.narrowed(["read"]),
        CE,
        "needs the app secret",
    )
    yield Row(
        "verify_webhook_signature",
        "secret None",
        lambda e: fa.verify_webhook_signature(None, "{}", WEBHOOK_HEADERS),
        CE,
        "webhook secret must be a non-empty string",
    )
    yield Row(
        "verify_webhook_signature",
        "body a dict",
        lambda e: fa.verify_webhook_signature("whsec", {"a": 1}, WEBHOOK_HEADERS),
        CE,
        "body must be str or bytes",
    )
    yield Row(
        "verify_webhook_signature",
        "body not UTF-8",
        lambda e: fa.verify_webhook_signature("whsec", b"\xff\xfe", WEBHOOK_HEADERS),
        CE,
        "not UTF-8",
    )
    yield Row(
        "verify_webhook_signature",
        "headers a list",
        lambda e: fa.verify_webhook_signature("whsec", "{}", list(WEBHOOK_HEADERS.items())),
        CE,
        "headers must be a mapping",
    )
    yield Row(
        "verify_webhook_signature",
        "no FS-Signature",
        lambda e: fa.verify_webhook_signature("whsec", "{}", {"FS-Timestamp": "1"}),
        CE,
        "FS-Signature header is missing",
    )
    yield Row(
        "verify_webhook_signature",
        "no FS-Timestamp",
        lambda e: fa.verify_webhook_signature("whsec", "{}", {"FS-Signature": "0" * 64}),
        CE,
        "FS-Timestamp header is missing",
    )
    yield Row(
        "verify_webhook_signature",
        "now str",
        lambda e: fa.verify_webhook_signature("whsec", "{}", WEBHOOK_HEADERS, now="now"),
        CE,
        "now must be unix seconds",
    )
    yield Row(
        "verify_webhook_signature",
        "secret with a lone surrogate",
        lambda e: fa.verify_webhook_signature("wh\ud800sec", "{}", WEBHOOK_HEADERS),
        CE,
        "webhook secret is not valid Unicode text",
    )
    yield Row(
        "verify_webhook_signature",
        "body with a lone surrogate",
        lambda e: fa.verify_webhook_signature("whsec", "{\udcff}", WEBHOOK_HEADERS),
        CE,
        "webhook body is not valid Unicode text",
    )
    yield Row(
        "verify_webhook_signature",
        "FS-Timestamp with a lone surrogate",
        lambda e: fa.verify_webhook_signature(
            "whsec", "{}", {**WEBHOOK_HEADERS, "FS-Timestamp": "1700000000\udc80"}
        ),
        CE,
        "FS-Timestamp header is not valid Unicode text",
    )
    yield Row(
        "verify_webhook_signature",
        "max_skew negative",
        lambda e: fa.verify_webhook_signature("whsec", "{}", WEBHOOK_HEADERS, max_skew=-1),
        CE,
        "max_skew must be a finite number of seconds, at least 0",
    )
    yield Row(
        "verify_webhook_signature",
        "max_skew str",
        lambda e: fa.verify_webhook_signature("whsec", "{}", WEBHOOK_HEADERS, max_skew="300"),
        CE,
        "max_skew must be a finite number",
    )
    yield Row(
        "verify_webhook_signature",
        "max_age str",
        lambda e: fa.verify_webhook_signature("whsec", "{}", WEBHOOK_HEADERS, max_age="300"),
        CE,
        "max_age must be a finite number",
    )

    # -- configuration values ------------------------------------------------------------
    yield Row("Timeouts", "connect 0", lambda e: fa.Timeouts(connect=0), CE, "connect timeout")
    yield Row("Timeouts", "read negative", lambda e: fa.Timeouts(read=-1), CE, "read timeout")
    yield Row("Timeouts", "write str", lambda e: fa.Timeouts(write="60"), CE, "write timeout")
    yield Row("Timeouts", "pool NaN", lambda e: fa.Timeouts(pool=float("nan")), CE, "NaN")
    yield Row("Timeouts", "total 0", lambda e: fa.Timeouts(total=0), CE, "total timeout")
    yield Row("Timeouts", "total str", lambda e: fa.Timeouts(total="120"), CE, "total timeout")
    yield Row("Timeouts", "min_rate 0", lambda e: fa.Timeouts(min_rate=0), CE, "min_rate")
    yield Row("Timeouts", "min_rate None", lambda e: fa.Timeouts(min_rate=None), CE, "min_rate")
    yield Row(
        "Timeouts", "min_rate infinite", lambda e: fa.Timeouts(min_rate=float("inf")), CE, "finite"
    )
    yield Row(
        "Timeouts",
        "max_answer_bytes 100",
        lambda e: fa.Timeouts(max_answer_bytes=100),
        CE,
        "max_answer_bytes must be at least 1024",
    )
    yield Row(
        "Timeouts",
        "max_answer_bytes float",
        lambda e: fa.Timeouts(max_answer_bytes=1e6),
        CE,
        "max_answer_bytes must be an int",
    )
    yield Row(
        "RetryPolicy",
        "max_retries negative",
        lambda e: fa.RetryPolicy(max_retries=-1),
        CE,
        "max_retries must be at least 0",
    )
    yield Row(
        "RetryPolicy",
        "max_retries str",
        lambda e: fa.RetryPolicy(max_retries="3"),
        CE,
        "max_retries must be an int",
    )
    yield Row(
        "RetryPolicy",
        "max_retries float",
        lambda e: fa.RetryPolicy(max_retries=1.5),
        CE,
        "max_retries must be an int",
    )
    yield Row(
        "RetryPolicy",
        "initial_delay negative",
        lambda e: fa.RetryPolicy(initial_delay=-1),
        CE,
        "initial_delay must not be negative",
    )
    yield Row(
        "RetryPolicy",
        "max_delay None",
        lambda e: fa.RetryPolicy(max_delay=None),
        CE,
        "max_delay must be a number of seconds",
    )
    yield Row(
        "RetryPolicy",
        "budget NaN",
        lambda e: fa.RetryPolicy(budget=float("nan")),
        CE,
        "budget must be a number of seconds, not NaN",
    )
    yield Row(
        "RetryPolicy",
        "max_retry_after negative",
        lambda e: fa.RetryPolicy(max_retry_after=-1),
        CE,
        "max_retry_after must not be negative",
    )
    yield Row(
        "RetryPolicy",
        "multiplier below 1",
        lambda e: fa.RetryPolicy(multiplier=0.5),
        CE,
        "multiplier must be at least 1",
    )
    yield Row(
        "RetryPolicy",
        "sleep not callable",
        lambda e: fa.RetryPolicy(sleep=1.0),
        CE,
        "sleep must be an async callable",
    )
    yield Row(
        "RetryPolicy",
        "sleep is time.sleep",
        lambda e: fa.RetryPolicy(sleep=time.sleep),
        CE,
        "time.sleep would block the event loop",
    )
    yield Row(
        "RetryPolicy",
        "random not callable",
        lambda e: fa.RetryPolicy(random=0.5),
        CE,
        "random must be a callable",
    )
    yield Row(
        "UploadConfig",
        "part_size below 5 MiB",
        lambda e: fa.UploadConfig(part_size=1024),
        CE,
        "part_size must be at least 5 MiB",
    )
    yield Row(
        "UploadConfig",
        "part_size str",
        lambda e: fa.UploadConfig(part_size="8MB"),
        CE,
        "part_size must be an int",
    )
    yield Row(
        "UploadConfig",
        "part_size negative",
        lambda e: fa.UploadConfig(part_size=-1),
        CE,
        "part_size must be at least 1",
    )
    yield Row(
        "UploadConfig",
        "progress_interval negative",
        lambda e: fa.UploadConfig(progress_interval=-1),
        CE,
        "progress_interval must not be negative",
    )
    yield Row(
        "UploadConfig",
        "progress_interval str",
        lambda e: fa.UploadConfig(progress_interval="1s"),
        CE,
        "progress_interval must be a number of seconds",
    )
    yield Row(
        "UploadConfig",
        "progress_interval NaN",
        lambda e: fa.UploadConfig(progress_interval=float("nan")),
        CE,
        "progress_interval must be a number of seconds, not NaN",
    )
    yield Row(
        "UploadConfig",
        "concurrency 0",
        lambda e: fa.UploadConfig(concurrency=0),
        CE,
        "concurrency must be at least 1",
    )
    yield Row(
        "UploadConfig",
        "concurrency float",
        lambda e: fa.UploadConfig(concurrency=2.5),
        CE,
        "concurrency must be an int",
    )
    yield Row(
        "UploadConfig",
        "max_parts_in_flight None",
        lambda e: fa.UploadConfig(max_parts_in_flight=None),
        CE,
        "max_parts_in_flight must be an int",
    )
    yield Row(
        "UploadConfig",
        "min_chunk_size above the first chunk",
        lambda e: fa.UploadConfig(min_chunk_size=16 * 1024 * 1024),
        CE,
        "min_chunk_size <= intelligent_chunk_size",
    )
    yield Row(
        "UploadConfig",
        "intelligent_chunk_size 0",
        lambda e: fa.UploadConfig(intelligent_chunk_size=0),
        CE,
        "intelligent_chunk_size must be at least 1",
    )
    yield Row(
        "UploadConfig",
        "complete_budget negative",
        lambda e: fa.UploadConfig(complete_budget=-1),
        CE,
        "complete_budget must not be negative",
    )
    yield Row(
        "UploadConfig",
        "integrity_check int",
        lambda e: fa.UploadConfig(integrity_check=0),
        CE,
        "integrity_check must be True or False, not int",
    )
    yield Row(
        "UploadConfig",
        "integrity_check str",
        lambda e: fa.UploadConfig(integrity_check="no"),
        CE,
        "integrity_check must be True or False, not str",
    )
    yield Row(
        "UploadConfig",
        "multipart_threshold negative",
        lambda e: fa.UploadConfig(multipart_threshold=-1),
        CE,
        "multipart_threshold must be at least 0",
    )
    yield Row(
        "UploadConfig",
        "multipart_threshold float",
        lambda e: fa.UploadConfig(multipart_threshold=1.5e6),
        CE,
        "multipart_threshold must be an int, not float",
    )
    yield Row(
        "UploadConfig",
        "multipart_threshold bool",
        lambda e: fa.UploadConfig(multipart_threshold=True),
        CE,
        "multipart_threshold must be an int, not bool",
    )
    yield Row(
        "UploadConfig",
        "multipart_threshold str",
        lambda e: fa.UploadConfig(multipart_threshold="8MB"),
        CE,
        "multipart_threshold must be an int, not str",
    )
    yield Row(
        "Endpoints",
        "api URL int",
        lambda e: fa.Endpoints(api=5),
        CE,
        "the api URL must be a string URL",
    )
    yield Row(
        "Endpoints",
        "upload URL not http",
        lambda e: fa.Endpoints(upload="upload.example.com"),
        CE,
        "the upload URL must be an http(s) URL",
    )
    yield Row(
        "Endpoints",
        "cdn URL with a query",
        lambda e: fa.Endpoints(cdn="https://c.io/?a=b"),
        CE,
        "must not have a query",
    )
    yield Row(
        "Endpoints.single_origin",
        "base_url None",
        lambda e: fa.Endpoints.single_origin(None),
        CE,
        "base_url must be a string URL",
    )
    yield Row(
        "Endpoints.with_cname",
        "cname int",
        lambda e: fa.Endpoints.with_cname(5),
        CE,
        "cname must be a string",
    )
    yield Row(
        "Endpoints.resolve",
        "base_url and cname",
        lambda e: Endpoints.resolve(base_url="http://a", cname="b.com", environ={}),
        CE,
        "not both",
    )
    yield Row(
        "Endpoints.resolve",
        "environ not a mapping",
        lambda e: fa.Endpoints.resolve(environ=["FILESTACK_BASE_URL=http://a"]),
        CE,
        "environ must be a mapping",
    )
    yield Row(
        "Endpoints.location_url",
        "location empty",
        lambda e: fa.Endpoints().location_url(" "),
        CE,
        "location_url is empty",
    )
    yield Row(
        "Endpoints.location_url",
        "location int",
        lambda e: fa.Endpoints().location_url(443),
        CE,
        "location_url must be a host name string",
    )


def _stream_rows() -> Iterator[Row]:
    """``stream()`` on a Filelink and a Transformation: the byte range and the security."""
    targets: tuple[tuple[str, Callable[[Env], Any]], ...] = (
        ("Filelink.stream", lambda e: e.link),
        ("Transformation.stream", lambda e: e.chain),
    )
    cases: tuple[tuple[str, dict[str, Any], str], ...] = (
        ("start negative", {"start": -1}, "start must not be negative, not -1"),
        ("start a str", {"start": "5"}, "start must be a byte offset (an int) or None, not str"),
        (
            "start a float",
            {"start": 1.5},
            "start must be a byte offset (an int) or None, not float",
        ),
        ("start a bool", {"start": True}, "start must be a byte offset (an int) or None, not bool"),
        ("end negative", {"end": -1}, "end must not be negative, not -1"),
        ("end a str", {"end": "9"}, "end must be a byte offset (an int) or None, not str"),
        ("end before start", {"start": 10, "end": 9}, "end (9) is before start (10)"),
        ("security str", {"security": "x"}, "security must be a Security"),
    )
    for method, target in targets:
        for bad, kwargs, match in cases:
            yield Row(method, bad, _on(target, "stream", **kwargs), CE, match)


def _wrong_type_call(target: str, method: str, param: str) -> Callable[[Env], object]:
    def call(env: Env) -> object:
        return getattr(getattr(env, target), method)(**{param: object()})

    return call


def _no_argument_call(method: str) -> Callable[[Env], object]:
    def call(env: Env) -> object:
        return getattr(env.link, method)()

    return call


def _task_rows() -> Iterator[Row]:
    """Rows from the task catalogue: a wrong type for each task method, and missing arguments."""
    specs = {spec.method: spec for spec in iter_specs()}
    for name, function in inspect.getmembers(TaskMethods, inspect.isfunction):
        spec = specs.get(name)
        params = [p for p in inspect.signature(function).parameters if p != "self"]
        if name.startswith("_") or spec is None or not params:
            continue
        for owner, target in (("Filelink", "link"), ("Transformation", "chain")):
            for param in params:
                if param == "security":
                    continue
                yield Row(
                    f"{owner}.{name}",
                    f"{param} of a wrong type",
                    _wrong_type_call(target, name, param),
                    CE,
                    f"{spec.name}: parameter '{param}'",
                    family=f"wrong-type:{name}",
                    param=param,
                )
        if spec.required:
            yield Row(
                f"Filelink.{name}",
                f"{', '.join(spec.required)} missing",
                _no_argument_call(name),
                CE,
                f"{spec.name}: parameter(s) '{spec.required[0]}'",
            )
        if spec.require_any:
            yield Row(
                f"Filelink.{name}",
                "no argument",
                _no_argument_call(name),
                CE,
                f"give at least one of {', '.join(spec.require_any)}",
            )
    yield Row(
        "Filelink.store",
        "unknown location",
        lambda e: e.link.store(location="ftp"),
        CE,
        "store: parameter 'location'",
    )
    yield Row(
        "Filelink.store",
        "security str",
        lambda e: e.link.store(security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Filelink.av_convert",
        "security str",
        lambda e: e.link.av_convert(preset="h264", security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Transformation.av_convert",
        "security str",
        lambda e: e.chain.av_convert(preset="h264", security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Transformation.store",
        "security str",
        lambda e: e.chain.store(security="x"),
        CE,
        "security must be a Security",
    )
    yield Row(
        "Filelink.resize",
        "width negative",
        lambda e: e.link.resize(width=-5),
        CE,
        "must be at least 1",
    )
    yield Row(
        "Filelink.resize",
        "width bool",
        lambda e: e.link.resize(width=True),
        CE,
        "not bool",
    )
    yield Row(
        "Filelink.crop",
        "dim as a str",
        lambda e: e.link.crop("0,0,10,10"),
        CE,
        "not a string",
    )
    yield Row(
        "Filelink.av_convert",
        "width str",
        lambda e: e.link.av_convert(width="320"),
        CE,
        "video_convert: parameter 'width'",
    )


#: Every row, in the order the docs list them.
ROWS: tuple[Row, ...] = tuple(_rows())

#: Owners whose public methods the table must cover, by the name used in rows.
PUBLIC_OWNERS: dict[str, Any] = {
    "Client": filestack_async.Client,
    "Filelink": filestack_async.Filelink,
    "Transformation": filestack_async.Transformation,
    "AudioVisual": AudioVisual,
    "Security": Security,
    "Timeouts": Timeouts,
    "RetryPolicy": RetryPolicy,
    "UploadConfig": UploadConfig,
    "Endpoints": Endpoints,
    "UploadItem": UploadItem,
}

#: Public names that take no argument a caller could get wrong, and why.
EXEMPT: dict[str, str] = {
    "UploadProgress": "made by the SDK and handed to progress callbacks, never by callers",
    "RetryEvent": "made by the SDK and handed to the on_event hook, never by callers",
    "ChunkSizeChanged": "made by the SDK and handed to the on_event hook, never by callers",
    "FallbackSwitched": "made by the SDK and handed to the on_event hook, never by callers",
    "PartDone": "made by the SDK and handed to the on_event hook, never by callers",
    "UploadResumed": "made by the SDK and handed to the on_event hook, never by callers",
    "Context": "made by a Client (client.context) and handed on as context=, never by callers",
    "DownloadStream": "made by stream() and handed to the caller's async with, never by callers",
    "__version__": "a string",
}


def public_callables() -> dict[str, list[str]]:
    """Every public callable that takes an argument, by the name rows use.

    Constructors are named after their class, methods ``Class.method``; methods with
    no parameter other than ``self`` have no argument to get wrong and are left out.
    Exception classes are made by the SDK, not called by users, so they are left out.
    """
    found: dict[str, list[str]] = {}
    for name in filestack_async.__all__:
        value = getattr(filestack_async, name)
        if name in EXEMPT or (isinstance(value, type) and issubclass(value, BaseException)):
            continue
        if name not in PUBLIC_OWNERS:
            assert inspect.isfunction(value), f"{name} is neither a function nor a known class"
            found[name] = list(inspect.signature(value).parameters)
            continue
        found[name] = list(inspect.signature(value).parameters)
        # dataclass fields (RetryPolicy.sleep's default) are values, not methods
        fields = (
            {f.name for f in dataclasses.fields(value)}
            if dataclasses.is_dataclass(value)
            else set()
        )
        for attribute in dir(value):
            if attribute.startswith("_") or attribute in fields:
                continue
            member = inspect.getattr_static(value, attribute)
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if not inspect.isfunction(member):
                continue
            params = [p for p in inspect.signature(member).parameters if p not in ("self", "cls")]
            found[f"{name}.{attribute}"] = params
    return {name: params for name, params in found.items() if params}


def test_every_public_method_that_takes_an_argument_has_a_row() -> None:
    covered = {row.method for row in ROWS}
    missing = sorted(set(public_callables()) - covered)
    assert not missing, f"public methods without a bad-input row: {missing}"


def test_every_row_names_a_public_method() -> None:
    known = set(public_callables())
    unknown = sorted({row.method for row in ROWS} - known)
    assert not unknown, f"rows for methods that are not public (or take no argument): {unknown}"


def test_rows_are_unique() -> None:
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]


def test_every_exported_name_is_classified() -> None:
    classified = set(PUBLIC_OWNERS) | set(EXEMPT)
    for name in filestack_async.__all__:
        value = getattr(filestack_async, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            continue
        assert name in classified or inspect.isfunction(value), name


def test_docs_errors_md_is_up_to_date() -> None:
    """docs/errors.md shows exactly these rows (regenerate with python docs/gen_errors.py)."""
    path = Path(__file__).parents[2] / "docs" / "gen_errors.py"
    spec = importlib.util.spec_from_file_location("gen_errors", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = module.PAGE.read_text(encoding="utf-8")
    assert module.updated(page) == page, "run: python docs/gen_errors.py"
    for row in ROWS:
        match = row.match.replace(f"'{row.param}'", "'<name>'") if row.family else row.match
        assert f"`{match.replace('|', chr(92) + '|')}`" in page, row.id


def _names_parameter(row: Row, param: str) -> bool:
    """True when the row is about ``param`` (its ``param``, bad-input text or message)."""
    mentioned = re.search(rf"(?<![\w.]){re.escape(param)}(?!\w)", row.bad)
    return row.param == param or bool(mentioned) or f"'{param}'" in row.match


def test_every_parameter_of_every_public_method_has_a_row() -> None:
    missing = [
        f"{method}({param})"
        for method, params in public_callables().items()
        for param in params
        if not any(row.method == method and _names_parameter(row, param) for row in ROWS)
    ]
    assert not missing, f"parameters without a bad-input row: {missing}"
