"""One ``Range: bytes=a-b`` request header as the ``start``/``end`` of ``stream()``."""

from __future__ import annotations

import re

_SINGLE_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


def requested_range(header: str | None) -> tuple[int | None, int | None]:
    """``(start, end)`` (inclusive) of a single ``bytes=a-b`` or ``bytes=a-`` range.

    Anything else (no header, several ranges, a suffix ``bytes=-n``) is ``(None, None)``:
    the whole file, as HTTP lets a server ignore a range it does not serve.

    >>> requested_range("bytes=10-19"), requested_range("bytes=5-"), requested_range(None)
    ((10, 19), (5, None), (None, None))
    """
    found = _SINGLE_RANGE.fullmatch((header or "").strip())
    if found is None:
        return None, None
    start, end = int(found.group(1)), int(found.group(2)) if found.group(2) else None
    if end is not None and end < start:
        return None, None
    return start, end
