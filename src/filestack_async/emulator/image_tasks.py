"""Image tasks the emulator really runs, with Pillow.

A run of consecutive image tasks is applied to one decoded image and encoded once
(`process`), so a chain such as ``resize/flip/enhance`` decodes and encodes a single
time. Decoding is guarded: data Pillow does not recognise, damaged images and images
with more pixels than ``EmulatorConfig.max_image_pixels`` (decompression bombs) are
refused with a 400 before any pixel is decoded. All the work runs in a worker thread.

Colours are hex without ``#`` (``RGB``, ``RGBA``, ``RRGGBB``, ``RRGGBBAA``), a CSS
colour name, or ``transparent``.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from PIL import (
    Image,
    ImageChops,
    ImageColor,
    ImageDraw,
    ImageEnhance,
    ImageFilter,
    ImageOps,
    UnidentifiedImageError,
)

from .._tasks import Task, Value
from .fetch import Fetched, discard
from .strict import ProtocolError

if TYPE_CHECKING:
    from .app import Emulator

__all__ = ["IMAGE_TASKS", "TASK_IMPLS", "process", "run_chain"]

RGBA = tuple[int, int, int, int]
_WHITE: RGBA = (255, 255, 255, 255)
_BLACK: RGBA = (0, 0, 0, 255)
_ORIENTATION = 0x0112
#: Tags ``getexif()`` returns for a TIFF that describe its pixel layout (width, strips,
#: samples...); written with a result of another size they break the TIFF encoder
#: ("codec configuration error") and mislabel other formats.
_LAYOUT_TAGS = (
    254, 255, 256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 284, 317, 320, 322, 323,
    324, 325, 338, 339, 530, 532,
)  # fmt: skip

#: ``output`` formats the emulator writes: Pillow format, extension, extra save options.
_FORMATS: dict[str, tuple[str, str]] = {
    "png": ("PNG", "png"),
    "jpg": ("JPEG", "jpg"),
    "pjpg": ("JPEG", "jpg"),
    "webp": ("WEBP", "webp"),
    "gif": ("GIF", "gif"),
    "bmp": ("BMP", "bmp"),
    "tiff": ("TIFF", "tiff"),
    "pdf": ("PDF", "pdf"),
}
_EXTENSIONS = {fmt: ext for fmt, ext in _FORMATS.values()}
_DOCUMENT_FORMATS = frozenset(
    {"doc", "docx", "html", "odp", "ods", "odt", "ppt", "pptx", "svg", "txt", "xls", "xlsx"}
)


class ImageProcessingError(ProtocolError):
    """A task cannot run on this image (a 400 naming the task and the reason)."""

    def __init__(self, message: str, *, code: str = "ImageProcessingError") -> None:
        super().__init__(message, code=code)


@dataclass
class Encoding:
    """How the result is written (set by output, quality, no_metadata, compress)."""

    format: str | None = None
    quality: int | None = None
    progressive: bool = False
    optimize: bool = False
    strip: bool = False
    background: RGBA | None = None
    cmyk: bool = False
    dpi: int | None = None


@dataclass
class Canvas:
    """The image being processed and what the encoder needs to know."""

    image: Image.Image
    source_format: str | None
    limit: int
    exif: Image.Exif
    icc: bytes | None
    encoding: Encoding = field(default_factory=Encoding)


# -- colours and small helpers ----------------------------------------------------------


def parse_color(value: Value | None, default: RGBA) -> RGBA:
    """A Filestack colour (hex without ``#``, a name, or ``transparent``) as RGBA."""
    if value is None:
        return default
    text = str(value)
    if text.lower() == "transparent":
        return (0, 0, 0, 0)
    candidate = f"#{text}" if all(c in "0123456789abcdefABCDEF" for c in text) else text
    try:
        rgb = ImageColor.getrgb(candidate)
    except ValueError:
        raise ImageProcessingError(f"{text!r} is not a colour the emulator knows") from None
    return (rgb[0], rgb[1], rgb[2], rgb[3] if len(rgb) == 4 else 255)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA")


def _check_size(canvas: Canvas, size: tuple[int, int], task: str) -> None:
    width, height = size
    if width * height > canvas.limit:
        raise ImageProcessingError(
            f"{task}: the result would be {width}x{height} = {width * height} pixels, more "
            f"than the emulator's limit of {canvas.limit} (max_image_pixels)",
            code="ImageTooLarge",
        )


def _int(task: Task, key: str, default: int) -> int:
    value = task.get(key)
    return default if value is None else int(value)  # type: ignore[arg-type]


def _on_colour(image: Image.Image, func: Callable[[Image.Image], Image.Image]) -> Image.Image:
    """Apply ``func`` to the colour bands and keep the alpha band as it was."""
    if not _has_alpha(image):
        return func(image)
    alpha = image.getchannel("A")
    colour = func(image.convert("RGB" if image.mode == "RGBA" else "L"))
    colour = colour.convert("RGBA" if colour.mode in ("RGB", "RGBA") else "LA")
    colour.putalpha(alpha)
    return colour


def _over(image: Image.Image, background: RGBA, mask: Image.Image | None = None) -> Image.Image:
    """``image`` (times ``mask``) composited over a plain ``background``."""
    front = image.convert("RGBA")
    if mask is not None:
        front.putalpha(ImageChops.multiply(front.getchannel("A"), mask))
    out = Image.alpha_composite(Image.new("RGBA", image.size, background), front)
    return out if background[3] < 255 else out.convert("RGB")


def _fill_for(image: Image.Image, colour: RGBA) -> tuple[Image.Image, Any]:
    """The image in a mode that can hold ``colour``, and ``colour`` in that mode."""
    if colour[3] < 255 and not _has_alpha(image):
        image = image.convert("RGBA")
    if image.mode in ("L", "LA"):
        if colour[0] == colour[1] == colour[2]:
            grey = colour[0]
            return image, (grey if image.mode == "L" else (grey, colour[3]))
        image = image.convert("RGBA" if image.mode == "LA" else "RGB")
    return image, (colour if image.mode == "RGBA" else colour[:3])


# -- the tasks --------------------------------------------------------------------------

_ALIGN_X = {"left": 0.0, "center": 0.5, "right": 1.0}
_ALIGN_Y = {"top": 0.0, "middle": 0.5, "bottom": 1.0}


def _centering(align: Value | None) -> tuple[float, float]:
    if isinstance(align, tuple):
        vertical, horizontal = str(align[0]), str(align[1])
        return _ALIGN_X[horizontal], _ALIGN_Y[vertical]
    return {
        "top": (0.5, 0.0),
        "bottom": (0.5, 1.0),
        "left": (0.0, 0.5),
        "right": (1.0, 0.5),
    }.get(str(align), (0.5, 0.5))


def _resize(canvas: Canvas, task: Task) -> None:
    image = canvas.image
    w0, h0 = image.size
    width, height = task.get("width"), task.get("height")
    fit = str(task.get("fit", "clip"))
    if width is None or height is None:
        if width is not None:
            size = (int(width), max(1, round(h0 * int(width) / w0)))  # type: ignore[arg-type]
        else:
            size = (max(1, round(w0 * int(height) / h0)), int(height))  # type: ignore[arg-type]
        if fit == "max" and size[0] > w0:
            size = (w0, h0)
    else:
        box = (int(width), int(height))  # type: ignore[arg-type]
        if fit == "scale":
            size = box
        elif fit == "crop":
            _check_size(canvas, box, "resize")
            canvas.image = ImageOps.fit(
                image, box, Image.Resampling.LANCZOS, centering=_centering(task.get("align"))
            )
            return
        else:
            ratio = min(box[0] / w0, box[1] / h0)
            if fit == "max":
                ratio = min(ratio, 1.0)
            size = (max(1, round(w0 * ratio)), max(1, round(h0 * ratio)))
    _check_size(canvas, size, "resize")
    if size != image.size:
        canvas.image = image.resize(size, Image.Resampling.LANCZOS)


def _crop(canvas: Canvas, task: Task) -> None:
    dim = task.get("dim")
    assert isinstance(dim, tuple)
    x, y, w, h = (int(str(v)) for v in dim)
    width, height = canvas.image.size
    if x >= width or y >= height:
        raise ImageProcessingError(
            f"crop: the area starts at ({x}, {y}), outside the {width}x{height} image"
        )
    canvas.image = canvas.image.crop((x, y, min(x + w, width), min(y + h, height)))


_QUARTER_TURNS = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


def _rotate(canvas: Canvas, task: Task) -> None:
    deg = task.get("deg")
    if deg == "exif":
        canvas.image = ImageOps.exif_transpose(canvas.image.copy()) or canvas.image
        canvas.exif.pop(_ORIENTATION, None)
    elif deg:
        degrees = int(deg)  # type: ignore[arg-type]
        if degrees in _QUARTER_TURNS:
            canvas.image = canvas.image.transpose(_QUARTER_TURNS[degrees])
        else:
            image, fill = _fill_for(canvas.image, parse_color(task.get("background"), _WHITE))
            radians = math.radians(degrees)
            w, h = image.size
            new = (
                math.ceil(abs(w * math.cos(radians)) + abs(h * math.sin(radians))),
                math.ceil(abs(w * math.sin(radians)) + abs(h * math.cos(radians))),
            )
            _check_size(canvas, new, "rotate")
            canvas.image = image.rotate(
                -degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=fill
            )
    if task.get("exif") is True:
        canvas.exif.pop(_ORIENTATION, None)


def _flip(canvas: Canvas, task: Task) -> None:
    canvas.image = canvas.image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)


