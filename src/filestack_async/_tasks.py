"""The processing task catalogue: every task, its parameters and their allowed values.

One declarative table (`TASKS`) drives three things:

* validation when a `Transformation` is built (`build_task`), raising
  `ConfigurationError` that names the task, the parameter and what is allowed;
* rendering of a task into its URL segment (`Task.render`), exactly as the
  processing URL grammar wants it (``name=key:value,...`` with sorted pairs,
  lowercase booleans and bracketed lists);
* parsing a URL segment back into a typed `Task` (`parse_task`, `parse_path`),
  which the emulator uses to serve processing URLs.

This module is pure: it imports nothing but the standard library and the error
classes, and does no I/O.

Example:
    >>> build_task("resize", {"width": 500, "height": 500}).render()
    'resize=height:500,width:500'
    >>> parse_task("resize=height:500,width:500").params
    (('height', 500), ('width', 500))
"""

from __future__ import annotations

import abc
import base64
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from ._exceptions import ConfigurationError

__all__ = [
    "TASKS",
    "ParamSpec",
    "ParsedPath",
    "Task",
    "TaskSpec",
    "CustomTask",
    "Value",
    "build_task",
    "custom_task",
    "parse_path",
    "parse_task",
    "parse_value",
    "render_value",
    "split_top_level",
    "task_for_method",
]

#: A parameter value once validated: lists become tuples so tasks stay hashable.
Value = bool | int | float | str | tuple["Value", ...]

# Characters that would break the URL grammar if a string were sent bare: it is then
# sent between double quotes (the form the service documents for store paths).
_NEEDS_QUOTES = re.compile(r"[,/\[\]\s?#\"]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")
#: Deepest list nesting `parse_value` accepts (the catalogue needs two levels).
MAX_NESTING = 8
#: Bound of integer parameters the catalogue leaves open (a signed 64-bit integer).
MAX_INT = 2**63 - 1


class Invalid(Exception):
    """A value does not fit a parameter type (internal; becomes `ConfigurationError`)."""


# -- value rendering and generic parsing ---------------------------------------------------


def render_value(value: Value, *, quote: bool = False) -> str:
    """Render one parameter value as the URL grammar wants it.

    >>> render_value(True), render_value([0, 0, 10, 10]), render_value("a/b")
    ('true', '[0,0,10,10]', '"a/b"')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        if quote or _NEEDS_QUOTES.search(value):
            return f'"{value}"'
        return value
    if isinstance(value, (tuple, list)):
        return "[" + ",".join(render_value(v) for v in value) + "]"
    raise TypeError(f"cannot render {type(value).__name__}")


def split_top_level(text: str, sep: str) -> list[str]:
    """Split on ``sep`` where it is outside brackets and double quotes.

    >>> split_top_level('a:[1,2],b:"x,y"', ",")
    ['a:[1,2]', 'b:"x,y"']
    """
    parts: list[str] = []
    start = 0
    for i in _top_level(text, sep):
        parts.append(text[start:i])
        start = i + 1
    parts.append(text[start:])
    return parts


def _top_level(text: str, sep: str) -> Iterator[int]:
    """The positions of ``sep`` outside brackets and double quotes; raises `Invalid` on
    reaching the end of an unbalanced ``text``."""
    depth = 0
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise Invalid(f"unbalanced ']' in {_excerpt(text[: i + 1])}")
        elif ch == sep and depth == 0:
            yield i
    if quoted:
        raise Invalid(f"unclosed quote in {_excerpt(text)}")
    if depth:
        raise Invalid(f"unclosed '[' in {_excerpt(text)}")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def parse_value(text: str, *, _depth: int = 0) -> Value:
    """Parse a value without knowing its type (booleans, numbers, lists, strings).

    Raises `Invalid` (never another error) for text that is no value: unbalanced
    brackets, lists nested deeper than `MAX_NESTING`, integers too long to convert.

    >>> parse_value("[1,[2,x]]"), parse_value("true"), parse_value("0.5")
    ((1, (2, 'x')), True, 0.5)
    """
    if text.startswith("["):
        if not text.endswith("]"):
            raise Invalid(f"unclosed '[' in {_excerpt(text)}")
        if _depth >= MAX_NESTING:
            raise Invalid(f"lists nested more than {MAX_NESTING} deep")
        inner = text[1:-1]
        if not inner:
            return ()
        return tuple(parse_value(item, _depth=_depth + 1) for item in split_top_level(inner, ","))
    if text in ("true", "false"):
        return text == "true"
    try:
        if _INT.fullmatch(text):
            return int(text)
        if _FLOAT.fullmatch(text):
            return float(text)
    except ValueError:  # more digits than int() converts
        raise Invalid(f"{_excerpt(text)} is too long a number") from None
    return _unquote(text)


def _excerpt(text: str, limit: int = 40) -> str:
    """``repr`` of ``text``, cut to ``limit`` characters (messages stay short)."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


# -- parameter types ---------------------------------------------------------------------


class ParamType(abc.ABC):
    """What a parameter accepts. Subclasses check Python values and parse URL text."""

    @abc.abstractmethod
    def check(self, value: object) -> Value:
        """Return the normalized value or raise `Invalid`."""

    def parse(self, text: str) -> Value:
        """Parse URL text into a checked value or raise `Invalid`."""
        return self.check(parse_value(text))

    @abc.abstractmethod
    def describe(self) -> str:
        """A short human description, used in messages and the docs table."""


@dataclass(frozen=True)
class Int(ParamType):
    """An integer in ``[minimum, maximum]`` (``None`` means unbounded)."""

    minimum: int | None = None
    maximum: int | None = None

    def check(self, value: object) -> Value:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"must be an integer, not {type(value).__name__}")
        maximum = MAX_INT if self.maximum is None else self.maximum
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"must be at least {self.minimum}, not {_short_int(value)}")
        if value > maximum:
            raise Invalid(f"must be at most {maximum}, not {_short_int(value)}")
        return value

    def describe(self) -> str:
        return "integer" + _range_text(self.minimum, self.maximum)


def _short_int(value: int) -> str:
    """An integer for a message: huge ones (no ``str()`` past 4300 digits) by their size."""
    if value.bit_length() > 64:
        return f"a {value.bit_length()}-bit integer"
    return str(value)


