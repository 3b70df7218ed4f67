"""The SDK commands of ``filestack-async``: upload, download, transform, convert, sign...

Each command is an ``async def`` taking the parsed arguments, the `Output` and the
`Settings`; `register` adds them to the parser and `run_async` runs one on anyio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, cast

import anyio

from .. import Client, Filelink, RetryPolicy, Security, Transformation, UploadProgress
from .._config import BASE_URL_ENV
from .._exceptions import APIError, ConfigurationError
from .._filelink import METADATA_ATTRIBUTES
from .._params import STORE_PARAMS
from .._tasks import TASKS, Invalid, Task, build_task, parse_task, split_top_level
from .output import (
    EXIT_OK,
    Bars,
    CommandFailed,
    CountingWriter,
    NoBars,
    Output,
    atomic_file,
    describe_error,
    exit_code,
)

APIKEY_ENV = "FILESTACK_API_KEY"
SECRET_ENV = "FILESTACK_APP_SECRET"
#: seconds a policy made from the app secret stays valid (``--expires-in``)
DEFAULT_EXPIRES_IN = 900.0
#: retries of a failed request (``--retries``), as `RetryPolicy` has by default
DEFAULT_RETRIES = RetryPolicy().max_retries
#: stands in for the API key in commands that never send it (reading a handle)
_UNUSED_APIKEY = "NO-APIKEY-GIVEN"

AsyncCommand = Callable[[argparse.Namespace, Output, "Settings"], Awaitable[None]]


# -- configuration -----------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """API key, app secret and base URL, from the flags or the environment."""

    apikey: str | None = None
    secret: str | None = None
    base_url: str | None = None
    expires_in: float = DEFAULT_EXPIRES_IN
    retries: int = DEFAULT_RETRIES

    @classmethod
    def from_args(
        cls, args: argparse.Namespace, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Flags first, then the environment (``FILESTACK_API_KEY`` and the others)."""
        env = os.environ if environ is None else environ
        expires_in = float(getattr(args, "expires_in", None) or DEFAULT_EXPIRES_IN)
        if expires_in <= 0:
            raise ConfigurationError("--expires-in must be a positive number of seconds")
        retries = getattr(args, "retries", None)
        retries = DEFAULT_RETRIES if retries is None else int(retries)
        if retries < 0:
            raise ConfigurationError("--retries must be 0 or more")
        return cls(
            apikey=getattr(args, "apikey", None) or env.get(APIKEY_ENV) or None,
            secret=getattr(args, "secret", None) or env.get(SECRET_ENV) or None,
            base_url=getattr(args, "base_url", None) or env.get(BASE_URL_ENV) or None,
            expires_in=expires_in,
            retries=retries,
        )

    def security(self, calls: Sequence[str], handle: str | None = None) -> Security | None:
        """A policy for just ``calls`` (and ``handle``), expiring soon; None without a secret."""
        if not self.secret:
            return None
        return Security.create(
            self.secret, expires_in=self.expires_in, call=list(calls), handle=handle
        )

    def require_secret(self, action: str) -> None:
        """Raise a clear error when the app secret is missing."""
        if not self.secret:
            raise ConfigurationError(
                f"{action} needs the app secret: give --secret or set {SECRET_ENV}"
            )

    def client(self, security: Security | None, need_apikey: str | None = None) -> Client:
        """A `Client`; ``need_apikey`` names what needs the key when one is required."""
        apikey = self.apikey
        if not apikey:
            if need_apikey is not None:
                raise ConfigurationError(
                    f"{need_apikey} needs an API key: give --apikey or set {APIKEY_ENV}"
                )
            apikey = _UNUSED_APIKEY
        return Client(
            apikey,
            base_url=self.base_url,
            security=security,
            retry=RetryPolicy(max_retries=self.retries),
        )


# -- argument helpers ----------------------------------------------------------------------


