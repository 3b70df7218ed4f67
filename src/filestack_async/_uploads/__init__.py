"""The upload engine: regular multipart and intelligent ingestion, with bounded memory.

`Client.upload` and `Client.upload_many` are the entry points; this package does the work:

* `sources` turns a path, bytes, file object or async stream into parts;
* `planner` decides part sizes and adapts intelligent-ingestion chunk sizes (pure);
* `pool` runs parts through a sliding window under the client-wide limiter;
* `protocol` builds and sends each Upload API request; `complete` polls 202;
* `regular` and `intelligent` are the two flows; `engine` ties one upload together;
* `progress` reports written and acknowledged bytes;
* `checkpoint` and `resume` keep and continue from the ``resume=`` checkpoint.
"""

from .engine import UploadItem, UploadManyItem, check_intelligent, upload, upload_many
from .progress import ProgressCallback, UploadProgress
from .sources import BinaryReadable, hashing_threads

__all__ = [
    "BinaryReadable",
    "ProgressCallback",
    "UploadItem",
    "UploadManyItem",
    "UploadProgress",
    "check_intelligent",
    "hashing_threads",
    "upload",
    "upload_many",
]
