"""The blocking (sync) API: the async SDK run on one shared background event-loop thread.

`Client`, `Filelink`, `Transformation` and `AudioVisual` have the same methods and
parameters as the async classes of `filestack_async`, without ``await``. There is
one implementation: every call runs the async code as a task on the process's one
loop thread (an anyio blocking portal, started by the first open `Client` and
stopped when the last one closes), so sync and async behave the same.

* Works in scripts, from several threads at once, and in Jupyter (where a loop
  already runs: the call blocks that loop, with a once-per-process
  ``RuntimeWarning``; in async code use `filestack_async.Client`).
* Ctrl+C during a call cancels it (an upload stops its parts) and re-raises
  ``KeyboardInterrupt`` promptly.
* Progress callbacks run on the loop thread: keep them cheap; calling the sync
  client from one raises `LoopThreadError` instead of deadlocking.
* After ``os.fork()`` a client from the parent raises `ForkedProcessError` in the
  child; create a new one there.
* Use ``with Client(...)`` or call ``close()``; nothing is closed from ``__del__``.

Example:
    >>> from filestack_async.sync import Client, Security
    >>> with Client("APIKEY") as client:  # doctest: +SKIP
    ...     link = client.upload(filepath="photo.jpg", progress=lambda p: print(p.fraction))
    ...     thumb = link.resize(width=200).flip().store(path="/thumbs/")
    ...     thumb.download("thumb.jpg")
    ...     print(thumb.metadata(["size", "mimetype"]))
"""

from __future__ import annotations

from ._config import Endpoints, RetryPolicy, Timeouts, UploadConfig
from ._exceptions import ConfigurationError, FilestackError
from ._portal import ForkedProcessError, LoopThreadError, SyncUsageError
from ._security import Security
from ._sync_generated import AudioVisual, Client, Filelink, Transformation
from ._sync_stream import SyncDownloadStream
from ._uploads import UploadItem, UploadProgress

__all__ = [
    "AudioVisual",
    "Client",
    "ConfigurationError",
    "Endpoints",
    "Filelink",
    "FilestackError",
    "ForkedProcessError",
    "LoopThreadError",
    "RetryPolicy",
    "Security",
    "SyncDownloadStream",
    "SyncUsageError",
    "Timeouts",
    "Transformation",
    "UploadConfig",
    "UploadItem",
    "UploadProgress",
]
