"""What the storage (S3) means by an error answer to a part or chunk PUT.

S3 answers with an XML body, ``<Error><Code>…</Code><Message>…</Message>…</Error>``.
A few codes say the link struggled or the signed URL went stale rather than that the
request is wrong:

* 400 ``RequestTimeout`` (the body did not arrive in time) and 400 ``IncompleteBody``
  (the body was cut short): like a timeout, the part is retried (regular) or the
  chunk halved (intelligent ingestion);
* 403 ``RequestTimeTooSkewed`` and 403 ``AccessDenied`` "Request has expired": the
  signed URL no longer works; a fresh one is asked from ``/multipart/upload``.

The body is read from the error's preview (the HTTP layer reads at most 64 KiB of an
error body and keeps its first 300 characters), with two anchored patterns and no XML
parser: nothing in the answer decides how much is read.
"""

from __future__ import annotations

import enum
import re

from .._exceptions import APIStatusError

#: the characters of an error body looked at (the preview is shorter still)
_SCANNED = 2048
_CODE = re.compile(r"<Code>\s*([A-Za-z][A-Za-z0-9.]{0,63})\s*</Code>")
_MESSAGE = re.compile(r"<Message>([^<]{0,256})</Message>")

#: 400 codes for a body the link could not deliver whole or in time
SLOW_LINK_CODES = frozenset({"RequestTimeout", "IncompleteBody"})


class StorageVerdict(enum.Enum):
    """What a storage error answer means for the part or chunk."""

    #: the body did not arrive whole or in time: treat as a timeout
    SLOW_LINK = "slow-link"
    #: the signed URL no longer works (clock skew, expired): ask for a fresh one
    STALE_URL = "stale-url"


def storage_error(body: str) -> tuple[str | None, str | None]:
    """The ``Code`` and ``Message`` of an S3 XML error body (``None`` when absent).

    >>> storage_error('<?xml version="1.0"?><Error><Code>RequestTimeout</Code></Error>')
    ('RequestTimeout', None)
    >>> storage_error('{"error": "nope"}')
    (None, None)
    """
    text = body[:_SCANNED]
    if "<Error>" not in text:
        return None, None
    code = _CODE.search(text)
    message = _MESSAGE.search(text)
    return (code.group(1) if code else None), (message.group(1).strip() if message else None)


def storage_verdict(err: APIStatusError) -> StorageVerdict | None:
    """`StorageVerdict` for a PUT's error answer, or ``None`` when its status decides.

    >>> from filestack_async import BadRequestError
    >>> body = "<Error><Code>IncompleteBody</Code></Error>"
    >>> storage_verdict(BadRequestError("400", status_code=400, body=body))
    <StorageVerdict.SLOW_LINK: 'slow-link'>
    """
    code, message = storage_error(err.body)
    if code is None:
        return None
    if err.status_code == 400 and code in SLOW_LINK_CODES:
        return StorageVerdict.SLOW_LINK
    if err.status_code == 403:
        if code == "RequestTimeTooSkewed":
            return StorageVerdict.STALE_URL
        if code == "AccessDenied" and message is not None and "expired" in message.lower():
            return StorageVerdict.STALE_URL
    return None