def _flop(canvas: Canvas, task: Task) -> None:
    canvas.image = canvas.image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def _smooth_mask(
    size: tuple[int, int], draw: Callable[[ImageDraw.ImageDraw, int], None]
) -> Image.Image:
    """An antialiased L mask: drawn at 4x, then reduced."""
    scale = 4
    big = Image.new("L", (size[0] * scale, size[1] * scale), 0)
    draw(ImageDraw.Draw(big), scale)
    return big.reduce(scale)


def _circle(canvas: Canvas, task: Task) -> None:
    image = canvas.image
    side = min(image.size)
    square = ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS)
    mask = _smooth_mask(
        (side, side), lambda d, s: d.ellipse((0, 0, side * s - 1, side * s - 1), fill=255)
    )
    canvas.image = _over(square, parse_color(task.get("background"), _WHITE), mask)


def _border(canvas: Canvas, task: Task) -> None:
    width = _int(task, "width", 2)
    colour = parse_color(task.get("color"), _BLACK)
    background = parse_color(task.get("background"), _WHITE)
    image = canvas.image
    size = (image.width + 2 * width, image.height + 2 * width)
    _check_size(canvas, size, "border")
    inner = _over(image, background) if _has_alpha(image) else image.convert("RGBA")
    framed = Image.new("RGBA", size, colour)
    framed.paste(inner.convert("RGBA"), (width, width))
    opaque = colour[3] == 255 and (background[3] == 255 or not _has_alpha(image))
    canvas.image = framed.convert("RGB") if opaque else framed


