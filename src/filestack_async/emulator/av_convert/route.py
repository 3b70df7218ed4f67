"""The ``video_convert`` route: start the conversion a URL asks for, or answer the status of
the one it started already (polling is asking the same URL again)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..._tasks import ParsedPath, Task
from ..fetch import discard, fetch
from ..strict import ProtocolError
from ..web import origin
from .jobs import Job, conversions
from .request import check_task, job_uuid, output_filename

if TYPE_CHECKING:
    from ..app import Emulator

__all__ = ["convert"]


async def convert(emulator: Emulator, request: Request, parsed: ParsedPath, task: Task) -> Response:
    """Start the conversion this URL asks for, or report the one already started."""
    preset = check_task(task)
    jobs = conversions(emulator)
    source = parsed.source
    own = "://" not in source
    version = ""
    if own:
        stored = await emulator.run(emulator.storage.get_file, source)
        if stored is None:
            raise ProtocolError(f"the source file {source} does not exist", status=404)
        version = stored.etag
    uuid = job_uuid(source, version, task)
    payload = await emulator.run(jobs.status, uuid, force=task.get("force") is True)
    if payload is not None:
        return JSONResponse(payload)
    url = f"{origin(request)}/{source}" if own else source
    fetched = await fetch(emulator, url, request.url.netloc, authorized=own)
    params = task.as_dict()
    job = Job(
        uuid=uuid,
        timestamp=str(int(time.time())),
        preset=preset,
        params=params,
        origin=origin(request),
        filename=output_filename(fetched.filename, preset, params),
    )
    job, started = jobs.start(job, fetched.path)
    if not started:
        await discard(fetched.path)
    payload = await emulator.run(jobs.status, job.uuid)
    assert payload is not None
    return JSONResponse(payload)
