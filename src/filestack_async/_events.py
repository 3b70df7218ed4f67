"""Events an application can log or count: ``Client(on_event=...)``, and ``FILESTACK_LOG``.

Each event is a small frozen dataclass; the hook (a plain function or a coroutine
function) gets every event of the client's calls, in the order they happen:

* `RetryEvent`: a request failed and is tried again (what, attempt, delay, cause);
* `ChunkSizeChanged`: intelligent ingestion halved or grew its chunk size;
* `PartDone`: the service acknowledged a part (committed, for intelligent ingestion);
* `UploadResumed`: an upload continues from its checkpoint (``resume=``);
* `FallbackSwitched`: an ``intelligent="fallback"`` upload moved to intelligent ingestion.

Every event is also logged at DEBUG on the ``filestack_async.events`` logger. Setting
``FILESTACK_LOG=debug`` (or ``info``) sends the package's log records to stderr, as
openai-python's ``OPENAI_LOG`` does; secrets are masked in every record (see
`filestack_async._http`). Nothing secret is in an event: URLs and causes are redacted.
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ._exceptions import ConfigurationError

#: the environment variable that turns the package's logging on (``debug``, ``info``)
LOG_ENV = "FILESTACK_LOG"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}

logger = logging.getLogger("filestack_async.events")


@dataclass(frozen=True)
class RetryEvent:
    """A request failed and will be sent again after ``delay`` seconds.

    Attributes:
        what: the request, e.g. ``"PUT https://.../part"`` (credentials removed).
        attempt: the number of the retry about to be made (1 for the first retry).
        delay: seconds waited before it.
        cause: what failed, redacted.
    """

    what: str
    attempt: int
    delay: float
    cause: str
    kind: str = "retry"


@dataclass(frozen=True)
class ChunkSizeChanged:
    """Intelligent ingestion changed its chunk size (halved after a failure, grown back).

    Attributes:
        upload_id: the upload.
        part_number: the part whose chunk caused it.
        old: the size before, in bytes.
        new: the size now, in bytes.
    """

    upload_id: str
    part_number: int
    old: int
    new: int
    kind: str = "chunk_size_changed"


@dataclass(frozen=True)
class PartDone:
    """The service acknowledged a part (for intelligent ingestion: committed it).

    Attributes:
        upload_id: the upload.
        part_number: the part, 1-based.
        size: its bytes.
        parts_done: parts acknowledged so far (including those of an earlier run).
        parts_total: the parts of the whole file.
    """

    upload_id: str
    part_number: int
    size: int
    parts_done: int
    parts_total: int
    kind: str = "part_done"


@dataclass(frozen=True)
class UploadResumed:
    """An upload continues from its checkpoint instead of starting again.

    Attributes:
        upload_id: the upload, as the checkpoint has it.
        checkpoint: the checkpoint file.
        parts_done: parts the checkpoint holds as acknowledged.
        bytes_acknowledged: their bytes (not sent again).
    """

    upload_id: str
    checkpoint: str
    parts_done: int
    bytes_acknowledged: int
    kind: str = "upload_resumed"


@dataclass(frozen=True)
class FallbackSwitched:
    """An ``intelligent="fallback"`` upload's part struggled the regular way; it and every
    later part go through intelligent ingestion.

    Attributes:
        upload_id: the upload.
        part_number: the part that struggled.
        cause: what failed, redacted.
    """

    upload_id: str
    part_number: int
    cause: str
    kind: str = "fallback_switched"


#: Any event the hook receives.
Event = RetryEvent | ChunkSizeChanged | PartDone | UploadResumed | FallbackSwitched
#: The hook: a plain function or a coroutine function taking one event.
EventHook = Callable[[Event], Awaitable[None] | None]


def check_hook(hook: object) -> EventHook | None:
    """``on_event=`` if it is ``None`` or callable, else `ConfigurationError`."""
    if hook is not None and not callable(hook):
        raise ConfigurationError(
            f"on_event must be a callable taking an event, not {type(hook).__name__}"
        )
    return hook


async def emit(hook: EventHook | None, event: Event) -> None:
    """Log ``event`` at DEBUG and hand it to ``hook`` (awaited when it is a coroutine)."""
    logger.debug("%s", event)
    if hook is None:
        return
    result = hook(event)
    if inspect.isawaitable(result):
        await result


def configure_logging(environ: dict[str, str] | None = None) -> logging.Handler | None:
    """With ``FILESTACK_LOG`` set to ``debug`` or ``info``, log the package to stderr.

    A handler is added to the ``filestack_async`` logger only when it has none, so an
    application's own logging setup wins. Returns the handler added, if any.
    """
    env = os.environ if environ is None else environ
    level = _LEVELS.get(env.get(LOG_ENV, "").strip().lower())
    root = logging.getLogger("filestack_async")
    if level is None or root.handlers:
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("[%(asctime)s - %(name)s:%(lineno)d - %(levelname)s] %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)
    return handler