def _rounded_corners(canvas: Canvas, task: Task) -> None:
    image = canvas.image
    radius_value = task.get("radius", 10)
    limit = min(image.size) // 2
    radius = limit if radius_value == "max" else min(int(radius_value), limit)  # type: ignore[arg-type]
    blur = float(task.get("blur", 0.3))  # type: ignore[arg-type]
    w, h = image.size
    mask = _smooth_mask(
        (w, h),
        lambda d, s: d.rounded_rectangle((0, 0, w * s - 1, h * s - 1), radius * s, fill=255),
    )
    if blur > 0:
        mask = mask.filter(ImageFilter.GaussianBlur(blur))
    canvas.image = _over(image, parse_color(task.get("background"), _WHITE), mask)


def _blur(canvas: Canvas, task: Task) -> None:
    radius = _int(task, "amount", 2)
    canvas.image = canvas.image.filter(ImageFilter.GaussianBlur(radius))


def _sharpen(canvas: Canvas, task: Task) -> None:
    amount = _int(task, "amount", 2)
    if amount:
        mask = ImageFilter.UnsharpMask(radius=amount, percent=150, threshold=0)
        canvas.image = _on_colour(canvas.image, lambda im: im.filter(mask))


def _monochrome(canvas: Canvas, task: Task) -> None:
    canvas.image = canvas.image.convert("LA" if _has_alpha(canvas.image) else "L")


def _blackwhite(canvas: Canvas, task: Task) -> None:
    cut = _int(task, "threshold", 50) * 255 / 100
    _monochrome(canvas, task)
    canvas.image = _on_colour(canvas.image, lambda im: im.point(lambda v: 255 if v >= cut else 0))


