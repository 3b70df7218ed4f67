"""``video_convert``: audio/video conversion with PyAV in background threads.

The first request for a conversion URL fetches the source, starts a job and answers
the status JSON at once; asking the same URL again (GET or POST) answers the same
job's current status, so polling is idempotent: the ``uuid`` is derived from the
source (and, for a file of this emulator, its version) and the task's parameters.
A job goes ``pending`` (queued) → ``started`` → ``completed`` with ``data.url``, the
CDN URL of the new stored file, or ``failed`` with ``data.error``.

Conversions run in their own threads, never on the event loop; at most
`MAX_PARALLEL` run at once. Finished jobs are also written to ``<data dir>/av/`` so a
restarted emulator with the same data folder still answers them.

One module per job, imported one way: `route` (the HTTP handler) uses `request`
(reading and checking the task) and `jobs` (the state, threads and records of each
emulator's conversions), `jobs` runs `transcode` (PyAV), and all of them read
`presets` (what it converts to).
"""

from .jobs import MAX_PARALLEL, Conversions, Job, conversions, stop_conversions
from .presets import PRESETS, Preset
from .route import convert
from .transcode import ConversionFailed, Geometry, parse_time, plan_geometry, transcode

__all__ = [
    "MAX_PARALLEL",
    "PRESETS",
    "ConversionFailed",
    "Conversions",
    "Geometry",
    "Job",
    "Preset",
    "conversions",
    "convert",
    "parse_time",
    "plan_geometry",
    "stop_conversions",
    "transcode",
]