def _bool(text: str, what: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ConfigurationError(f"{what} must be true or false, not {text!r}")


def parse_store_params(pairs: Sequence[str]) -> dict[str, Any]:
    """``k=v`` pairs into store parameters (``workflows=a,b``, ``upload_tags=k:v,k2:v2``)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ConfigurationError(f"--store-param takes key=value, not {pair!r}")
        if key not in STORE_PARAMS:
            raise ConfigurationError(
                f"unknown store parameter {key!r}; known ones: {', '.join(STORE_PARAMS)}"
            )
        parsed: Any = value
        if value.startswith(("[", "{")):
            try:
                parsed = json.loads(value)
            except ValueError as err:
                raise ConfigurationError(f"store parameter {key!r}: bad JSON ({err})") from None
        elif key == "base64decode":
            parsed = _bool(value, "store parameter 'base64decode'")
        elif key == "workflows":
            parsed = [w for w in value.split(",") if w]
        elif key == "upload_tags":
            tags: dict[str, str] = {}
            for item in value.split(","):
                name, colon, tag = item.partition(":")
                if not colon:
                    raise ConfigurationError("upload_tags takes name:value,name2:value2 or JSON")
                tags[name] = tag
            parsed = tags
        params[key] = parsed
    return params


def parse_tasks(text: str) -> list[Task]:
    """TASKS in the URL grammar (``resize=width:200/flip``) into validated tasks."""
    try:
        segments = [s for s in split_top_level(text.strip().strip("/"), "/") if s]
    except Invalid as err:
        raise ConfigurationError(f"bad TASKS {text!r}: {err}") from None
    tasks = [parse_task(segment) for segment in segments]
    for task in tasks:
        if task.name == "security":
            raise ConfigurationError(
                "do not put a security task in TASKS: give the app secret (--secret or "
                f"{SECRET_ENV}) and requests are signed"
            )
    return tasks


def parse_task_params(task: str, pairs: Sequence[str]) -> Task:
    """``k=v`` pairs typed by the task catalogue (``width=320`` is an int) into a `Task`."""
    spec = TASKS[task]
    values: dict[str, Any] = {}
    for pair in pairs:
        key, eq, text = pair.partition("=")
        if not eq or not key:
            raise ConfigurationError(f"parameters are key=value, not {pair!r}")
        param = spec.param(key)
        if param is None:
            known = ", ".join(spec.param_names)
            raise ConfigurationError(f"{task}: unknown parameter {key!r}; known ones: {known}")
        try:
            values[param.name] = param.type.parse(text)
        except Invalid as err:
            raise ConfigurationError(
                f"{task}: parameter {param.name!r}: {err}; allowed: {param.type.describe()}"
            ) from None
    return build_task(task, values)


def _is_handle(source: str) -> bool:
    return "://" not in source


def _conversion_percent(payload: Mapping[str, Any]) -> float | None:
    metadata = payload.get("metadata")
    result = metadata.get("result") if isinstance(metadata, dict) else None
    value = result.get("encoding_progress") if isinstance(result, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


async def save_stream(
    fetch: Callable[[BinaryIO], Awaitable[object]],
    destination: Path | None,
    out: Output,
    bars: Bars,
    description: str,
    total: int | None = None,
) -> int:
    """Stream through ``fetch`` into ``destination`` (atomically) or stdout; return the bytes."""
    bar = bars.add(description, total)
    sink: AbstractContextManager[BinaryIO]
    sink = atomic_file(destination) if destination is not None else nullcontext(out.binary_stdout())
    with sink as target:
        writer = CountingWriter(target, lambda n: bars.update(bar, n))
        await fetch(cast(BinaryIO, writer))
        writer.flush()
    bars.update(bar, writer.written, writer.written)
    return writer.written


# -- commands ------------------------------------------------------------------------------


async def cmd_upload(args: argparse.Namespace, out: Output, settings: Settings) -> None:
    paths = [Path(p) for p in args.paths]
    store_params = parse_store_params(args.store_param)
    if args.concurrency < 1:
        raise ConfigurationError("--concurrency must be at least 1")
    security = settings.security(["pick"])
    async with settings.client(security, need_apikey="upload") as client:
        with out.bars() as bars:
            ids: dict[int, int] = {}

            def on_progress(report: UploadProgress) -> None:
                index = report.index or 0
                if index not in ids:
                    ids[index] = bars.add(f"upload {paths[index].name}", report.total)
                # bytes written to the connection: the bar moves while a part is sent
                done = report.bytes_acknowledged if report.bytes_sent is None else report.bytes_sent
                bars.update(ids[index], done, report.total)

            if args.resume:
                results = await _upload_resumable(
                    client, paths, args, store_params, on_progress, out
                )
            else:
                results = await client.upload_many(
                    [str(p) for p in paths],
                    concurrency=args.concurrency,
                    intelligent=args.intelligent,
                    store_params=store_params,
                    progress=on_progress,
                )
    rows: list[dict[str, Any]] = []
    failures: list[BaseException] = []
    for path, result in zip(paths, results, strict=True):
        if isinstance(result, Filelink):
            answer = result.upload_response or {}
            row = {
                "path": str(path),
                "handle": result.handle,
                "url": result.url,
                "size": answer.get("size"),
                "filename": answer.get("filename"),
                "mimetype": answer.get("mimetype") or answer.get("type"),
            }
            rows.append(row)
            out.line(f"uploaded {path} -> {result.url} ({row['size']} bytes)")
        else:
            failures.append(result)
            rows.append(
                {
                    "path": str(path),
                    "error": {"type": type(result).__name__, "message": out.redact(str(result))},
                }
            )
            out.error(f"{path}: {describe_error(result)}")
    out.json(rows)
    if failures:
        raise CommandFailed(
            f"{len(failures)} of {len(paths)} uploads failed",
            exit_code(failures[0]),
            reported=True,
        )


#: where ``upload --resume`` keeps its checkpoints, under the per-user state folder
STATE_FOLDER = ("filestack-async", "uploads")


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user folder of upload checkpoints: ``$XDG_STATE_HOME/filestack-async/uploads``
    (``~/.local/state/...`` without it; ``%LOCALAPPDATA%`` on Windows)."""
    env = os.environ if environ is None else environ
    if os.name == "nt" and env.get("LOCALAPPDATA"):
        base = Path(env["LOCALAPPDATA"])
    elif env.get("XDG_STATE_HOME"):
        base = Path(env["XDG_STATE_HOME"])
    else:
        base = Path.home() / ".local" / "state"
    return base.joinpath(*STATE_FOLDER)


def checkpoint_path(folder: Path, path: Path, client: Client) -> Path:
    """The checkpoint of one file's upload: named by the file's absolute path, the
    service and the API key (hashed), so the same command finds it again."""
    key = f"{os.path.abspath(path)}\n{client.endpoints.upload}\n{client.apikey}"
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


async def _upload_resumable(
    client: Client,
    paths: Sequence[Path],
    args: argparse.Namespace,
    store_params: dict[str, Any],
    on_progress: Callable[[UploadProgress], None],
    out: Output,
) -> list[Filelink | Exception]:
    """``upload --resume``: each file with its own checkpoint, ``--concurrency`` at a time.

    Interrupted (Ctrl+C) or failed, the same command continues each file's upload.
    """
    folder = state_dir()
    await anyio.to_thread.run_sync(partial(folder.mkdir, mode=0o700, parents=True, exist_ok=True))
    results: list[Filelink | Exception] = [RuntimeError("not uploaded")] * len(paths)
    limiter = anyio.CapacityLimiter(args.concurrency)

    async def one(index: int, path: Path) -> None:
        def report(progress: UploadProgress) -> None:
            on_progress(replace(progress, index=index))

        async with limiter:
            try:
                results[index] = await client.upload(
                    filepath=path,
                    intelligent=args.intelligent,
                    store_params=store_params,
                    progress=report,
                    resume=checkpoint_path(folder, path, client),
                )
            except Exception as err:  # each file's failure is its result
                results[index] = err

    try:
        async with anyio.create_task_group() as tg:
            for index, path in enumerate(paths):
                tg.start_soon(one, index, path)
    except BaseException:  # Ctrl+C arrives as cancellation
        out.error("run the same command again to continue the upload where it stopped")
        raise
    if any(isinstance(result, Exception) for result in results):
        out.error("run the same command again to continue the failed uploads where they stopped")
    return results


async def cmd_upload_url(args: argparse.Namespace, out: Output, settings: Settings) -> None:
    security = settings.security(["store", "read"])
    async with settings.client(security, need_apikey="upload-url") as client:
        link = await client.upload_url(args.url, parse_store_params(args.store_param))
    answer = link.upload_response or {}
    row = {
        "handle": link.handle,
        "url": link.url,
        "size": answer.get("size"),
        "filename": answer.get("filename"),
        "mimetype": answer.get("mimetype") or answer.get("type"),
    }
    out.line(f"stored -> {link.url} ({row['size']} bytes)")
    out.json(row)


async def cmd_download(args: argparse.Namespace, out: Output, settings: Settings) -> None:
    security = settings.security(["read", "stat"], handle=args.handle)
    async with settings.client(security) as client:
        link = client.filelink(args.handle)
        given = Path(args.path) if args.path else None
        meta: dict[str, Any] = {}
        if given is None or given.is_dir() or out.interactive:
            try:
                meta = await link.metadata(["filename", "size"])
            except APIError:
                meta = {}  # the download itself reports a real problem
        name = Path(str(meta.get("filename") or args.handle)).name or args.handle
        destination = given / name if given is not None and given.is_dir() else given
        destination = destination or Path(name)
        size = meta.get("size")
        with out.bars() as bars:
            written = await save_stream(
                link.download,
                destination,
                out,
                bars,
                f"download {destination.name}",
                size if isinstance(size, int) else None,
            )
    out.line(f"downloaded {args.handle} -> {destination} ({written} bytes)")
    out.json({"handle": args.handle, "path": str(destination), "bytes": written})


async def cmd_content(args: argparse.Namespace, out: Output, settings: Settings) -> None:
    security = settings.security(["read"], handle=args.handle)
    async with settings.client(security) as client:
        target = out.binary_stdout()
        await client.filelink(args.handle).download(target)
        target.flush()


async def cmd_metadata(args: argparse.Namespace, out: Output, settings: Settings) -> None:
    attributes: list[str] = list(args.attr or [])
    calls = ["stat", "exif"] if "exif" in attributes else ["stat"]
    security = settings.security(calls, handle=args.handle)
    async with settings.client(security) as client:
        meta = await client.filelink(args.handle).metadata(attributes or None)
    for key, value in meta.items():
        out.line(f"{key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")
    out.json(meta)


async def cmd_delete(args: argparse.Namespace, out: Output, settings: Settings) -> None:
    settings.require_secret("delete")
    security = settings.security(["remove"], handle=args.handle)
    async with settings.client(security, need_apikey="delete") as client:
        await client.filelink(args.handle).delete()
    out.line(f"deleted {args.handle}")
    out.json({"handle": args.handle, "deleted": True})


async def cmd_transform(args: argparse.Namespace, out: Output, settings: Settings) -> None:
    tasks = parse_tasks(args.tasks)
    store: Task | None = None
    if tasks and tasks[-1].name == "store":
        store = tasks.pop()
    if any(t.name == "store" for t in tasks):
        raise ConfigurationError("store can only be the last task")
    if args.store and store is None:
        store = build_task("store")
    if not tasks and store is None:
        raise ConfigurationError("give at least one task, such as resize=width:200")
    if store is not None and args.output:
        raise ConfigurationError("give --store or --output, not both")
    handle = args.source if _is_handle(args.source) else None
    calls = ["convert", "read", *(["store"] if store is not None else [])]
    security = settings.security(calls, handle=handle)
    need = None
    if handle is None:
        need = "transforming a URL"
    elif store is not None:
        need = "storing a transformation"
    async with settings.client(security, need_apikey=need) as client:
        chain = (
            Transformation(handle=handle, context=client.context)
            if handle is not None
            else client.transform_external(args.source)
        )
        chain = chain.with_tasks(tasks)
        if store is not None:
            stored = await chain.store_task(store)
            out.line(f"transformed {chain.url}")
            out.line(f"stored -> {stored.url}")
            out.json({"url": chain.url, "handle": stored.handle, "file_url": stored.url})
            return
        if not args.output:
            out.line(chain.url)
            out.json({"url": chain.url})
            return
        destination = None if args.output == "-" else Path(args.output)
        # no bars drawn over the bytes when the result goes to stdout
        display = out.bars() if destination is not None else nullcontext(NoBars())
        with display as bars:
            written = await save_stream(
                chain.download,
                destination,
                out,
                bars,
                "transform",
            )
    if destination is not None:
        out.line(f"{chain.url} -> {destination} ({written} bytes)")
        out.json({"url": chain.url, "path": str(destination), "bytes": written})


async def cmd_av_convert(args: argparse.Namespace, out: Output, settings: Settings) -> None:
    task = parse_task_params("video_convert", args.params)
    security = settings.security(["convert"], handle=args.handle)
    async with settings.client(security) as client:
        chain = Transformation(handle=args.handle, context=client.context)
        job = await chain.av_convert_task(task)
        started = job.last_payload or {}
        row: dict[str, Any] = {"uuid": job.uuid, "url": job.url, "status": started.get("status")}
        out.line(f"conversion {job.uuid} started: {job.url}")
        if not args.wait:
            out.json(row)
            return
        with out.bars() as bars:
            bar = bars.add("convert", 100, unit="percent")

            def on_status(payload: dict[str, Any]) -> None:
                percent = _conversion_percent(payload)
                if percent is not None:
                    bars.update(bar, percent)

            converted = await job.wait_until_complete(
                timeout=args.timeout, initial_delay=0.5, max_delay=5, progress=on_status
            )
            bars.update(bar, 100)
    payload = job.last_payload or {}
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    row.update(status="completed", handle=converted.handle, file_url=converted.url, data=data)
    out.line(f"converted -> {converted.url}")
    out.json(row)


async def cmd_sign(args: argparse.Namespace, out: Output, settings: Settings) -> None:
    settings.require_secret("sign")
    assert settings.secret is not None
    try:
        policy = json.loads(args.policy)
    except ValueError as err:
        raise ConfigurationError(f"--policy must be JSON: {err}") from None
    if not isinstance(policy, dict):
        raise ConfigurationError('--policy must be a JSON object such as {"call": ["read"]}')
    if "expiry" not in policy:
        policy["expiry"] = int(time.time() + settings.expires_in)
    security = Security(policy, settings.secret)
    # printing the signature is this command's job; the secret itself is still masked
    out.line(f"policy: {json.dumps(security.policy)}", redact=False)
    out.line(f"policy_b64: {security.policy_b64}", redact=False)
    out.line(f"signature: {security.signature}", redact=False)
    out.line(f"url segment: {security.as_url_string()}", redact=False)
    out.json(
        {
            "policy": security.policy,
            "policy_b64": security.policy_b64,
            "signature": security.signature,
        },
        redact=False,
    )


# -- registration ---------------------------------------------------------------------------


def run_async(command: AsyncCommand) -> Callable[[argparse.Namespace, Output], int]:
    """Wrap an async command: build the settings, run it on anyio, return 0."""

    def run(args: argparse.Namespace, out: Output) -> int:
        settings = Settings.from_args(args)
        if settings.secret:
            out.add_secret(settings.secret)
        if settings.apikey:
            out.add_error_secret(settings.apikey)
        anyio.run(command, args, out, settings)
        return EXIT_OK

    return run


def connection_options() -> argparse.ArgumentParser:
    """The flags every SDK command takes (also accepted before the command name)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection (flags win over the environment)")
    group.add_argument("--apikey", help=f"API key (default: ${APIKEY_ENV})")
    group.add_argument(
        "--secret",
        help=f"app secret: requests are signed with a short-lived policy (default: ${SECRET_ENV})",
    )
    group.add_argument(
        "--base-url", help=f"one origin for every service, e.g. the emulator (${BASE_URL_ENV})"
    )
    group.add_argument(
        "--expires-in",
        type=float,
        help=f"seconds the generated policies stay valid (default {DEFAULT_EXPIRES_IN:g})",
    )
    group.add_argument(
        "--retries",
        type=int,
        help=f"retries of a failed request (default {DEFAULT_RETRIES}; 0 for none)",
    )
    out = common.add_argument_group("output")
    out.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON results"
    )
    out.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of an error",
    )
    return common


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the SDK commands to the ``filestack-async`` parser."""
    common = [connection_options()]

    def add(
        name: str, *, run: AsyncCommand, help: str, description: str
    ) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, parents=common, help=help, description=description)
        parser.set_defaults(run=run_async(run))
        return parser

    p = add("upload", run=cmd_upload, help="upload files", description="Upload files.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files to upload")
    p.add_argument("--intelligent", action="store_true", help="use intelligent ingestion")
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep a checkpoint per file (in $XDG_STATE_HOME/filestack-async/uploads) so the "
        "same command continues an interrupted or failed upload",
    )
    p.add_argument("--concurrency", type=int, default=4, help="files at a time (default 4)")
    p.add_argument(
        "--store-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"store parameter ({', '.join(STORE_PARAMS)}); repeat for more",
    )

    p = add(
        "upload-url",
        run=cmd_upload_url,
        help="store a file Filestack fetches from a URL",
        description="Store a file that Filestack fetches from URL.",
    )
    p.add_argument("url", metavar="URL")
    p.add_argument("--store-param", action="append", default=[], metavar="KEY=VALUE")

    p = add(
        "download",
        run=cmd_download,
        help="download a file",
        description="Download a file to PATH (a file or a folder; default: its filename here).",
    )
    p.add_argument("handle", metavar="HANDLE")
    p.add_argument("path", metavar="PATH", nargs="?")

    p = add(
        "content",
        run=cmd_content,
        help="write a file's bytes to stdout",
        description="Write a file's bytes to stdout.",
    )
    p.add_argument("handle", metavar="HANDLE")

    p = add(
        "metadata", run=cmd_metadata, help="show a file's metadata", description="File metadata."
    )
    p.add_argument("handle", metavar="HANDLE")
    p.add_argument(
        "--attr",
        action="append",
        choices=METADATA_ATTRIBUTES,
        metavar="NAME",
        help=f"attribute to ask for (repeat): {', '.join(METADATA_ATTRIBUTES)}",
    )

    p = add(
        "delete",
        run=cmd_delete,
        help="delete a file",
        description="Delete a file (needs the API key and the app secret).",
    )
    p.add_argument("handle", metavar="HANDLE")

    p = add(
        "transform",
        run=cmd_transform,
        help="transform a file: print the URL, download the result or store it",
        description=(
            "Transform SOURCE (a handle or an http(s) URL) with TASKS in the URL grammar, "
            "e.g. resize=width:200/flip. Prints the processing URL; --output downloads the "
            "result, --store stores it as a new file (a trailing store=... task works too)."
        ),
    )
    p.add_argument("source", metavar="SOURCE")
    p.add_argument("tasks", metavar="TASKS")
    p.add_argument("--store", action="store_true", help="store the result as a new file")
    p.add_argument("-o", "--output", metavar="PATH", help="download the result (- for stdout)")

    p = add(
        "av-convert",
        run=cmd_av_convert,
        help="convert audio or video",
        description=(
            "Start a video_convert of HANDLE with key=value parameters "
            "(preset=webm width=320 ...); --wait polls until it completes."
        ),
    )
    p.add_argument("handle", metavar="HANDLE")
    p.add_argument("params", nargs="*", metavar="KEY=VALUE")
    p.add_argument("--wait", action="store_true", help="wait until the conversion completes")
    p.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait with --wait (default 600)"
    )

    p = add(
        "sign",
        run=cmd_sign,
        help="sign a security policy",
        description=(
            "Print a policy, its base64 form and its signature (made with the app secret). "
            "An expiry is added when the policy has none (--expires-in from now)."
        ),
    )
    p.add_argument("--policy", required=True, metavar="JSON", help='e.g. {"call": ["read"]}')