_SEPIA = (0.393, 0.769, 0.189, 0, 0.349, 0.686, 0.168, 0, 0.272, 0.534, 0.131, 0)


def _sepia(canvas: Canvas, task: Task) -> None:
    tone = _int(task, "tone", 80) / 100

    def tint(image: Image.Image) -> Image.Image:
        rgb = image.convert("RGB")
        return Image.blend(rgb, rgb.convert("RGB", _SEPIA), tone)

    canvas.image = _on_colour(canvas.image, tint)


def _negative(canvas: Canvas, task: Task) -> None:
    canvas.image = _on_colour(canvas.image, ImageOps.invert)


def _pixelate(canvas: Canvas, task: Task) -> None:
    amount = _int(task, "amount", 2)
    image = canvas.image
    small = image.reduce(amount)
    big = small.resize((small.width * amount, small.height * amount), Image.Resampling.NEAREST)
    canvas.image = big.crop((0, 0, image.width, image.height))


def _modulate(canvas: Canvas, task: Task) -> None:
    brightness = _int(task, "brightness", 100) / 100
    saturation = _int(task, "saturation", 100) / 100
    shift = round(_int(task, "hue", 0) * 256 / 360) % 256

    def adjust(image: Image.Image) -> Image.Image:
        rgb = image.convert("RGB")
        if shift:
            h, s, v = rgb.convert("HSV").split()
            h = h.point(lambda x: (x + shift) % 256)
            rgb = Image.merge("HSV", (h, s, v)).convert("RGB")
        if saturation != 1:
            rgb = ImageEnhance.Color(rgb).enhance(saturation)
        if brightness != 1:
            rgb = ImageEnhance.Brightness(rgb).enhance(brightness)
        return rgb

    canvas.image = _on_colour(canvas.image, adjust)


def _autocontrast(image: Image.Image) -> Image.Image:
    return ImageOps.autocontrast(image.convert("RGB"), cutoff=0.5)


def _white_balance(image: Image.Image) -> Image.Image:
    bands = image.convert("RGB").split()
    return Image.merge("RGB", [ImageOps.autocontrast(b, cutoff=0.5) for b in bands])


def _dark(image: Image.Image) -> Image.Image:
    rgb = _autocontrast(image)
    return rgb.point(lambda v: round(255 * (v / 255) ** 0.6))


_ENHANCE: dict[str, Callable[[Image.Image], Image.Image]] = {
    "auto": _autocontrast,
    "vivid": lambda im: ImageEnhance.Color(_autocontrast(im)).enhance(1.4),
    "beautify": lambda im: _autocontrast(im).filter(ImageFilter.SMOOTH),
    "beautify_plus": lambda im: ImageEnhance.Color(
        _autocontrast(im).filter(ImageFilter.SMOOTH_MORE)
    ).enhance(1.15),
    "fix_dark": _dark,
    "fix_noise": lambda im: im.convert("RGB").filter(ImageFilter.MedianFilter(3)),
    "fix_tint": _white_balance,
    "outdoor": lambda im: ImageEnhance.Contrast(
        ImageEnhance.Color(_autocontrast(im)).enhance(1.25)
    ).enhance(1.1),
    "fireworks": lambda im: ImageEnhance.Color(
        ImageEnhance.Contrast(im.convert("RGB")).enhance(1.3)
    ).enhance(1.3),
}


def _enhance(canvas: Canvas, task: Task) -> None:
    canvas.image = _on_colour(canvas.image, _ENHANCE[str(task.get("preset", "auto"))])


def _quality(canvas: Canvas, task: Task) -> None:
    canvas.encoding.quality = _int(task, "value", 75)


def _no_metadata(canvas: Canvas, task: Task) -> None:
    canvas.encoding.strip = True


def _compress(canvas: Canvas, task: Task) -> None:
    canvas.encoding.optimize = True
    if task.get("metadata") is not True:
        canvas.encoding.strip = True


