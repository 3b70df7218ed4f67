"""How a `Transformation` makes the objects its runs return, without importing their modules.

The modules import one way: ``_av`` → ``_filelink`` → ``_transform`` (a conversion
returns a Filelink and polls a chain; a Filelink makes chains). Running a chain
returns a `Filelink` (``store``) or an `AudioVisual` (``av_convert``), the classes
of modules above it: those modules register their makers here when imported, and
``_transform`` calls the makers `filelink_maker()` and `conversion_maker()` return.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._av import AudioVisual
    from ._context import Context
    from ._filelink import Filelink
    from ._security import Security
    from ._transform import Transformation

__all__ = [
    "ConversionMaker",
    "FilelinkMaker",
    "conversion_maker",
    "filelink_maker",
    "register_conversion_maker",
    "register_filelink_maker",
]


class FilelinkMaker(Protocol):
    """Makes the Filelink a service answer names (`filelink_from_answer`)."""

    def __call__(
        self,
        handle: object,
        *,
        what: str,
        method: str,
        url: str | None,
        security: Security | None,
        upload_response: dict[str, Any],
        context: Context,
    ) -> Filelink: ...


class ConversionMaker(Protocol):
    """Makes the `AudioVisual` of a conversion the service started."""

    def __call__(
        self,
        url: str,
        uuid: str,
        timestamp: str,
        *,
        transformation: Transformation,
        security: Security | None,
        payload: dict[str, Any],
    ) -> AudioVisual: ...


_filelink_maker: FilelinkMaker | None = None
_conversion_maker: ConversionMaker | None = None


def register_filelink_maker(maker: FilelinkMaker) -> None:
    """Called once by ``_filelink`` when it is imported."""
    global _filelink_maker
    _filelink_maker = maker


def register_conversion_maker(maker: ConversionMaker) -> None:
    """Called once by ``_av`` when it is imported."""
    global _conversion_maker
    _conversion_maker = maker


def filelink_maker() -> FilelinkMaker:
    """The registered `FilelinkMaker` (``_filelink``'s `filelink_from_answer`).

    The package imports its names on first use, so ``_transform`` may be loaded
    alone: then ``_filelink`` is loaded now, and registers its maker.
    """
    if _filelink_maker is None:
        importlib.import_module("._filelink", __package__)
    assert _filelink_maker is not None, "_filelink registers its maker when imported"
    return _filelink_maker


def conversion_maker() -> ConversionMaker:
    """The registered `ConversionMaker` (``_av``'s `AudioVisual`), loading ``_av`` if need be."""
    if _conversion_maker is None:
        importlib.import_module("._av", __package__)
    assert _conversion_maker is not None, "_av registers its maker when imported"
    return _conversion_maker
