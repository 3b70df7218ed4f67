"""Image facts for metadata: dimensions read from the header only (nothing decoded)."""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError


def probe_size(path: Path) -> tuple[int, int] | None:
    """``(width, height)`` if ``path`` is an image Pillow recognises, else ``None``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return int(width), int(height)


def sniff_mimetype(path: Path) -> str | None:
    """The image MIME type of a file, if Pillow recognises it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return Image.MIME.get(image.format or "")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
