"""Generate ``src/filestack_async/_task_methods.py``: the typed task methods, from the catalogue.

Each task of the catalogue in ``filestack_async._tasks`` becomes one method of
`TaskMethods`, its parameters in the catalogue's order with the catalogue's names,
each typed from the parameter's `ParamType`:

* ``Int`` → ``int``, ``Number`` → ``float``, ``Bool`` → ``bool``, ``Str`` → ``str``,
  ``Color`` → ``Color``;
* ``Choice`` → ``Literal[...]`` of its values;
* ``OneOf`` → the union of its options, ``ListOf`` → ``Sequence[item]``, ``Fixed``
  → ``Sequence[...]`` of its items' base type (``Rect`` when named ``[x, y, w, h]``);
* a type equal to one of `NAMED_TYPES` is written by that alias's name.

Only what the catalogue does not say is written here: the docstrings (`DOCS`), the
aliases' names, the tasks that are not methods of the mixin (`NOT_HERE`), what
an executed task returns (`EXECUTED`) and one annotation kept wider than its
parameter's type (`WIDER`).

Usage::

    python scripts/gen_task_methods.py          # rewrite the module
    python scripts/gen_task_methods.py --check  # exit 1 if the committed module is out of date

``tests/unit/test_task_methods_generated.py`` runs the same comparison, so the
methods cannot drift from the catalogue.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _codegen import ROOT, GenerationError, formatted, write_or_check

TARGET = ROOT / "src" / "filestack_async" / "_task_methods.py"

if str(ROOT / "src") not in sys.path:  # run from a checkout without an install
    sys.path.insert(0, str(ROOT / "src"))

from filestack_async._tasks import (  # noqa: E402
    TASKS,
    Bool,
    Choice,
    Color,
    Fixed,
    Int,
    ListOf,
    Number,
    OneOf,
    ParamType,
    Str,
    TaskSpec,
    iter_specs,
)


@dataclass(frozen=True)
class Named:
    """A type alias of the generated module.

    ``source`` is the catalogue parameter ``(task, parameter)`` whose type it names
    (every parameter of an equal type is then written by the alias), or the alias's
    text for the two aliases that name no catalogue type (``Color``, ``Rect``).
    """

    name: str
    source: tuple[str, str] | str
    comment: str = ""


NAMED_TYPES = (
    Named(
        "Color",
        "str",
        "A colour: hex without ``#`` (``FF0000``, ``FF000080``) or a name (``white``).",
    ),
    Named("Fit", ("resize", "fit")),
    Named(
        "Align",
        ("resize", "align"),
        "``center``, ``top``, ``bottom``, ``left``, ``right``, ``faces``, "
        """or a pair ``["top", "left"]``.""",
    ),
    Named(
        "Position",
        ("watermark", "position"),
        "``top``/``middle``/``bottom``/``left``/``center``/``right``, "
        """or a pair like ``["top", "left"]``.""",
    ),
    Named(
        "Faces",
        ("crop_faces", "faces"),
        '``"all"``, one face number, or a list of face numbers (from 1).',
    ),
    Named("Shape", ("pixelate_faces", "type")),
    Named("Rect", "Sequence[int]", "``[x, y, width, height]`` in pixels."),
    Named("Pages", ("pdfconvert", "pages"), 'Page numbers or ranges: ``[1, 3, "5-7", "9-"]``.'),
    Named("PageFormat", ("pdfconvert", "pageformat")),
    Named("Orientation", ("pdfconvert", "pageorientation")),
    Named("Location", ("store", "location")),
    Named("Access", ("store", "access")),
    Named("EnhancePreset", ("enhance", "preset")),
    Named("OutputFormat", ("output", "format")),
    Named("AspectMode", ("video_convert", "aspect_mode")),
)

#: the names of a ``Fixed`` list written as ``Rect``
RECT_NAMES = ("x", "y", "w", "h")

#: tasks with no method here (task -> where the method is)
NOT_HERE = {
    "tags": "Filelink and Transformation",
    "sfw": "Filelink and Transformation",
    "ocr": "Filelink and Transformation",
    "urlscreenshot": "Client",
}

#: parameters annotated wider than their catalogue type ((task, parameter) -> annotation)
WIDER = {("store", "region"): "str"}  # the public signature takes any string; the task checks it


@dataclass(frozen=True)
class Executed:
    """A task the method sends at once: what it returns and the Transformation method it calls."""

    returns: str
    sender: str
    keyword_only: bool


#: in the order written (after the transformations)
EXECUTED = {
    "store": Executed("Filelink", "store_task", keyword_only=False),
    "video_convert": Executed("AudioVisual", "av_convert_task", keyword_only=True),
}

DOCS = {
    "resize": "Resize (``resize=height:500,width:500``); give width, height or both (1..10000).",
    "crop": "Crop to ``dim=[x, y, width, height]`` (``crop=dim:[0,0,100,100]``).",
    "rotate": 'Rotate clockwise by ``deg`` (0..359) or by the EXIF orientation (``"exif"``).',
    "flip": "Mirror top to bottom (``flip``).",
    "flop": "Mirror left to right (``flop``).",
    "watermark": "Overlay the image with handle ``file`` (size 1..500 percent).",
    "detect_faces": "Outline faces; ``export=True`` answers JSON coordinates.",
    "crop_faces": "Crop to the detected faces.",
    "pixelate_faces": "Pixelate the detected faces (amount 2..100, blur 0..20).",
    "blur_faces": "Blur the detected faces (blur 0..20).",
    "round_corners": "Round the corners (sent as the service's ``rounded_corners`` task).",
    "vignette": "Fade the edges (amount 0..100).",
    "polaroid": "A polaroid frame, optionally rotated (0..359).",
    "torn_edges": "Torn paper edges; ``spread=[min, max]``.",
    "shadow": "A drop shadow offset by ``vector=[x, y]``.",
    "circle": "Crop to a circle (``circle`` or ``circle=background:red``).",
    "border": "Add a border ``width`` pixels wide (1..1000).",
    "sharpen": "Sharpen (amount 0..20).",
    "blur": "Gaussian blur (amount 1..20).",
    "monochrome": "Greyscale (``monochrome``).",
    "blackwhite": "Pure black and white at ``threshold`` percent (0..100).",
    "sepia": "Sepia (tone 0..100).",
    "pixelate": "Pixelate with blocks of ``amount`` pixels (2..100).",
    "oil_paint": "Oil paint effect (amount 2..100).",
    "negative": "Invert the colours (``negative``).",
    "modulate": "Brightness and saturation in percent (100 = unchanged), hue in degrees.",
    "partial_pixelate": "Pixelate the rectangles ``objects=[[x, y, w, h], ...]``.",
    "partial_blur": "Blur the rectangles ``objects=[[x, y, w, h], ...]``.",
    "collage": "A ``width`` x ``height`` collage of this image and the handles in ``files``.",
    "upscale": "Super-resolution upscale.",
    "enhance": "Automatic enhancement, optionally with a ``preset``.",
    "redeye": "Remove red eyes (``redeye``).",
    "ascii": "ASCII art as HTML (size 10..100).",
    "filetype_conversion": "Convert to ``format`` (sent as ``output=format:png``).",
    "no_metadata": "Strip metadata (``no_metadata``).",
    "pjpg": "Progressive JPEG (``pjpg=quality:80``); metadata kept only with ``metadata=True``.",
    "cache": "CDN caching: ``cache=False`` (``cache=false``) or ``expiry`` seconds.",
    "imagesize": 'The image\'s size as JSON ``{"width": ..., "height": ...}`` (``imagesize``).',
    "metadata_task": "The chain result's metadata as JSON (``metadata=p:[size,width]``).",
    "preview": "An HTML viewer of the file (``preview``); see `Filelink.preview_url`.",
    "quality": "Output quality 1..100 (``quality=value:75``).",
    "compress": "Optimise the file size (``compress``); not in the official Python SDK.",
    "zip": "Zip the source file(s) (``zip``).",
    "fallback": "Serve handle ``file`` if processing fails (cache in seconds).",
    "pdf_info": "PDF information as JSON (sent as ``pdfinfo``).",
    "pdf_convert": "Rework a PDF's pages (sent as ``pdfconvert``).",
    "minify_js": "Minify JavaScript; ``targets`` is a browserslist query.",
    "minify_css": "Minify CSS (level 1 or 2).",
    "auto_image": "Pick the best image format for the browser (``auto_image``).",
    "doc_to_images": "Render document pages as images.",
    "smart_crop": "Content-aware crop to ``width`` x ``height``.",
    "pdfcreate": "One PDF from several files (use on `Client.transform_handles`).",
    "animate": "An animated GIF of several images (use on `Client.transform_handles`).",
    "store": """Store the result and return its new `Filelink` (signed when security is set).

        Example:
            >>> new = await link.resize(width=100).store(path="/thumbs/")  # doctest: +SKIP
        """,
    "av_convert": "Start an audio/video conversion (``video_convert``) "
    """and return its `AudioVisual`.

        Example:
            >>> av = await link.av_convert(preset="h264", width=320)  # doctest: +SKIP
            >>> converted = await av.wait_until_complete()  # doctest: +SKIP
        """,
}

HEADER = '''\
"""`TaskMethods`: one typed method per processing task, shared by Filelink and Transformation.