@dataclass(frozen=True)
class Number(ParamType):
    """An int or float in ``[minimum, maximum]``."""

    minimum: float | None = None
    maximum: float | None = None

    def check(self, value: object) -> Value:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(f"must be a number, not {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            raise Invalid("must be a finite number")
        shown = _short_int(value) if isinstance(value, int) else str(value)
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"must be at least {self.minimum:g}, not {shown}")
        if self.maximum is not None and value > self.maximum:
            raise Invalid(f"must be at most {self.maximum:g}, not {shown}")
        return value

    def describe(self) -> str:
        return "number" + _range_text(self.minimum, self.maximum)


@dataclass(frozen=True)
class Bool(ParamType):
    """``True`` or ``False`` (rendered ``true`` / ``false``)."""

    def check(self, value: object) -> Value:
        if not isinstance(value, bool):
            raise Invalid(f"must be a bool, not {type(value).__name__}")
        return value

    def describe(self) -> str:
        return "bool"


@dataclass(frozen=True)
class Str(ParamType):
    """A non-empty string without control characters, double quotes or lone surrogates.

    ``pattern`` restricts it further; ``quote`` always renders it between double
    quotes (store paths), otherwise it is quoted only when it holds a separator.
    """

    pattern: str | None = None
    quote: bool = False
    hint: str = "string"

    def check(self, value: object) -> Value:
        if not isinstance(value, str):
            raise Invalid(f"must be a string, not {type(value).__name__}")
        if not value:
            raise Invalid("must not be empty")
        if _CONTROL.search(value) or '"' in value:
            raise Invalid("must not contain control characters or double quotes")
        if not _encodable(value):
            raise Invalid("must be valid Unicode text (no lone surrogates)")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise Invalid(f"must be {self.hint}, not {_excerpt(value)}")
        return value

    def parse(self, text: str) -> Value:
        return self.check(_unquote(text))

    def describe(self) -> str:
        return self.hint


@dataclass(frozen=True)
class Choice(ParamType):
    """One of a fixed set of strings (or integers)."""

    values: tuple[str | int, ...]

    def check(self, value: object) -> Value:
        # a float equal to an int choice (1.0) is refused like any other non-choice
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise Invalid(f"must be {self.describe()}, not {type(value).__name__}")
        if value not in self.values:
            shown = _excerpt(value) if isinstance(value, str) else _short_int(value)
            raise Invalid(f"{shown} is not allowed")
        return value

    def parse(self, text: str) -> Value:
        text = _unquote(text)
        for choice in self.values:
            if str(choice) == text:
                return choice
        return self.check(text)

    def describe(self) -> str:
        return "one of: " + ", ".join(str(v) for v in self.values)


_HEX = r"[0-9A-Fa-f]{3}|[0-9A-Fa-f]{4}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8}"


@dataclass(frozen=True)
class Color(ParamType):
    """A hex colour without ``#`` (RGB, RGBA, RRGGBB, RRGGBBAA) or a colour name."""

    def check(self, value: object) -> Value:
        if not isinstance(value, str):
            raise Invalid(f"must be a colour string, not {type(value).__name__}")
        if not re.fullmatch(rf"{_HEX}|[A-Za-z]+[0-9]*", value):
            raise Invalid(f"{_excerpt(value)} is not a colour")
        return value

    def parse(self, text: str) -> Value:
        return self.check(_unquote(text))

    def describe(self) -> str:
        return "colour (hex such as FF0000, or a name)"