def _output(canvas: Canvas, task: Task) -> None:
    name = str(task.get("format"))
    if name in _DOCUMENT_FORMATS:
        raise ImageProcessingError(
            f"output: converting to {name!r} is a document conversion, which the emulator "
            "does not implement (it writes png, jpg, pjpg, webp, gif, bmp, tiff and pdf)",
            code="NotImplementedByEmulator",
        )
    if name not in _FORMATS:
        raise ImageProcessingError(
            f"output: the emulator cannot write {name!r} images (it writes {', '.join(_FORMATS)})",
            code="NotImplementedByEmulator",
        )
    encoding = canvas.encoding
    encoding.format = _FORMATS[name][0]
    encoding.progressive = name == "pjpg"
    if task.get("background") is not None:
        encoding.background = parse_color(task.get("background"), _WHITE)
    quality = task.get("quality")
    if isinstance(quality, int) and not isinstance(quality, bool):
        encoding.quality = quality
    if task.get("compress") is True:
        encoding.optimize = True
    if task.get("strip") is True:
        encoding.strip = True
    if task.get("density") is not None:
        encoding.dpi = _int(task, "density", 72)
    colorspace = task.get("colorspace")
    if colorspace == "cmyk":
        encoding.cmyk = True
    elif colorspace == "rgb":
        encoding.cmyk = False


def _pjpg(canvas: Canvas, task: Task) -> None:
    """Progressive JPEG; metadata is dropped unless ``metadata:true``."""
    encoding = canvas.encoding
    encoding.format = "JPEG"
    encoding.progressive = True
    encoding.quality = _int(task, "quality", 75) if task.get("quality") is not None else None
    encoding.strip = task.get("metadata") is not True


#: Every image task the emulator runs: name -> the function applying it to a canvas.
IMAGE_TASKS: dict[str, Callable[[Canvas, Task], None]] = {
    "resize": _resize,
    "crop": _crop,
    "rotate": _rotate,
    "flip": _flip,
    "flop": _flop,
    "circle": _circle,
    "border": _border,
    "rounded_corners": _rounded_corners,
    "blur": _blur,
    "sharpen": _sharpen,
    "monochrome": _monochrome,
    "blackwhite": _blackwhite,
    "sepia": _sepia,
    "negative": _negative,
    "pixelate": _pixelate,
    "modulate": _modulate,
    "enhance": _enhance,
    "quality": _quality,
    "no_metadata": _no_metadata,
    "compress": _compress,
    "output": _output,
    "pjpg": _pjpg,
}


# -- decoding and encoding --------------------------------------------------------------


def _page(tasks: Sequence[Task]) -> int:
    for task in tasks:
        if task.name == "output" and task.get("page") is not None:
            return _int(task, "page", 1)
    return 1