GENERATED by scripts/gen_task_methods.py from the catalogue in `_tasks`: do not
edit; run ``python scripts/gen_task_methods.py`` (then ``scripts/gen_sync.py``)
after changing a task.

Every method validates its arguments against the catalogue in `_tasks` and returns
a new `Transformation`; nothing is sent until an async method (``store``,
``av_convert``, ``get_content``, ``download``...) is awaited. Parameter names are
those of the official Python SDK, so code ports by adding ``await`` where a call
does I/O.

Example:
    >>> from filestack_async import Filelink
    >>> link = Filelink("AbCdEfGhIjKlMnOpQrSt")
    >>> link.resize(width=300).flip().url
    'https://cdn.filestackcontent.com/resize=width:300/flip/AbCdEfGhIjKlMnOpQrSt'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from ._tasks import Task, build_task, custom_task, task_for_method

if TYPE_CHECKING:
    from ._av import AudioVisual
    from ._filelink import Filelink
    from ._security import Security
    from ._transform import Transformation

#: what a task method returns: the async `Transformation`, or its sync twin
Chain = TypeVar("Chain")

'''

CLASS_HEAD = '''

class ChainMethods(Generic[Chain]):
    """The task methods that only add a task to a chain (no I/O), written once for the
    async classes and their sync twins: a subclass provides ``_append``.
    """

    __slots__ = ()

    def _append(self, task: Task) -> Chain:
        raise TypeError(f"{type(self).__name__} does not support processing tasks")

    def _add(self, method: str, **params: object) -> Chain:
        return self._append(build_task(task_for_method(method).name, params))

    def custom_task(self, name: str, **params: object) -> Chain:
        """Add a task the catalogue does not know (as filestack-js ``addTask``).

        It is sent as given, its parameters in the order given, and not validated
        (its `Task.validated` is False): the service judges it. Only what would break
        the URL is refused (see `custom_task`).

        Raises:
            ConfigurationError: a name or parameter name other than letters, digits
                and ``_``, ``security``, or a value that is not a bool, number, string
                (without double quotes) or list.

        Example:
            >>> from filestack_async import Filelink
            >>> Filelink("AbCdEfGhIjKlMnOpQrSt").custom_task("new_task", level=2).url
            'https://cdn.filestackcontent.com/new_task=level:2/AbCdEfGhIjKlMnOpQrSt'
        """
        return self._append(custom_task(name, params))