@dataclass(frozen=True)
class OneOf(ParamType):
    """The first of several types that accepts the value."""

    options: tuple[ParamType, ...]

    def check(self, value: object) -> Value:
        return self._first(lambda t: t.check(value))

    def parse(self, text: str) -> Value:
        return self._first(lambda t: t.parse(text))

    def _first(self, attempt: Callable[[ParamType], Value]) -> Value:
        for option in self.options:
            try:
                result = attempt(option)
            except Invalid:
                continue
            return result
        raise Invalid("the value fits none of the accepted forms")

    def describe(self) -> str:
        return " or ".join(o.describe() for o in self.options)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _as_sequence(value: object) -> Sequence[object]:
    if isinstance(value, str):
        # a pre-rendered list such as "[h1,h2]" (accepted as the reference's tests pass it)
        if value.startswith("[") and value.endswith("]"):
            parsed = parse_value(value)
            assert isinstance(parsed, tuple)
            return parsed
        raise Invalid("must be a list, not a string")
    if not isinstance(value, (list, tuple)):
        raise Invalid(f"must be a list, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class ListOf(ParamType):
    """A list of items of one type, ``min_items`` to ``max_items`` long."""

    item: ParamType
    min_items: int = 1
    max_items: int | None = None

    def check(self, value: object) -> Value:
        items = _as_sequence(value)
        if len(items) < self.min_items:
            raise Invalid(f"must have at least {self.min_items} item(s)")
        if self.max_items is not None and len(items) > self.max_items:
            raise Invalid(f"must have at most {self.max_items} items")
        out = []
        for i, item in enumerate(items):
            try:
                out.append(self.item.check(item))
            except Invalid as err:
                raise Invalid(f"item {i}: {err}") from None
        return tuple(out)

    def parse(self, text: str) -> Value:
        if not (text.startswith("[") and text.endswith("]")):
            raise Invalid(f"must be a bracketed list, not {_excerpt(text)}")
        inner = text[1:-1]
        parts = split_top_level(inner, ",") if inner else []
        return self.check(tuple(self.item.parse(p) for p in parts))

    def describe(self) -> str:
        bound = _range_text(self.min_items, self.max_items).strip(" ()")
        return f"list of ({self.item.describe()})" + (f", {bound} items" if bound else "")


@dataclass(frozen=True)
class Fixed(ParamType):
    """A fixed-length list with one type per position, e.g. ``[x,y,width,height]``."""

    items: tuple[ParamType, ...]
    names: tuple[str, ...]

    def check(self, value: object) -> Value:
        items = _as_sequence(value)
        if len(items) != len(self.items):
            raise Invalid(f"must be a list of {len(self.items)} values [{','.join(self.names)}]")
        out = []
        for name, kind, item in zip(self.names, self.items, items, strict=True):
            try:
                out.append(kind.check(item))
            except Invalid as err:
                raise Invalid(f"{name} {err}") from None
        return tuple(out)

    def parse(self, text: str) -> Value:
        if not (text.startswith("[") and text.endswith("]")):
            raise Invalid(f"must be a bracketed list, not {_excerpt(text)}")
        parts = split_top_level(text[1:-1], ",")
        if len(parts) != len(self.items):
            raise Invalid(f"must be a list of {len(self.items)} values [{','.join(self.names)}]")
        return self.check(tuple(kind.parse(p) for kind, p in zip(self.items, parts, strict=True)))

    def describe(self) -> str:
        pairs = zip(self.names, self.items, strict=True)
        return "[" + ", ".join(f"{n}: {k.describe()}" for n, k in pairs) + "]"


def _range_text(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return ""
    if high is None:
        return f" >= {low:g}"
    if low is None:
        return f" <= {high:g}"
    return f" {low:g}..{high:g}"


# -- shared parameter types -----------------------------------------------------------------

_SIZE = Int(1, 10000)
_COLOR = Color()
_BOOL = Bool()
_STR = Str()
_FIT = Choice(("clip", "crop", "scale", "max"))
_ALIGN = OneOf(
    (
        Choice(("center", "top", "bottom", "left", "right", "faces")),
        Fixed(
            (Choice(("top", "middle", "bottom")), Choice(("left", "center", "right"))),
            ("vertical", "horizontal"),
        ),
    )
)
_POSITION = OneOf(
    (
        Choice(("top", "middle", "bottom", "left", "center", "right")),
        Fixed(
            (Choice(("top", "middle", "bottom")), Choice(("left", "center", "right"))),
            ("vertical", "horizontal"),
        ),
    )
)
_FACES = OneOf((Choice(("all",)), Int(1, 1000), ListOf(Int(1, 1000))))
_FACE_SIZE = Number(0, 10000)
_RECT = Fixed((Int(0, 10000), Int(0, 10000), Int(1, 10000), Int(1, 10000)), ("x", "y", "w", "h"))
_OBJECTS = ListOf(_RECT, 1, 50)
_SHAPE = Choice(("rect", "oval"))
_BLUR = Number(0, 20)
_PAGES = ListOf(
    OneOf((Int(1, None), Str(r"\d+-\d*|-\d+", hint="page range such as 1-3, 2- or -2")))
)
_PAGE_FORMAT = Choice(("a2", "a3", "a4", "a5", "b4", "b5", "letter", "legal", "tabloid"))
_ORIENTATION = Choice(("portrait", "landscape"))
_LOCATION = Choice(("S3", "s3", "gcs", "azure", "rackspace", "dropbox"))
_REGION = Choice(
    (
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-central-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "sa-east-1",
    )
)
_ACCESS = Choice(("public", "private"))
_AUDIO_CODEC = Choice(
    ("libmp3lame", "libvorbis", "libfdk_aac", "dib_ac3", "pcm_s16le", "mp2", "ac3", "eac3")
)
#: what a ``metadata`` task in a chain can answer
_METADATA_TASK_ATTRIBUTES = (
    "filename",
    "mimetype",
    "size",
    "width",
    "height",
    "writeable",
    "path",
    "container",
    "cloud",
    "exif",
    "source_url",
    "md5",
    "sha1",
    "sha256",
    "sha512",
)
_TIME = Str(r"\d{1,2}(:\d{1,2}){0,2}(\.\d+)?", hint="duration such as 00:00:10")
_OUTPUT_FORMATS = (
    "doc",
    "docx",
    "html",
    "jpg",
    "odp",
    "ods",
    "odt",
    "pjpg",
    "pdf",
    "png",
    "ppt",
    "pptx",
    "svg",
    "txt",
    "webp",
    "xls",
    "xlsx",
    "gif",
    "bmp",
    "tiff",
    "heic",
)


# -- the catalogue --------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a task."""

    name: str
    type: ParamType
    doc: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskSpec:
    """One processing task.

    Attributes:
        name: the name sent in the URL (``output`` for ``filetype_conversion``).
        method: the SDK method name.
        params: parameters in the SDK's order.
        kind: ``transform`` (returns a file), ``execute`` (the SDK sends it and
            reads a JSON answer) or ``control`` (part of the URL grammar).
        required: parameters that must be given.
        require_any: at least one of these must be given.
        doc: one line for the docs table.
    """

    name: str
    method: str
    params: tuple[ParamSpec, ...] = ()
    kind: str = "transform"
    required: tuple[str, ...] = ()
    require_any: tuple[str, ...] = ()
    doc: str = ""
    _by_name: dict[str, ParamSpec] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for p in self.params:
            self._by_name[p.name] = p
            for alias in p.aliases:
                self._by_name[alias] = p

    @property
    def param_names(self) -> tuple[str, ...]:
        """Parameter names in the SDK's order."""
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> ParamSpec | None:
        """The parameter called ``name`` (or with that alias)."""
        return self._by_name.get(name)


def _p(name: str, kind: ParamType, doc: str = "", aliases: tuple[str, ...] = ()) -> ParamSpec:
    return ParamSpec(name, kind, doc, aliases)


def _face_filter(amount: ParamType) -> tuple[ParamSpec, ...]:
    """The parameters of the tasks that filter detected faces (pixelate, blur)."""
    return (
        _p("faces", _FACES),
        _p("minsize", _FACE_SIZE),
        _p("maxsize", _FACE_SIZE),
        _p("buffer", Int(0, 10000)),
        _p("amount", amount),
        _p("blur", _BLUR),
        _p("type", _SHAPE),
    )


_SPECS: tuple[TaskSpec, ...] = (
    TaskSpec(
        "resize",
        "resize",
        (
            _p("width", _SIZE, "pixels", ("w",)),
            _p("height", _SIZE, "pixels", ("h",)),
            _p("fit", _FIT, "how the image fits the box", ("f",)),
            _p("align", _ALIGN, "area kept when cropping", ("a",)),
        ),
        require_any=("width", "height"),
        doc="Resize to a width and/or height.",
    ),
    TaskSpec(
        "crop",
        "crop",
        (
            _p(
                "dim",
                Fixed(
                    (Int(0, 100000), Int(0, 100000), Int(1, 100000), Int(1, 100000)),
                    ("x", "y", "w", "h"),
                ),
                "[x, y, width, height]",
            ),
        ),
        required=("dim",),
        doc="Crop a rectangle.",
    ),
    TaskSpec(
        "rotate",
        "rotate",
        (
            _p("deg", OneOf((Int(0, 359), Choice(("exif",)))), "clockwise degrees or 'exif'"),
            _p("exif", _BOOL, "reset the EXIF orientation"),
            _p("background", _COLOR),
        ),
        doc="Rotate clockwise.",
    ),
    TaskSpec("flip", "flip", doc="Mirror vertically (top to bottom)."),
    TaskSpec("flop", "flop", doc="Mirror horizontally (left to right)."),
    TaskSpec(
        "watermark",
        "watermark",
        (
            _p("file", _STR, "handle of the watermark image"),
            _p("size", Int(1, 500), "percent of the watermark's size"),
            _p("position", _POSITION),
        ),
        required=("file",),
        doc="Overlay another image.",
    ),
    TaskSpec(
        "detect_faces",
        "detect_faces",
        (
            _p("minsize", _FACE_SIZE),
            _p("maxsize", _FACE_SIZE),
            _p("color", _COLOR),
            _p("export", _BOOL, "answer JSON coordinates instead of an image"),
        ),
        doc="Outline detected faces.",
    ),
    TaskSpec(
        "crop_faces",
        "crop_faces",
        (
            _p("mode", Choice(("thumb", "crop", "fill"))),
            _p("width", _SIZE),
            _p("height", _SIZE),
            _p("faces", _FACES),
            _p("buffer", Int(0, 10000)),
            _p("minsize", _FACE_SIZE),
            _p("maxsize", _FACE_SIZE),
        ),
        doc="Crop to detected faces.",
    ),
    TaskSpec(
        "pixelate_faces",
        "pixelate_faces",
        _face_filter(Int(2, 100)),
        doc="Pixelate detected faces.",
    ),
    TaskSpec("blur_faces", "blur_faces", _face_filter(Number(0, 20)), doc="Blur detected faces."),
    TaskSpec(
        "rounded_corners",
        "round_corners",
        (
            _p("radius", OneOf((Int(1, 10000), Choice(("max",))))),
            _p("blur", _BLUR),
            _p("background", _COLOR),
        ),
        doc="Round the corners (method round_corners, sent as the service's rounded_corners).",
    ),
    TaskSpec(
        "vignette",
        "vignette",
        (
            _p("amount", Int(0, 100)),
            _p("blurmode", Choice(("linear", "gaussian"))),
            _p("background", _COLOR),
        ),
        doc="Fade the edges.",
    ),
    TaskSpec(
        "polaroid",
        "polaroid",
        (_p("color", _COLOR), _p("rotate", Int(0, 359)), _p("background", _COLOR)),
        doc="Polaroid frame.",
    ),
    TaskSpec(
        "torn_edges",
        "torn_edges",
        (
            _p("spread", Fixed((Int(1, 10000), Int(1, 10000)), ("min", "max"))),
            _p("background", _COLOR),
        ),
        doc="Torn paper edges.",
    ),
    TaskSpec(
        "shadow",
        "shadow",
        (
            _p("blur", _BLUR),
            _p("opacity", Int(0, 100)),
            _p("vector", Fixed((Int(-1000, 1000), Int(-1000, 1000)), ("x", "y"))),
            _p("color", _COLOR),
            _p("background", _COLOR),
        ),
        doc="Drop shadow.",
    ),
    TaskSpec("circle", "circle", (_p("background", _COLOR),), doc="Crop to a circle."),
    TaskSpec(
        "border",
        "border",
        (_p("width", Int(1, 1000)), _p("color", _COLOR), _p("background", _COLOR)),
        doc="Add a border.",
    ),
    TaskSpec("sharpen", "sharpen", (_p("amount", Int(0, 20)),), doc="Sharpen."),
    TaskSpec("blur", "blur", (_p("amount", Int(1, 20)),), doc="Gaussian blur."),
    TaskSpec("monochrome", "monochrome", doc="Greyscale."),
    TaskSpec(
        "blackwhite",
        "blackwhite",
        (_p("threshold", Int(0, 100), "percent"),),
        doc="Pure black and white.",
    ),
    TaskSpec("sepia", "sepia", (_p("tone", Int(0, 100)),), doc="Sepia tone."),
    TaskSpec("pixelate", "pixelate", (_p("amount", Int(2, 100)),), doc="Pixelate."),
    TaskSpec("oil_paint", "oil_paint", (_p("amount", Int(2, 100)),), doc="Oil paint effect."),
    TaskSpec("negative", "negative", doc="Invert the colours."),
    TaskSpec(
        "modulate",
        "modulate",
        (
            _p("brightness", Int(0, 10000), "percent"),
            _p("hue", Int(0, 359), "degrees"),
            _p("saturation", Int(0, 10000), "percent"),
        ),
        doc="Brightness, hue, saturation.",
    ),
    TaskSpec(
        "partial_pixelate",
        "partial_pixelate",
        (
            _p("amount", Int(2, 100)),
            _p("blur", _BLUR),
            _p("type", _SHAPE),
            _p("objects", _OBJECTS, "list of [x, y, width, height]"),
        ),
        required=("objects",),
        doc="Pixelate rectangles.",
    ),
    TaskSpec(
        "partial_blur",
        "partial_blur",
        (
            _p("amount", _BLUR),
            _p("blur", _BLUR),
            _p("type", _SHAPE),
            _p("objects", _OBJECTS, "list of [x, y, width, height]"),
        ),
        required=("objects",),
        doc="Blur rectangles.",
    ),
    TaskSpec(
        "collage",
        "collage",
        (
            _p("files", ListOf(_STR), "handles of the other images"),
            _p("margin", Int(1, 100)),
            _p("width", _SIZE),
            _p("height", _SIZE),
            _p("color", _COLOR),
            _p("fit", Choice(("auto", "crop"))),
            _p("autorotate", _BOOL),
        ),
        required=("files", "width", "height"),
        doc="Collage of this image and others.",
    ),
    TaskSpec(
        "upscale",
        "upscale",
        (
            _p("upscale", _BOOL),
            _p("noise", Choice(("none", "low", "medium", "high"))),
            _p("style", Choice(("artwork", "photo"))),
        ),
        doc="Super-resolution upscale.",
    ),
    TaskSpec(
        "enhance",
        "enhance",
        (
            _p(
                "preset",
                Choice(
                    (
                        "auto",
                        "vivid",
                        "beautify",
                        "beautify_plus",
                        "fix_dark",
                        "fix_noise",
                        "fix_tint",
                        "outdoor",
                        "fireworks",
                    )
                ),
            ),
        ),
        doc="Automatic enhancement.",
    ),
    TaskSpec("redeye", "redeye", doc="Remove red eyes."),
    TaskSpec(
        "ascii",
        "ascii",
        (
            _p("background", _COLOR),
            _p("foreground", _COLOR),
            _p("colored", _BOOL),
            _p("size", Int(10, 100)),
            _p("reverse", _BOOL),
        ),
        doc="ASCII art (HTML).",
    ),
    TaskSpec(
        "output",
        "filetype_conversion",
        (
            _p("format", Choice(_OUTPUT_FORMATS), "target format", ("f",)),
            _p("background", _COLOR),
            _p("page", Int(1, 99999)),
            _p("density", Int(1, 500)),
            _p("compress", _BOOL),
            _p("quality", OneOf((Int(1, 100), Choice(("input",))))),
            _p("strip", _BOOL),
            _p("colorspace", Choice(("rgb", "cmyk", "input"))),
            _p("secure", _BOOL),
            _p("docinfo", _BOOL),
            _p("pageformat", _PAGE_FORMAT),
            _p("pageorientation", _ORIENTATION),
        ),
        required=("format",),
        doc="Convert the file type (sent as output).",
    ),
    TaskSpec("no_metadata", "no_metadata", doc="Strip metadata."),
    TaskSpec(
        "pjpg",
        "pjpg",
        (_p("quality", Int(1, 100)), _p("metadata", _BOOL, "keep metadata")),
        doc="Progressive JPEG.",
    ),
    TaskSpec(
        "cache",
        "cache",
        (
            _p("cache", _BOOL, "false: the CDN does not cache the result"),
            _p("expiry", Int(0, 31536000), "seconds the CDN keeps the result"),
        ),
        doc="CDN caching of the result (cache=false, cache=expiry:N).",
    ),
    TaskSpec("imagesize", "imagesize", doc="The image's width and height (JSON)."),
    TaskSpec(
        "metadata",
        "metadata_task",
        (_p("p", ListOf(Choice(_METADATA_TASK_ATTRIBUTES), 1, 20), "attributes to answer"),),
        doc="Metadata of the chain's result (JSON).",
    ),
    TaskSpec(
        "preview",
        "preview",
        (_p("css", Str(quote=True), "URL of a stylesheet for the viewer"),),
        doc="An HTML page viewing the file (Filelink.preview_url).",
    ),
    TaskSpec(
        "quality",
        "quality",
        (_p("value", Int(1, 100)),),
        required=("value",),
        doc="JPEG/WebP quality.",
    ),
    TaskSpec(
        "compress",
        "compress",
        (_p("metadata", _BOOL, "keep metadata"),),
        doc="Lossless-ish size optimisation (not in the reference SDK).",
    ),
    TaskSpec("zip", "zip", doc="Zip the file(s)."),
    TaskSpec(
        "fallback",
        "fallback",
        (
            _p("file", _STR, "handle served on failure", ("handle",)),
            _p("cache", Int(1, 31536000), "seconds"),
        ),
        required=("file",),
        doc="Serve another file if processing fails.",
    ),
    TaskSpec(
        "pdfinfo", "pdf_info", (_p("colorinfo", _BOOL),), kind="transform", doc="PDF information."
    ),
    TaskSpec(
        "pdfconvert",
        "pdf_convert",
        (
            _p("pageorientation", _ORIENTATION),
            _p("pageformat", _PAGE_FORMAT),
            _p("pages", _PAGES),
            _p("metadata", _BOOL),
        ),
        doc="Rework a PDF's pages.",
    ),
    TaskSpec(
        "minify_js",
        "minify_js",
        (
            _p("gzip", _BOOL),
            _p("use_babel_polyfill", _BOOL),
            _p("keep_fn_name", _BOOL),
            _p("keep_class_name", _BOOL),
            _p("mangle", _BOOL),
            _p("merge_vars", _BOOL),
            _p("remove_console", _BOOL),
            _p("remove_undefined", _BOOL),
            _p("targets", _STR, "browserslist query"),
        ),
        doc="Minify JavaScript.",
    ),
    TaskSpec(
        "minify_css",
        "minify_css",
        (_p("level", Choice((1, 2))), _p("gzip", _BOOL)),
        doc="Minify CSS.",
    ),
    TaskSpec("auto_image", "auto_image", doc="Best format for the browser."),
    TaskSpec(
        "doc_to_images",
        "doc_to_images",
        (
            _p("pages", _PAGES),
            _p("engine", Choice(("imagemagick", "mupdf"))),
            _p("format", Choice(("png", "jpg"))),
            _p("quality", Int(1, 100)),
            _p("density", Int(1, 500)),
            _p("hidden_slides", _BOOL),
        ),
        doc="Render document pages as images.",
    ),
    TaskSpec(
        "smart_crop",
        "smart_crop",
        (
            _p("mode", Choice(("face", "object", "auto"))),
            _p("width", _SIZE),
            _p("height", _SIZE),
            _p("fill_color", _COLOR),
            _p("coords", _BOOL),
        ),
        doc="Content-aware crop.",
    ),
    TaskSpec("pdfcreate", "pdfcreate", (_p("engine", _STR),), doc="PDF from several files."),
    TaskSpec(
        "animate",
        "animate",
        (
            _p("delay", Int(0, None), "milliseconds between frames"),
            _p("loop", Int(0, None), "0 loops forever"),
            _p("width", _SIZE),
            _p("height", _SIZE),
            _p("fit", _FIT),
            _p("align", _ALIGN),
            _p("background", _COLOR),
        ),
        doc="Animated GIF from several images.",
    ),
    TaskSpec(
        "video_convert",
        "av_convert",
        (
            _p("preset", _STR, "h264, webm, ogg, mp3, m4a, hls.variant...", ("p",)),
            _p("force", _BOOL),
            _p("title", _STR),
            _p("extname", _STR),
            _p("filename", _STR),
            _p("width", _SIZE),
            _p("height", _SIZE),
            _p("upscale", _BOOL),
            _p("aspect_mode", Choice(("preserve", "constrain", "letterbox", "pad", "crop"))),
            _p("two_pass", _BOOL),
            _p("video_bitrate", Int(1, 20000), "kbit/s"),
            _p("fps", Int(1, 300)),
            _p("keyframe_interval", Int(1, None)),
            _p("location", _LOCATION),
            _p("watermark_url", _STR),
            _p("watermark_top", Int(0, 9999)),
            _p("watermark_bottom", Int(0, 9999)),
            _p("watermark_right", Int(0, 9999)),
            _p("watermark_left", Int(0, 9999)),
            _p("watermark_width", _SIZE),
            _p("watermark_height", _SIZE),
            _p("path", _STR),
            _p("access", _ACCESS),
            _p("container", _STR),
            _p("audio_bitrate", Int(1, 999), "kbit/s"),
            _p("audio_sample_rate", Int(1, 99999), "Hz"),
            _p("audio_channels", Int(1, 12)),
            _p("clip_length", _TIME),
            _p("clip_offset", _TIME),
            _p("audio_codec", _AUDIO_CODEC),
            _p("frame_count", Int(1, 10000), "frames (image-sequence presets)"),
        ),
        kind="execute",
        doc="Audio/video conversion (asynchronous; see AudioVisual).",
    ),
    TaskSpec(
        "store",
        "store",
        (
            _p("filename", _STR),
            _p("location", _LOCATION),
            _p("path", Str(quote=True), "always sent between double quotes"),
            _p("container", _STR),
            _p("region", _REGION),
            _p("access", _ACCESS),
            _p("base64decode", _BOOL),
            _p("workflows", ListOf(_STR, 1, 20), "workflow ids"),
        ),
        kind="execute",
        doc="Store the result; answers JSON with the new handle.",
    ),
    TaskSpec("tags", "tags", kind="execute", doc="Image tagging (needs security)."),
    TaskSpec("sfw", "sfw", kind="execute", doc="Safe-for-work check (needs security)."),
    TaskSpec("ocr", "ocr", kind="execute", doc="Text recognition (needs security)."),
    TaskSpec(
        "urlscreenshot",
        "urlscreenshot",
        (
            _p("agent", Choice(("desktop", "mobile"))),
            _p("mode", Choice(("all", "window"))),
            _p("width", Int(1, 1920)),
            _p("height", Int(1, 8000)),
            _p("delay", Int(0, 20000), "milliseconds"),
            _p("orientation", _ORIENTATION),
            _p("device", _STR, "device name to emulate, e.g. 'iPhone X'"),
        ),
        doc="Screenshot of a web page (Client.urlscreenshot).",
    ),
    TaskSpec(
        "security",
        "signed_url",
        (_p("p", _STR, "policy", ("policy",)), _p("s", _STR, "signature", ("signature",))),
        kind="control",
        required=("p", "s"),
        doc="Policy and signature (added by the SDK).",
    ),
    TaskSpec("debug", "debug", kind="control", doc="Describe the chain as JSON."),
)

#: Every task, keyed by the name sent in the URL.
TASKS: Mapping[str, TaskSpec] = {spec.name: spec for spec in _SPECS}

_BY_METHOD: dict[str, TaskSpec] = {
    spec.method: spec for spec in _SPECS if spec.kind != "control" or spec.name == "debug"
}


def task_for_method(method: str) -> TaskSpec:
    """The task an SDK method sends (``filetype_conversion`` → ``output``)."""
    try:
        return _BY_METHOD[method]
    except KeyError:
        raise ConfigurationError(f"no processing task for method {method!r}") from None


# -- tasks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One validated task: its URL name and its parameters sorted by name.

    Equal tasks compare and hash equal, whatever order the parameters came in.
    """

    name: str
    params: tuple[tuple[str, Value], ...] = ()
    #: checked against the catalogue (False for a `CustomTask`)
    validated: ClassVar[bool] = True

    @property
    def spec(self) -> TaskSpec:
        """This task's catalogue entry."""
        return TASKS[self.name]

    def get(self, key: str, default: Value | None = None) -> Value | None:
        """The value of parameter ``key``, or ``default``."""
        for name, value in self.params:
            if name == key:
                return value
        return default

    def as_dict(self) -> dict[str, Value]:
        """The parameters as a dict."""
        return dict(self.params)

    def render(self) -> str:
        """The URL segment: ``name`` or ``name=k:v,...`` with pairs sorted as rendered.

        ``cache`` with only its switch is the service's short form ``cache=false``.
        """
        if not self.params:
            return self.name
        if self.name == "cache" and len(self.params) == 1 and self.params[0][0] == "cache":
            return f"cache={render_value(self.params[0][1])}"
        spec = TASKS.get(self.name)
        pairs = []
        for key, value in self.params:
            kind = spec.param(key) if spec else None
            quote = isinstance(kind.type, Str) and kind.type.quote if kind else False
            pairs.append(f"{key}:{render_value(value, quote=quote)}")
        return f"{self.name}={','.join(sorted(pairs))}"

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class CustomTask(Task):
    """A task the catalogue does not know, as `custom_task` made it: rendered as given
    (parameters in the order given), never validated (``validated`` is False)."""

    validated: ClassVar[bool] = False

    def render(self) -> str:
        """``name`` or ``name=k:v,...`` in the order the parameters were given."""
        if not self.params:
            return self.name
        return f"{self.name}=" + ",".join(f"{k}:{render_value(v)}" for k, v in self.params)


_CUSTOM_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


def _custom_value(task: str, key: str, value: object, depth: int = 0) -> Value:
    """A value of a custom task as sent; only what would break the URL grammar is refused."""
    if isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _error(task, f"parameter {key!r} must be a finite number")
        return value
    if isinstance(value, str):
        if not value or '"' in value or _CONTROL.search(value) or not _encodable(value):
            raise _error(
                task,
                f"parameter {key!r} must be a non-empty string without double quotes or "
                "control characters",
            )
        return value
    if isinstance(value, (list, tuple)) and depth < MAX_NESTING:
        return tuple(_custom_value(task, key, v, depth + 1) for v in value)
    raise _error(
        task,
        f"parameter {key!r} must be a bool, number, string or list, not {type(value).__name__}",
    )


def custom_task(name: str, params: Mapping[str, object] | None = None) -> CustomTask:
    """A task the catalogue does not know (filestack-js ``addTask`` without its
    validator): rendered as given, its parameters in the order given, ``None`` dropped.

    Only what would break the URL grammar is refused: a name or key other than letters,
    digits and ``_``; a string with a double quote or control character; a value that
    is not a bool, number, string or list. ``security`` is never a custom task.

    >>> custom_task("sharpen_more", {"amount": 3, "mode": "x,y"}).render()
    'sharpen_more=amount:3,mode:"x,y"'
    """
    if not isinstance(name, str) or not _CUSTOM_NAME.fullmatch(name):
        raise ConfigurationError(
            f"custom task name must be 1..64 letters, digits or '_', got {_shown(name)}"
        )
    if name == "security":
        raise ConfigurationError("security is not a task to add: give security= instead")
    if params is not None and not isinstance(params, Mapping):
        raise _error(name, f"parameters must be a mapping, not {type(params).__name__}")
    values: list[tuple[str, Value]] = []
    for key, raw in (params or {}).items():
        if not isinstance(key, str) or not _CUSTOM_NAME.fullmatch(key):
            raise _error(name, f"parameter name must be letters, digits or '_', got {_shown(key)}")
        if raw is not None:
            values.append((key, _custom_value(name, key, raw)))
    return CustomTask(name, tuple(values))


_APIKEY = re.compile(r"[A-Za-z0-9_-]+")


def check_apikey(value: object) -> str:
    """``value`` if it can be an API key, else raise `ConfigurationError`.

    A key is letters, digits, ``-`` and ``_`` (Filestack's are 22 letters and digits),
    and never a task name: it stands as a path segment of processing URLs, where
    ``a/b``, ``k?x`` or ``flip`` would be read as something else.
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("apikey must be a non-empty string")
    if not _APIKEY.fullmatch(value):
        raise ConfigurationError(
            "apikey may hold only letters, digits, '-' and '_' "
            f"(got {len(value)} characters including others)"
        )
    if value in TASKS or value == "security":
        raise ConfigurationError(f"apikey {value!r} is a task name, not an API key")
    return value


def _error(task: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"{task}: {message}")


def _shown(value: object) -> str:
    return _excerpt(value) if isinstance(value, str) else f"of type {type(value).__name__}"


def build_task(name: str, params: Mapping[str, object] | None = None) -> Task:
    """Validate parameters for task ``name`` (its URL name) and return the `Task`.

    ``None`` values are dropped, as "not given".

    Raises:
        ConfigurationError: unknown task or parameter, a value of the wrong type or
            out of range (the message names the task, the parameter and what is
            allowed), or a required parameter missing.

    >>> build_task("rotate", {"deg": 90, "exif": False}).render()
    'rotate=deg:90,exif:false'
    """
    spec = TASKS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ConfigurationError(f"unknown processing task {_shown(name)}")
    if params is not None and not isinstance(params, Mapping):
        raise _error(spec.name, f"parameters must be a mapping, not {type(params).__name__}")
    values: dict[str, Value] = {}
    for key, raw in (params or {}).items():
        if raw is None:
            continue
        param = spec.param(key) if isinstance(key, str) else None
        if param is None:
            known = ", ".join(spec.param_names) or "none"
            raise _error(spec.name, f"unknown parameter {_shown(key)}; known parameters: {known}")
        if param.name in values:
            raise _error(spec.name, f"parameter {param.name!r} given twice (name and alias)")
        try:
            values[param.name] = param.type.check(raw)
        except Invalid as err:
            raise _error(
                spec.name, f"parameter {param.name!r}: {err}; allowed: {param.type.describe()}"
            ) from None
    return _finish(spec, values)


def _finish(spec: TaskSpec, values: dict[str, Value]) -> Task:
    missing = [p for p in spec.required if p not in values]
    if missing:
        raise _error(spec.name, f"parameter(s) {', '.join(map(repr, missing))} required")
    if spec.require_any and not any(p in values for p in spec.require_any):
        raise _error(spec.name, f"give at least one of {', '.join(spec.require_any)}")
    return Task(spec.name, tuple(sorted(values.items())))


def parse_task(segment: str) -> Task:
    """Parse one task segment of a processing URL into a validated `Task`.

    Aliases (``w`` for ``width``...) are resolved; values are typed per the catalogue.

    Raises:
        ConfigurationError: unknown task or parameter, or a value that does not fit.

    >>> parse_task("resize=w:300,fit:crop")
    Task(name='resize', params=(('fit', 'crop'), ('width', 300)))
    """
    name, has_params, rest = segment.partition("=")
    spec = TASKS.get(name)
    if spec is None:
        raise ConfigurationError(f"unknown processing task {_excerpt(name)}")
    values: dict[str, Value] = {}
    if name == "cache" and rest in ("true", "false"):  # the short form cache=false
        return Task("cache", (("cache", rest == "true"),))
    if has_params:
        try:
            pairs = split_top_level(rest, ",")
        except Invalid as err:
            raise _error(name, str(err)) from None
        for pair in pairs:
            key, colon, text = pair.partition(":")
            if not colon:
                raise _error(name, f"expected key:value, got {_excerpt(pair)}")
            param = spec.param(key)
            if param is None:
                known = ", ".join(spec.param_names) or "none"
                raise _error(name, f"unknown parameter {_excerpt(key)}; known parameters: {known}")
            if param.name in values:
                raise _error(name, f"parameter {param.name!r} given twice")
            try:
                values[param.name] = param.type.parse(text)
            except Invalid as err:
                raise _error(
                    name, f"parameter {param.name!r}: {err}; allowed: {param.type.describe()}"
                ) from None
    return _finish(spec, values)


@dataclass(frozen=True)
class ParsedPath:
    """A processing URL path split into its parts (see `parse_path`).

    Attributes:
        apikey: the API key segment, when the path has one.
        tasks: the tasks in order (``security`` excluded).
        policy: the ``security`` segment's policy, if any.
        signature: the ``security`` segment's signature, if any.
        source: the handle, external URL, ``src://alias/path``, or ``[h1,h2]`` text.
        sources: the source as a list (one item unless it was ``[h1,h2]``).
    """

    apikey: str | None
    tasks: tuple[Task, ...]
    policy: str | None
    signature: str | None
    source: str
    sources: tuple[str, ...]


def _is_task_segment(segment: str) -> bool:
    return segment.partition("=")[0].partition("/")[0] in TASKS


def _segment_end(text: str) -> int:
    """Where the task segment at the start of ``text`` ends: its first '/' outside
    brackets and quotes, or the end of the text (raises `Invalid` if unbalanced)."""
    return next(_top_level(text, "/"), len(text))


def parse_path(path: str) -> ParsedPath:
    """Split a decoded processing path (``/KEY/resize=w:10/flip/HANDLE``) into its parts.

    A leading segment that is not a task is the API key when more follows; the
    first non-task segment after the tasks starts the source, which runs to the end
    as it is (so ``https://host/a/b`` sources keep their slashes, and brackets or
    quotes in a URL source are not read as the task grammar's).

    Raises:
        ConfigurationError: no source, or a task segment that does not parse.

    >>> p = parse_path("/KEY/resize=width:10/security=p:abc=,s:f00/https://a.io/x.png")
    >>> p.apikey, [t.render() for t in p.tasks], p.policy, p.source
    ('KEY', ['resize=width:10'], 'abc=', 'https://a.io/x.png')
    """
    rest = path.lstrip("/")
    apikey: str | None = None
    first, slash, after = rest.partition("/")
    if slash and not _is_task_segment(rest) and first != B64_SEGMENT:
        apikey, rest = first, after
    if rest.startswith(B64_SEGMENT + "/"):
        return _parse_b64(apikey, rest[len(B64_SEGMENT) + 1 :])
    tasks: list[Task] = []
    policy = signature = None
    while _is_task_segment(rest):
        try:
            end = _segment_end(rest)
        except Invalid as err:
            raise ConfigurationError(f"bad processing path: {err}") from None
        task = parse_task(rest[:end])
        rest = rest[end + 1 :]
        if task.name == "security":
            policy, signature = str(task.get("p")), str(task.get("s"))
        else:
            tasks.append(task)
    return _with_source(apikey, tasks, policy, signature, rest)


def _with_source(
    apikey: str | None, tasks: Sequence[Task], policy: str | None, signature: str | None, text: str
) -> ParsedPath:
    """The parsed path once its source ``text`` is split (a quoted source loses its quotes,
    the way filestack-js writes URL sources: ``.../"https://a.io/x.png"``)."""
    if not text:
        raise ConfigurationError("the processing path has no source (handle or URL)")
    sources: tuple[str, ...]
    if text.startswith("[") and text.endswith("]"):
        try:
            sources = tuple(_unquote(s) for s in split_top_level(text[1:-1], ","))
        except Invalid as err:
            raise ConfigurationError(f"bad source list: {err}") from None
        source = text
    else:
        source = _unquote(text)
        sources = (source,)
    return ParsedPath(apikey, tuple(tasks), policy, signature, source, sources)


#: the segment of the base64 URL form: ``/KEY/b64/<tasks>/b64://<source>``
B64_SEGMENT = "b64"
_B64_SOURCE = "b64://"


def _b64_text(text: str, what: str) -> str:
    """URL-safe base64 (padding optional) decoded as UTF-8 text."""
    try:
        padded = (text + "=" * (-len(text) % 4)).encode("ascii")
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        return raw.decode("utf-8")
    except (ValueError, UnicodeError):
        raise ConfigurationError(
            f"the base64 URL form's {what} is not base64 of UTF-8 text"
        ) from None


def _b64_task(item: object) -> Task:
    """One ``{"name": ..., "params": ...}`` of the base64 form's JSON list, validated."""
    if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
        raise ConfigurationError("each task of the base64 URL form needs a 'name'")
    name, params = item["name"], item.get("params")
    if isinstance(params, bool):  # cache: false, or a switch given as true
        return build_task(name, {"cache": params} if name == "cache" else {})
    if params is not None and not isinstance(params, Mapping):
        raise ConfigurationError(f"{name}: the base64 URL form's params must be an object")
    return build_task(name, params)


def _parse_b64(apikey: str | None, rest: str) -> ParsedPath:
    """The base64 URL form (filestack-js ``transform(..., b64=true)``): the tasks are the
    URL-safe base64 of a JSON list of ``{"name", "params"}``, the source ``b64://`` and
    the base64 of the source text."""
    encoded, slash, source = rest.partition("/")
    if not slash or not encoded:
        raise ConfigurationError("the base64 URL form needs tasks and a source")
    text = _b64_text(encoded, "tasks")
    try:
        items = json.loads(text)
    except ValueError:
        raise ConfigurationError("the base64 URL form's tasks are not JSON") from None
    if not isinstance(items, list):
        raise ConfigurationError("the base64 URL form's tasks must be a JSON list")
    tasks: list[Task] = []
    policy = signature = None
    for task in map(_b64_task, items):
        if task.name == "security":
            policy, signature = str(task.get("p")), str(task.get("s"))
        else:
            tasks.append(task)
    if source.startswith(_B64_SOURCE):
        source = _b64_text(source[len(_B64_SOURCE) :], "source")
    return _with_source(apikey, tasks, policy, signature, source)


def iter_specs(kinds: Iterable[str] = ("transform", "execute")) -> list[TaskSpec]:
    """Catalogue entries of the given kinds, in catalogue order (for docs and tests)."""
    wanted = set(kinds)
    return [spec for spec in _SPECS if spec.kind in wanted]
