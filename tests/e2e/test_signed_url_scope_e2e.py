"""What a URL from ``signed_url()`` lets its holder do, against a secret-enforcing emulator.

The client holds the app secret with a policy that allows everything (the ``target``
fixture), as the README's first example used to. Someone given the signed URL of one
file gets only what the URL's own policy grants: reading that file, for an hour.
"""

from __future__ import annotations

import re

import httpx
import pytest

from filestack_async import NotFoundError, PermissionDeniedError, Security
from tests.images import decode, quadrants

from .conftest import Target, raw_transport


def _holder_security(url: str) -> Security:
    """The policy and signature in a signed URL, as its holder could lift them out."""
    match = re.search(r"/security=p:([^,/]+),s:([0-9a-f]{64})/", url)
    assert match is not None, url
    return Security.from_signature(match[1], match[2])


async def test_a_signed_url_reads_its_own_file_and_nothing_else(target: Target) -> None:
    mine = await target.client.upload(content=b"mine")
    theirs = await target.client.upload(content=b"theirs")
    url = mine.signed_url()
    async with httpx.AsyncClient(transport=raw_transport(target)) as http:
        own = await http.get(url)
        assert own.status_code == 200 and own.content == b"mine"
        swapped = await http.get(url.replace(mine.handle, theirs.handle))
        assert swapped.status_code == 403
    lifted = _holder_security(url)
    stranger = target.client.filelink(theirs.handle, security=lifted)
    with pytest.raises(PermissionDeniedError):
        await stranger.get_content()
    with pytest.raises(PermissionDeniedError):
        await stranger.delete()
    with pytest.raises(PermissionDeniedError):
        await stranger.overwrite(content=b"taken over")
    with pytest.raises(PermissionDeniedError):
        await stranger.metadata()
    own_link = target.client.filelink(mine.handle, security=lifted)
    with pytest.raises(PermissionDeniedError):
        await own_link.delete()  # not even its own file: the URL only reads
    assert await theirs.get_content() == b"theirs"
    assert await mine.get_content() == b"mine"


async def test_a_widened_signed_url_gets_exactly_what_was_asked(target: Target) -> None:
    link = await target.client.upload(content=b"delete me")
    url = link.signed_url(call=["read", "remove"], expires_in=120)
    lifted = _holder_security(url)
    assert lifted.policy["call"] == ["read", "remove"]
    await target.client.filelink(link.handle, security=lifted).delete()
    with pytest.raises(NotFoundError):
        await link.get_content()


async def test_a_signed_chain_transforms_its_own_file_only(target: Target) -> None:
    mine = await target.client.upload(content=quadrants())
    theirs = await target.client.upload(content=quadrants())
    url = mine.flip().signed_url()
    async with httpx.AsyncClient(transport=raw_transport(target)) as http:
        own = await http.get(url)
        assert own.status_code == 200 and decode(own.content).size == (40, 20)
        other = await http.get(url.replace(mine.handle, theirs.handle))
        assert other.status_code == 403
    lifted = _holder_security(url)
    with pytest.raises(PermissionDeniedError):
        await target.client.filelink(theirs.handle, security=lifted).delete()
    with pytest.raises(PermissionDeniedError):
        await mine.flip().store(security=lifted)  # read and convert, not store
    assert decode(await theirs.get_content()).size == (40, 20)  # still there