def decode(path: Path, limit: int, page: int = 1) -> Canvas:
    """Open an image safely: the header is checked against ``limit`` before decoding.

    Raises:
        ProtocolError: not an image, damaged, a decompression bomb, or no such page.
    """
    try:
        opened = Image.open(path)
    except UnidentifiedImageError:
        raise ImageProcessingError(
            "the source is not an image the emulator can decode", code="NotAnImage"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb(None, limit) from None
    except (OSError, ValueError, SyntaxError) as err:
        raise ImageProcessingError(
            f"the image could not be read: {err}", code="NotAnImage"
        ) from None
    with opened:
        width, height = opened.size
        if width * height > limit:
            raise _bomb((width, height), limit)
        frames = getattr(opened, "n_frames", 1)
        if page > frames:
            raise ImageProcessingError(f"output: page {page} asked, the image has {frames}")
        try:
            if page > 1:
                opened.seek(page - 1)
            opened.load()
            image = opened.copy()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _bomb((width, height), limit) from None
        except (OSError, ValueError, SyntaxError, EOFError) as err:
            raise ImageProcessingError(
                f"the image data is damaged or truncated: {err}", code="NotAnImage"
            ) from None
        exif = opened.getexif()
        for tag in _LAYOUT_TAGS:  # a TIFF's own layout, not metadata to carry over
            exif.pop(tag, None)
        icc = opened.info.get("icc_profile")
        source_format = opened.format
    return Canvas(_normal_mode(image), source_format, limit, exif, icc)


def _bomb(size: tuple[int, int] | None, limit: int) -> ImageProcessingError:
    what = f"{size[0]}x{size[1]} = {size[0] * size[1]} pixels" if size else "too many pixels"
    return ImageProcessingError(
        f"the image is too large to decode ({what}; the emulator's limit is {limit}, "
        "max_image_pixels): refused as a possible decompression bomb",
        code="ImageTooLarge",
    )


def _normal_mode(image: Image.Image) -> Image.Image:
    """L, LA, RGB or RGBA: the modes every task handles."""
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if image.mode in ("P", "PA"):
        has_alpha = image.mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if image.mode == "1":
        return image.convert("L")
    return image.convert("RGBA" if "A" in image.getbands() else "RGB")


def encode(canvas: Canvas) -> tuple[bytes, str]:
    """Encode the result; returns the bytes and the Pillow format used."""
    enc = canvas.encoding
    fmt = enc.format or canvas.source_format or "PNG"
    if fmt not in _EXTENSIONS:
        fmt = "PNG"
    image = canvas.image
    if enc.background is not None and _has_alpha(image):
        image = _over(image, enc.background)
    if fmt in ("JPEG", "PDF") and _has_alpha(image):
        # no alpha in these formats: what still shows through (nothing was given, or a
        # translucent background) is white
        image = _over(image, _WHITE)
    if fmt == "BMP" and image.mode == "LA":  # Pillow writes BMP in L, RGB or RGBA only
        image = image.convert("RGBA")
    if enc.cmyk:
        if fmt not in ("JPEG", "TIFF"):
            raise ImageProcessingError(f"output: CMYK is only written as jpg or tiff, not {fmt}")
        image = image.convert("CMYK")
    options: dict[str, Any] = {}
    if fmt in ("JPEG", "WEBP") and enc.quality is not None:
        options["quality"] = enc.quality
    if enc.optimize and fmt in ("JPEG", "PNG", "GIF"):
        options["optimize"] = True
    if enc.optimize and fmt == "WEBP":
        options["method"] = 6
    if enc.progressive:
        options["progressive"] = True
    if enc.dpi is not None:
        options["dpi"] = (enc.dpi, enc.dpi)
    if not enc.strip and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        if len(canvas.exif):
            options["exif"] = canvas.exif.tobytes()
        if canvas.icc:
            options["icc_profile"] = canvas.icc
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue(), fmt


def run_chain(
    source: Path, tasks: Sequence[Task], limit: int, target: Path
) -> tuple[str, str, int, str]:
    """Decode ``source``, apply ``tasks`` in order, write the result to ``target``.

    Blocking (run it in a worker thread). Returns ``(mimetype, extension, size, md5)``.
    """
    canvas = decode(source, limit, _page(tasks))
    _check_size(canvas, canvas.image.size, "decode")
    for task in tasks:
        IMAGE_TASKS[task.name](canvas, task)
    data, fmt = encode(canvas)
    target.write_bytes(data)
    mimetype = Image.MIME.get(fmt, "application/octet-stream")
    return mimetype, _EXTENSIONS[fmt], len(data), hashlib.md5(data).hexdigest()


def _renamed(filename: str, extension: str) -> str:
    stem = PurePosixPath(filename).stem if filename else "file"
    return f"{stem or 'file'}.{extension}"


async def process(emulator: Emulator, current: Fetched, tasks: Sequence[Task]) -> Fetched:
    """Apply consecutive image ``tasks`` to ``current`` in a worker thread; a new temp file."""
    target = emulator.storage.incoming_path()
    try:
        mimetype, extension, size, md5 = await emulator.run(
            run_chain, current.path, tuple(tasks), emulator.config.max_image_pixels, target
        )
    except BaseException:
        await discard(target)
        raise
    return Fetched(target, size, mimetype, _renamed(current.filename, extension), md5)


def _single(task_name: str) -> Callable[[Emulator, Fetched, Task], Awaitable[Fetched]]:
    async def run(emulator: Emulator, current: Fetched, task: Task) -> Fetched:
        return await process(emulator, current, (task,))

    run.__name__ = f"run_{task_name}"
    run.__doc__ = f"Run the {task_name!r} image task alone."
    return run


#: One `processing.TaskImpl` per image task (each decodes, applies and encodes).
TASK_IMPLS: dict[str, Callable[[Emulator, Fetched, Task], Awaitable[Fetched]]] = {
    name: _single(name) for name in IMAGE_TASKS
}
