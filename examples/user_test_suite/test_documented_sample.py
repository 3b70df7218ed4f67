"""The samples of docs/emulator.md ("Testing your own code with it"), as a user copies them.

They carry ``@pytest.mark.asyncio``, so they pass in pytest-asyncio's strict mode (its
default) as in auto mode; tests/examples runs this file in both.
"""

from __future__ import annotations

import pytest

from filestack_async import Client, RetryPolicy, Security
from filestack_async.emulator import Faults, RouteFault
from filestack_async.testing import EmulatorServerFactory, assert_faults_injected


# --8<-- [start:basic]
@pytest.mark.asyncio
async def test_avatar_is_stored(filestack_client: Client) -> None:
    link = await filestack_client.upload(content=b"avatar bytes")
    assert await link.get_content() == b"avatar bytes"


# --8<-- [end:basic]


# --8<-- [start:server]
@pytest.mark.asyncio
async def test_uploads_survive_failing_part_puts(
    filestack_emulator_server_factory: EmulatorServerFactory,
) -> None:
    # a real socket, an app secret, strict mode, and the first PUT of each part fails
    flaky = Faults(seed=3, rules=(RouteFault("put", error_rate=0.5, status=503),))
    server = filestack_emulator_server_factory(secret="APP-SECRET", strict=True, faults=flaky)
    security = Security.create("APP-SECRET", expires_in=600, call=["pick", "read"])
    retry = RetryPolicy(max_retries=8, initial_delay=0.001, max_delay=0.01)
    content = b"x" * (12 * 1024 * 1024)  # big enough for a multipart upload of 3 parts
    async with Client("MY_KEY", base_url=server.url, security=security, retry=retry) as client:
        link = await client.upload(content=content)
        assert await link.get_content() == content
    assert_faults_injected(server, {"put:503": 1}, exact=False)  # retries really were needed
    assert_faults_injected(server, {"put:reset": 0, "complete:202": 0})


# --8<-- [end:server]
