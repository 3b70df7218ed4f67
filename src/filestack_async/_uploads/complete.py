"""``/multipart/complete``, polled while the service answers 202 ("not assembled yet")."""

from __future__ import annotations

from typing import Any

from .._exceptions import UploadIncompleteError
from .._http import Retry
from .._retry import backoff_delay, parse_retry_after
from .protocol import UploadSession
from .state import UploadState


async def complete(
    session: UploadSession, body: dict[str, Any], state: UploadState
) -> dict[str, Any]:
    """Send complete; on 202 wait (``Retry-After``, else the retry backoff) and send it again.

    Waiting stops once ``UploadConfig.complete_budget`` seconds would be exceeded.

    Raises:
        UploadIncompleteError: still 202 when the budget ran out.
    """
    policy = session.context.retry
    budget = session.context.upload.complete_budget
    waited = 0.0
    polls = 0
    while True:
        response = await session.http.request(
            "POST",
            f"{session.base_url}/multipart/complete",
            json=body,
            headers=session.headers,
            retry=Retry.ALWAYS,
            redact=session.redact,
        )
        if response.status_code != 202:
            return response.json_object()
        retry_after = parse_retry_after(response.headers)
        if retry_after is not None and retry_after <= policy.max_retry_after:
            delay = retry_after
        else:
            delay = backoff_delay(polls, policy)
        if waited + delay > budget:
            raise UploadIncompleteError(
                f"upload {state.upload_id}: /multipart/complete still answered 202 (not "
                f"assembled yet) after {polls + 1} attempts over {waited:.1f}s; the parts are "
                "uploaded, so the file may still appear",
                upload_id=state.upload_id,
                parts_done=state.parts_done,
                parts_total=state.parts_total,
                bytes_sent=state.bytes_sent,
            )
        await policy.sleep(delay)
        waited += delay
        polls += 1
