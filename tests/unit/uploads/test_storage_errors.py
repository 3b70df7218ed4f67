"""Reading S3's XML error answers: the code, the message, and what they mean."""

from __future__ import annotations

import pytest

from filestack_async import APIStatusError
from filestack_async._exceptions import status_error_class
from filestack_async._uploads.storage_errors import (
    StorageVerdict,
    storage_error,
    storage_verdict,
)

XML = '<?xml version="1.0" encoding="UTF-8"?>\n'


def answer(status: int, body: str) -> APIStatusError:
    return status_error_class(status)(f"PUT answered {status}", status_code=status, body=body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (XML + "<Error><Code>RequestTimeout</Code><Message>late</Message></Error>",
         ("RequestTimeout", "late")),
        ("<Error>\n  <Code> IncompleteBody </Code>\n</Error>", ("IncompleteBody", None)),
        ("<Error><Message>Request has expired</Message><Code>AccessDenied</Code></Error>",
         ("AccessDenied", "Request has expired")),
        ('{"Code": "RequestTimeout"}', (None, None)),  # not S3's document
        ("<Code>RequestTimeout</Code>", (None, None)),  # no Error element
        ("<Error><Code>Request Timeout</Code></Error>", (None, None)),  # not a code
        ("<Error><Code><![CDATA[x]]></Code></Error>", (None, None)),
        ("", (None, None)),
        # the preview the HTTP layer keeps may cut the document short
        (XML + "<Error><Code>RequestTimeout</Code><Message>Your socket conn…",
         ("RequestTimeout", None)),
    ],
)  # fmt: skip
def test_storage_error_reads_code_and_message(
    body: str, expected: tuple[str | None, str | None]
) -> None:
    assert storage_error(body) == expected


def test_only_the_start_of_a_huge_body_is_looked_at() -> None:
    padding = " " * 10_000
    assert storage_error("<Error>" + padding + "<Code>RequestTimeout</Code></Error>") == (
        None,
        None,
    )
    # a very long code is not a code
    assert storage_error("<Error><Code>" + "A" * 100 + "</Code></Error>") == (None, None)


@pytest.mark.parametrize(
    ("status", "body", "verdict"),
    [
        (400, "<Error><Code>RequestTimeout</Code></Error>", StorageVerdict.SLOW_LINK),
        (400, "<Error><Code>IncompleteBody</Code></Error>", StorageVerdict.SLOW_LINK),
        (403, "<Error><Code>RequestTimeTooSkewed</Code></Error>", StorageVerdict.STALE_URL),
        (403, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
         StorageVerdict.STALE_URL),
        (403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", None),
        (403, "<Error><Code>AccessDenied</Code></Error>", None),
        # a code under another status than S3 gives it decides nothing
        (403, "<Error><Code>RequestTimeout</Code></Error>", None),
        (400, "<Error><Code>RequestTimeTooSkewed</Code></Error>", None),
        (500, "<Error><Code>InternalError</Code></Error>", None),
        (400, "<Error><Code>InvalidArgument</Code></Error>", None),
        (400, '{"error": "RequestTimeout"}', None),
    ],
)  # fmt: skip
def test_storage_verdict(status: int, body: str, verdict: StorageVerdict | None) -> None:
    assert storage_verdict(answer(status, body)) is verdict
