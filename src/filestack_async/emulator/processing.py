"""Processing URLs: running a chain of tasks on a source.

Parsing uses the SDK's task catalogue (`filestack_async._tasks`), so the emulator
accepts exactly the URLs the SDK builds. `IMPLEMENTED` maps each task the emulator
can really run to its implementation (the image tasks of `image_tasks`); every other
catalogue task answers 400 saying the emulator does not implement it. ``store``
(alone, or last) stores the result as a new file; ``video_convert`` starts or reports
a background conversion (`av_convert`).

Consecutive image tasks are applied to one decoded image and encoded once. Results
are cached by source and chain: the key is the source's MD5 and the rendered tasks
(``store`` excluded), the entry a file under ``<data dir>/processed/``, so asking
the same chain again on the same bytes (or storing it) does not recompute it. The
``X-Emulator-Cache`` response header says ``hit`` or ``miss``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._tasks import ParsedPath, Task
from . import av_convert, image_tasks
from .fetch import Fetched, discard, fetch
from .images import probe_size
from .security import Credentials, StoreGrant, query_credentials
from .storage import StoredFile, new_handle
from .strict import ProtocolError
from .upload_api import upload_answer
from .web import error, file_response, origin

if TYPE_CHECKING:
    from .app import Emulator

#: A task implementation: given the emulator, the fetched source file and the task,
#: return its result as a new temporary file (the caller deletes the input).
TaskImpl = Callable[["Emulator", Fetched, Task], Awaitable[Fetched]]

#: Tasks the emulator really runs (``store`` and ``video_convert`` are handled apart).
IMPLEMENTED: dict[str, TaskImpl] = dict(image_tasks.TASK_IMPLS)

#: Header telling whether a processed result came from the cache.
CACHE_HEADER = "X-Emulator-Cache"
#: The cache keeps at most this many bytes of results; the oldest entries go first.
CACHE_MAX_BYTES = 512 * 1024 * 1024


async def run_processing(emulator: Emulator, request: Request, parsed: ParsedPath) -> Response:
    """Run a parsed processing URL and answer as the CDN would."""
    tasks = list(parsed.tasks)
    store: Task | None = None
    if tasks and tasks[-1].name == "store":
        store = tasks.pop()
    if any(t.name == "store" for t in tasks):
        return error(400, "store must be the last task of a chain")
    if any(t.name == "video_convert" for t in tasks):
        if len(tasks) != 1 or store is not None:
            return error(400, "video_convert must be the only task of its URL")
        if len(parsed.sources) != 1:
            return error(400, "video_convert takes one source")
        return await av_convert.convert(emulator, request, parsed, tasks[0])
    missing = [t.name for t in tasks if t.name not in IMPLEMENTED]
    if missing:
        return error(
            400,
            f"the emulator does not implement the {missing[0]!r} task; "
            "see docs/emulator_processing.md for what it runs",
            code="NotImplementedByEmulator",
        )
    if len(parsed.sources) != 1:
        return error(400, "multi-file sources are not implemented by the emulator")
    if not tasks and store is None:
        return error(400, "a processing URL needs at least one task")
    grant = None
    if store is not None:  # the store rules hold before any work is done
        credentials = (
            Credentials(parsed.policy, parsed.signature)
            if parsed.policy
            else query_credentials(request.query_params)
        )
        grant = emulator.store_grant(
            credentials,
            call="store",
            path=_text(store.get("path")),
            container=_text(store.get("container")),
        )
    source = parsed.source
    url = source if "://" in source else f"{origin(request)}/{source}"
    current = await fetch(emulator, url, request.url.netloc, authorized="://" not in source)
    cache_state = "none"
    try:
        if tasks:
            current, hit = await _run_cached(emulator, current, tasks)
            cache_state = "hit" if hit else "miss"
        if store is None or grant is None:
            response = await _respond_with(emulator, request, current)
        else:
            response = await _store(emulator, request, current, store, grant)
    finally:
        await discard(current.path)
    if cache_state != "none":
        response.headers[CACHE_HEADER] = cache_state
    return response


async def run_tasks(emulator: Emulator, current: Fetched, tasks: Sequence[Task]) -> Fetched:
    """Apply ``tasks`` in order (runs of image tasks in one pass); the caller owns the result.

    The input file is deleted once a result replaces it.
    """
    index = 0
    while index < len(tasks):
        end = index
        while end < len(tasks) and tasks[end].name in image_tasks.IMAGE_TASKS:
            end += 1
        if end > index:
            result = await image_tasks.process(emulator, current, tasks[index:end])
            index = end
        else:
            result = await IMPLEMENTED[tasks[index].name](emulator, current, tasks[index])
            index += 1
        await discard(current.path)
        current = result
    return current


# -- the result cache -----------------------------------------------------------------


def cache_key(source_md5: str, tasks: Sequence[Task]) -> str:
    """The cache key of a chain on a source: a SHA-256 of the MD5 and the rendered tasks."""
    chain = "/".join(task.render() for task in tasks)
    return hashlib.sha256(f"{source_md5}\n{chain}".encode()).hexdigest()


def cache_dir(emulator: Emulator) -> Path:
    """Where cached results live: ``<data dir>/processed``."""
    return emulator.data_dir / "processed"


async def _run_cached(
    emulator: Emulator, current: Fetched, tasks: Sequence[Task]
) -> tuple[Fetched, bool]:
    key = cache_key(current.md5, tasks)
    folder = cache_dir(emulator)
    target = emulator.storage.incoming_path()
    cached = await emulator.run(_cache_get, folder, key, target)
    if cached is not None:
        await discard(current.path)
        return cached, True
    result = await run_tasks(emulator, current, tasks)
    try:
        await emulator.run(_cache_put, folder, key, result)
    except OSError:
        pass  # a cache that cannot be written only costs a recomputation
    return result, False


def _cache_get(folder: Path, key: str, target: Path) -> Fetched | None:
    meta_path = folder / f"{key}.json"
    try:
        meta = json.loads(meta_path.read_text())
        shutil.copyfile(folder / key, target)
    except (OSError, ValueError):
        target.unlink(missing_ok=True)
        return None
    os.utime(meta_path)  # most recently used
    return Fetched(target, int(meta["size"]), meta["mimetype"], meta["filename"], meta["md5"])


def _cache_put(folder: Path, key: str, result: Fetched) -> None:
    folder.mkdir(exist_ok=True)
    partial = folder / f".{key}.{os.getpid()}.{time.monotonic_ns()}"
    shutil.copyfile(result.path, partial)
    os.replace(partial, folder / key)
    meta = {
        "size": result.size,
        "mimetype": result.mimetype,
        "filename": result.filename,
        "md5": result.md5,
    }
    partial.write_text(json.dumps(meta))
    os.replace(partial, folder / f"{key}.json")
    _cache_trim(folder)


def _cache_trim(folder: Path) -> None:
    entries = []
    total = 0
    for meta in folder.glob("*.json"):
        data = folder / meta.stem
        try:
            size = data.stat().st_size
            entries.append((meta.stat().st_mtime, size, meta, data))
        except OSError:
            continue
        total += size
    for _, size, meta, data in sorted(entries, key=lambda e: e[0]):
        if total <= CACHE_MAX_BYTES:
            break
        meta.unlink(missing_ok=True)
        data.unlink(missing_ok=True)
        total -= size


async def _respond_with(emulator: Emulator, request: Request, result: Fetched) -> Response:
    """The result as the CDN serves it: its ``ETag`` (the output's MD5), ``Range`` and
    ``If-Range``; its bytes are kept until the body ends."""
    kept = emulator.storage.incoming_path()
    await emulator.run(os.replace, result.path, kept)  # the caller's discard finds nothing
    return file_response(
        request,
        [(kept, result.size)],
        size=result.size,
        media_type=result.mimetype,
        etag=f'"{result.md5}"',
        bandwidth=emulator.bandwidth,
        on_close=lambda: kept.unlink(missing_ok=True),
    )


def _text(value: object) -> str | None:
    """A store path or container as stored: any value but an empty one, as text."""
    return str(value) if value else None


async def _store(
    emulator: Emulator, request: Request, result: Fetched, task: Task, grant: StoreGrant
) -> Response:
    params: dict[str, Any] = dict(task.params)
    if params.get("base64decode") is True:
        await emulator.run(_base64decode_in_place, result.path)
        result.size = result.path.stat().st_size
    grant.admit(result.size)
    handle = new_handle()
    filename = str(params.get("filename") or result.filename or "file")
    workflows = params.get("workflows")
    file = StoredFile(
        handle=handle,
        filename=filename,
        mimetype=result.mimetype,
        size=result.size,
        etag=f'"{result.md5}"',
        md5=result.md5,
        uploaded=int(time.time() * 1000),
        location=str(params.get("location") or "S3"),
        key=f"{handle}_{filename}",
        path=_text(params.get("path")),
        container=_text(params.get("container")),
        workflows=[str(w) for w in workflows] if isinstance(workflows, list) else None,
    )
    dims = await emulator.run(probe_size, result.path)
    if dims is not None:
        file.width, file.height = dims
    await emulator.run(emulator.storage.store_blob, result.path, file)
    answer = upload_answer(file, origin(request))
    answer["type"] = file.mimetype
    return JSONResponse(answer)


def _base64decode_in_place(path: Path) -> None:
    try:
        decoded = base64.b64decode(path.read_bytes(), validate=False)
    except ValueError as err:
        raise ProtocolError(f"base64decode: the content is not base64 ({err})") from None
    path.write_bytes(decoded)
