"""The SDK commands of ``filestack-async``: upload, download, transform, convert, sign...

Each command is an ``async def`` taking the parsed arguments, the `Output` and the
`Settings`; `register` adds them to the parser and `run_async` runs one on anyio.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit

import anyio

from .. import (
    AudioVisual,
    Client,
    DownloadStream,
    Filelink,
    RetryPolicy,
    Security,
    Transformation,
    UploadProgress,
)
from .._config import APIKEY_ENV, BASE_URL_ENV, SECRET_ENV
from .._exceptions import APIError, ConfigurationError, LocalFileError
from .._filelink import METADATA_ATTRIBUTES
from .._files import atomic_file
from .._http import RETRY_RECORD
from .._params import STORE_PARAMS
from .._tasks import TASKS, Invalid, Task, build_task, parse_path, parse_task, split_top_level
from .output import (
    EXIT_OK,
    Bars,
    CommandFailed,
    CountingWriter,
    NoBars,
    Output,
    describe_error,
    exit_code,
)

#: seconds a policy made from the app secret stays valid (``--expires-in``)
DEFAULT_EXPIRES_IN = 900.0
#: retries of a failed request (``--retries``), as `RetryPolicy` has by default
DEFAULT_RETRIES = RetryPolicy().max_retries

#: flags whose empty value is refused (not taken as "use the environment")
_VALUED_FLAGS = (
    ("--apikey", "apikey", APIKEY_ENV),
    ("--secret", "secret", SECRET_ENV),
    ("--base-url", "base_url", BASE_URL_ENV),
)

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
        for flag, name, variable in _VALUED_FLAGS:
            if getattr(args, name, None) == "":
                raise ConfigurationError(
                    f"{flag} is empty: give a value, or leave the flag out to use ${variable}"
                )
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
        if not self.apikey and need_apikey is not None:
            raise ConfigurationError(
                f"{need_apikey} needs an API key: give --apikey or set {APIKEY_ENV}"
            )
        return Client(
            self.apikey,
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


async def save_body(
    body: DownloadStream, destination: Path | None, out: Output, bars: Bars, description: str
) -> int:
    """Write an open download's pieces into ``destination`` (atomically) or stdout, its bar
    moved on each piece (the total is the stream's length, known before the first byte);
    return the bytes written."""
    bar = bars.add(description, body.length)
    sink: AbstractContextManager[BinaryIO]
    sink = atomic_file(destination) if destination is not None else nullcontext(out.binary_stdout())
    written = 0
    with sink as target:
        async for piece in body:
            await anyio.to_thread.run_sync(target.write, piece)
            written += len(piece)
            bars.update(bar, written)
        target.flush()
    bars.update(bar, written, written)
    return written


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


def names_a_folder(path: str) -> bool:
    """True when ``path`` is a folder: an existing one, or one written with a trailing
    separator (``out/``), as ``curl -O`` and ``aws s3 cp`` read it."""
    return path.endswith(("/", os.sep)) or Path(path).is_dir()


def check_folder(folder: Path) -> None:
    """Raise `LocalFileError` naming ``folder`` unless it is an existing folder."""
    if folder.is_dir():
        return
    reason = "is not a folder" if folder.exists() else "does not exist"
    raise LocalFileError(
        f"the destination folder {str(folder)!r} {reason}",
        path=str(folder),
        errno=errno.ENOTDIR if folder.exists() else errno.ENOENT,
        strerror=os.strerror(errno.ENOTDIR if folder.exists() else errno.ENOENT),
    )


def download_destination(given: str | None, stored_name: str | None, handle: str) -> Path:
    """Where ``download HANDLE [PATH]`` writes: into a folder under the stored name, or
    to the file named; the folder must exist (`check_folder`)."""
    name = Path(stored_name or handle).name or handle
    if given is None:
        return Path(name)
    if names_a_folder(given):
        check_folder(Path(given))
        return Path(given) / name
    destination = Path(given)
    check_folder(destination.parent)
    return destination


async def cmd_download(args: argparse.Namespace, out: Output, settings: Settings) -> None:
    security = settings.security(["read", "stat"], handle=args.handle)
    async with settings.client(security) as client:
        link = client.filelink(args.handle)
        meta: dict[str, Any] = {}
        if args.path is None or names_a_folder(args.path):  # the stored name is needed
            try:
                meta = await link.metadata(["filename"])
            except APIError:
                meta = {}  # the download itself reports a real problem
        filename = meta.get("filename")
        destination = download_destination(
            args.path, filename if isinstance(filename, str) else None, args.handle
        )
        # the stream knows the size from its first answer: the bar moves byte by byte
        async with link.stream() as body:
            with out.bars() as bars:
                written = await save_body(
                    body, destination, out, bars, f"download {destination.name}"
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
    present = {key: value for key, value in meta.items() if value is not None}
    for key, value in present.items():
        out.line(f"{key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")
    out.json(present)


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
            out.line(f"ask for its status with: filestack-async av-status {job.url}")
            out.json(row)
            return
        await _wait_for_conversion(job, args, out, row)


async def _wait_for_conversion(
    job: AudioVisual, args: argparse.Namespace, out: Output, row: dict[str, Any]
) -> None:
    """``--wait``: poll ``job`` with a percentage bar, then print the converted file."""
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


async def cmd_av_status(args: argparse.Namespace, out: Output, settings: Settings) -> None:
    url: str = args.url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"URL must be the conversion URL av-convert printed (http(s)://...), not {url!r}"
        )
    parsed = parse_path(parts.path)
    if not any(task.name == "video_convert" for task in parsed.tasks):
        raise ConfigurationError("URL is not a conversion URL (it has no video_convert task)")
    handle = parsed.source if _is_handle(parsed.source) else None
    security = settings.security(["convert"], handle=handle)
    async with settings.client(security) as client:
        # the uuid is the service's; it is read from the first status answer
        job = AudioVisual(url, "unknown", "", security=security, context=client.context)
        status = await job.status()
        payload = job.last_payload or {}
        uuid = payload.get("uuid")
        if isinstance(uuid, str) and uuid:
            job.uuid = uuid
        row: dict[str, Any] = {"uuid": payload.get("uuid"), "url": url, "status": status}
        percent = _conversion_percent(payload)
        if percent is not None:
            row["percent"] = percent
        if args.wait:
            await _wait_for_conversion(job, args, out, row)
            return
        if status == "completed":
            converted = await job.to_filelink()
            data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
            row.update(handle=converted.handle, file_url=converted.url, data=data)
            out.line(f"completed -> {converted.url}")
        else:
            done = f" ({percent:g}%)" if percent is not None else ""
            out.line(f"{status}{done}")
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
        with show_retries(out):
            anyio.run(command, args, out, settings)
        return EXIT_OK

    return run


class _RetryNotes(logging.Handler):
    """Writes each retry the SDK logs (`RETRY_RECORD`) as a line on stderr."""

    def __init__(self, out: Output) -> None:
        super().__init__(logging.DEBUG)
        self._out = out

    def emit(self, record: logging.LogRecord) -> None:
        facts = getattr(record, RETRY_RECORD, None)
        if not isinstance(facts, tuple):
            return
        retry, most, delay = facts
        method, url, _, _, reason = cast(tuple[Any, ...], record.args)
        self._out.note(f"retry {retry} of {most} in {delay:.1f} s: {method} {url} failed: {reason}")


@contextmanager
def show_retries(out: Output) -> Iterator[None]:
    """Show the SDK's retries on stderr while the block runs (not with ``--json``)."""
    sdk = logging.getLogger("filestack_async")
    handler = _RetryNotes(out)
    level = sdk.level
    sdk.addHandler(handler)
    if sdk.getEffectiveLevel() > logging.DEBUG:
        sdk.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        sdk.removeHandler(handler)
        sdk.setLevel(level)


def connection_options() -> argparse.ArgumentParser:
    """The flags every SDK command takes (also accepted before the command name)."""
    # SUPPRESS: a flag left out after the command does not undo the same flag before it
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
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


def _add_wait(parser: argparse.ArgumentParser) -> None:
    """``--wait`` and ``--timeout`` of the conversion commands."""
    parser.add_argument("--wait", action="store_true", help="wait until the conversion completes")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait with --wait (default 600)"
    )


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
        description=(
            "Download a file to PATH: into a folder (an existing one, or PATH ending with /) "
            "under its stored name, else to the file PATH; default: its stored name here."
        ),
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
    _add_wait(p)

    p = add(
        "av-status",
        run=cmd_av_status,
        help="show the status of a conversion av-convert started",
        description=(
            "Ask for the status of the conversion at URL (the URL av-convert printed); "
            "--wait polls until it completes."
        ),
    )
    p.add_argument("url", metavar="URL")
    _add_wait(p)

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
