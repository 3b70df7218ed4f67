"""Processing URLs: running a chain of tasks on a source.

Parsing uses the SDK's task catalogue (`filestack_async._tasks`), so the emulator
accepts exactly the URLs the SDK builds. `IMPLEMENTED` maps each task the emulator
can really run to its implementation; every other catalogue task answers 400 saying
the emulator does not implement it. ``store`` (alone, or last) stores the result as
a new file.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._tasks import ParsedPath, Task
from .fetch import Fetched, discard, fetch
from .images import probe_size
from .storage import StoredFile, new_handle
from .strict import ProtocolError
from .upload_api import upload_answer
from .web import error, origin

if TYPE_CHECKING:
    from .app import Emulator

#: A task implementation: given the emulator, the fetched source file and the task,
#: return the path of its result (a new temporary file) and that result's MIME type.
TaskImpl = Callable[["Emulator", Fetched, Task], Awaitable[Fetched]]

#: Tasks the emulator really runs (``store`` is handled separately).
IMPLEMENTED: dict[str, TaskImpl] = {}


async def run_processing(emulator: Emulator, request: Request, parsed: ParsedPath) -> Response:
    """Run a parsed processing URL and answer as the CDN would."""
    tasks = list(parsed.tasks)
    store: Task | None = None
    if tasks and tasks[-1].name == "store":
        store = tasks.pop()
    missing = [t.name for t in tasks if t.name not in IMPLEMENTED]
    if any(t.name == "store" for t in tasks):
        return error(400, "store must be the last task of a chain")
    if missing:
        return error(
            400,
            f"the emulator does not implement the {missing[0]!r} task; "
            "see docs/emulator.md for what it runs",
            code="NotImplementedByEmulator",
        )
    if len(parsed.sources) != 1:
        return error(400, "multi-file sources are not implemented by the emulator")
    if not tasks and store is None:
        return error(400, "a processing URL needs at least one task")
    source = parsed.source
    url = source if "://" in source else f"{origin(request)}/{source}"
    current = await fetch(emulator, url, request.url.netloc, authorized="://" not in source)
    try:
        for task in tasks:
            result = await IMPLEMENTED[task.name](emulator, current, task)
            await discard(current.path)
            current = result
        if store is None:
            return await _respond_with(emulator, current)
        return await _store(emulator, request, current, store)
    finally:
        await discard(current.path)


async def _respond_with(emulator: Emulator, result: Fetched) -> Response:
    data = await emulator.run(result.path.read_bytes)
    return Response(data, media_type=result.mimetype)


async def _store(emulator: Emulator, request: Request, result: Fetched, task: Task) -> Response:
    params: dict[str, Any] = dict(task.params)
    if params.get("base64decode") is True:
        await emulator.run(_base64decode_in_place, result.path)
        result.size = result.path.stat().st_size
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
        path=str(params["path"]) if params.get("path") else None,
        container=str(params["container"]) if params.get("container") else None,
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