'''

TASKS_HEAD = '''

class TaskMethods(ChainMethods["Transformation"]):
    """The processing task methods of `Filelink` and `Transformation`.

    A subclass provides ``_transformation()``: the chain a new task is appended to.
    """

    __slots__ = ()

    def _transformation(self) -> Transformation:
        raise TypeError(f"{type(self).__name__} does not support processing tasks")

    def _append(self, task: Task) -> Transformation:
        return self._transformation().with_tasks((task,))

    def with_tasks(self, tasks: str | Iterable[Task]) -> Transformation:
        """A chain with ``tasks`` appended: URL grammar or `Task` objects (no I/O).

        As `Transformation.with_tasks`.

        Raises:
            ConfigurationError: ``tasks`` is neither, or holds a task the catalogue
                rejects, or a ``security`` task.

        Example:
            >>> from filestack_async import Filelink
            >>> Filelink("AbCdEfGhIjKlMnOpQrSt").with_tasks("resize=w:200/flip").url
            'https://cdn.filestackcontent.com/resize=width:200/flip/AbCdEfGhIjKlMnOpQrSt'
        """
        return self._transformation().with_tasks(tasks)
'''


# -- annotations from parameter types ----------------------------------------------------------


def _literal(values: tuple[str | int, ...]) -> str:
    for v in values:
        if isinstance(v, str) and ('"' in v or "\\" in v):
            raise GenerationError(f"cannot quote the choice {v!r}")
    return "Literal[" + ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in values) + "]"


def _base(kind: ParamType) -> str:
    """The Python type of a value of ``kind`` (for the items of a ``Fixed`` list)."""
    if isinstance(kind, Choice):
        bases = {"str" if isinstance(v, str) else "int" for v in kind.values}
        if len(bases) == 1:
            return bases.pop()
    elif isinstance(kind, (Int, Number, Bool, Str, Color)):
        return structural(kind)
    raise GenerationError(f"no base type for {kind!r} in a fixed list")


def structural(kind: ParamType) -> str:
    """The annotation of ``kind`` written out (aliases only for its parts)."""
    simple = {Int: "int", Number: "float", Bool: "bool", Str: "str", Color: "Color"}
    if type(kind) in simple:
        return simple[type(kind)]
    if isinstance(kind, Choice):
        return _literal(kind.values)
    if isinstance(kind, OneOf):
        return " | ".join(annotation(o) for o in kind.options)
    if isinstance(kind, ListOf):
        return f"Sequence[{annotation(kind.item)}]"
    if isinstance(kind, Fixed):
        if kind.names == RECT_NAMES:
            return "Rect"
        bases = sorted({_base(item) for item in kind.items})
        return f"Sequence[{' | '.join(bases)}]"
    raise GenerationError(f"no annotation for the parameter type {kind!r}")


def _catalogue_type(task: str, param: str) -> ParamType:
    spec = TASKS[task].param(param)
    if spec is None:
        raise GenerationError(f"{task} has no parameter {param!r} (NAMED_TYPES)")
    return spec.type


def annotation(kind: ParamType) -> str:
    """The annotation of a parameter of type ``kind``: an alias's name when one fits."""
    text = structural(kind)
    return _ALIASES.get(text, text)


#: written annotation -> alias name, and alias name -> its definition; filled in
#: `NAMED_TYPES` order, so an alias's definition uses only the aliases before it
_ALIASES: dict[str, str] = {}
_DEFINITIONS: dict[str, str] = {}
for _named in NAMED_TYPES:
    if isinstance(_named.source, tuple):
        _text = structural(_catalogue_type(*_named.source))
        _ALIASES[_text] = _named.name
    else:
        _text = _named.source
    _DEFINITIONS[_named.name] = _text


def alias_code() -> str:
    out = []
    for named in NAMED_TYPES:
        comment = f"#: {named.comment}\n" if named.comment else ""
        out.append(f"{comment}{named.name} = {_DEFINITIONS[named.name]}\n")
    return "".join(out)


# -- methods --------------------------------------------------------------------------------


def docstring(text: str) -> str:
    if '"""' in text:
        raise GenerationError(f"a docstring holds triple quotes: {text[:40]!r}")
    return f'        """{text}"""\n'


def _parameters(params: list[str]) -> str:
    """The parameter list: one a line (a trailing comma) from three parameters on."""
    return ", ".join(["self", *params]) + ("," if len(params) >= 3 else "")


def method_code(spec: TaskSpec) -> str:
    names = [p.name for p in spec.params]
    params = []
    for p in spec.params:
        written = WIDER.get((spec.name, p.name)) or annotation(p.type)
        params.append(f"{p.name}: {written} | None = None")
    doc = DOCS.get(spec.method)
    if doc is None:
        raise GenerationError(f"no docstring for {spec.method} in DOCS")
    executed = EXECUTED.get(spec.name)
    if executed is None:
        if spec.kind != "transform":
            raise GenerationError(f"{spec.method}: a {spec.kind} task needs an EXECUTED entry")
        head = f"    def {spec.method}({_parameters(params)}) -> Chain:\n"
        args = "".join(f", {n}={n}" for n in names)
        return head + docstring(doc) + f'        return self._add("{spec.method}"{args})\n'
    star = ["*"] if executed.keyword_only else []
    if not executed.keyword_only:
        params.append("*")
    params = [*star, *params, "security: Security | None = None"]
    head = f"    async def {spec.method}({_parameters(params)}) -> {executed.returns}:\n"
    values = ", ".join(f'"{n}": {n}' for n in names)
    return (
        head
        + docstring(doc)
        + f'        task = build_task("{spec.name}", {{{values}}})\n'
        + "        chain = self._transformation()\n"
        + f"        return await chain.{executed.sender}(task, security=security)\n"
    )


def methods() -> list[TaskSpec]:
    """The catalogue's tasks that are methods here, in the catalogue's order."""
    specs = [s for s in iter_specs() if s.name not in NOT_HERE]
    extra = set(DOCS) - {s.method for s in specs}
    if extra:
        raise GenerationError(f"DOCS has entries for no task: {sorted(extra)}")
    return specs


def section(title: str) -> str:
    """A section comment in the class, ruled to column 84."""
    return f"\n    # -- {title} ".ljust(85, "-") + "\n\n"


def render_source() -> str:
    """The generated module, unformatted."""
    specs = methods()
    transforms = [s for s in specs if s.name not in EXECUTED]
    executed = [TASKS[name] for name in EXECUTED]
    return (
        HEADER
        + alias_code()
        + CLASS_HEAD
        + section("image transformations")
        + "\n".join(method_code(s) for s in transforms)
        + TASKS_HEAD
        + section("tasks that run now")
        + "\n".join(method_code(s) for s in executed)
    )


def generate() -> str:
    """The generated module, import-sorted and formatted by ruff as the project configures it."""
    return formatted(render_source(), TARGET)


def main(argv: list[str]) -> int:
    return write_or_check(TARGET, generate(), argv, "python scripts/gen_task_methods.py")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
