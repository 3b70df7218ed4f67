"""The code under test: a small part of a user's app that keeps avatars in Filestack.

It takes the `Client` as a parameter (the app opens one at startup), which is what lets
its tests hand it a client bound to the emulator instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from filestack_async import Client


@dataclass(frozen=True)
class Avatar:
    """An uploaded avatar and its 64x64 thumbnail."""

    original: str
    thumbnail: str


async def save_avatar(client: Client, user_id: str, image: bytes) -> Avatar:
    """Store the image under ``avatars/<user_id>/`` with a square thumbnail beside it."""
    folder = f"avatars/{user_id}/"
    link = await client.upload(
        content=image,
        store_params={"path": folder, "filename": "avatar.png", "mimetype": "image/png"},
    )
    thumbnail = await link.resize(width=64, height=64, fit="crop").store(path=folder)
    return Avatar(original=link.handle, thumbnail=thumbnail.handle)


async def delete_avatar(client: Client, avatar: Avatar) -> None:
    """Delete both files (the client needs a security policy allowing ``remove``)."""
    for handle in (avatar.original, avatar.thumbnail):
        await client.filelink(handle).delete()
