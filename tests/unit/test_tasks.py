"""The task catalogue: validation, rendering and parsing (filestack-protocol.md §7.1, §7.2)."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from filestack_async import ConfigurationError, Filelink, Transformation
from filestack_async._task_methods import ChainMethods, TaskMethods
from filestack_async._tasks import (
    TASKS,
    Task,
    build_task,
    iter_specs,
    parse_path,
    parse_task,
    parse_value,
    render_value,
    split_top_level,
    task_for_method,
)

# Every task method of filestack-python 4.0.0 (protocol §7.2), as method -> name on the wire.
REFERENCE_METHODS = {
    "resize": "resize",
    "crop": "crop",
    "rotate": "rotate",
    "flip": "flip",
    "flop": "flop",
    "watermark": "watermark",
    "detect_faces": "detect_faces",
    "crop_faces": "crop_faces",
    "pixelate_faces": "pixelate_faces",
    "round_corners": "rounded_corners",  # the service's name (filestack-python sent round_corners)
    "vignette": "vignette",
    "polaroid": "polaroid",
    "torn_edges": "torn_edges",
    "shadow": "shadow",
    "circle": "circle",
    "border": "border",
    "sharpen": "sharpen",
    "blur": "blur",
    "monochrome": "monochrome",
    "blackwhite": "blackwhite",
    "sepia": "sepia",
    "pixelate": "pixelate",
    "oil_paint": "oil_paint",
    "negative": "negative",
    "modulate": "modulate",
    "partial_pixelate": "partial_pixelate",
    "partial_blur": "partial_blur",
    "collage": "collage",
    "upscale": "upscale",
    "enhance": "enhance",
    "redeye": "redeye",
    "ascii": "ascii",
    "filetype_conversion": "output",
    "no_metadata": "no_metadata",
    "quality": "quality",
    "zip": "zip",
    "fallback": "fallback",
    "pdf_info": "pdfinfo",
    "pdf_convert": "pdfconvert",
    "minify_js": "minify_js",
    "minify_css": "minify_css",
    "auto_image": "auto_image",
    "doc_to_images": "doc_to_images",
    "smart_crop": "smart_crop",
    "pdfcreate": "pdfcreate",
    "animate": "animate",
    "av_convert": "video_convert",
    "store": "store",
}


@pytest.mark.parametrize(("method", "wire"), sorted(REFERENCE_METHODS.items()))
def test_every_reference_method_exists_with_the_reference_parameter_names(
    method: str, wire: str
) -> None:
    import filestack

    spec = task_for_method(method)
    assert spec.name == wire
    ours = [p for p in inspect.signature(getattr(TaskMethods, method)).parameters if p != "self"]
    ours = [p for p in ours if p != "security"]
    assert ours == list(spec.param_names)
    theirs = [
        p
        for p in inspect.signature(getattr(filestack.Transformation, method)).parameters
        if p != "self"
    ]
    # the reference's parameters first and in its order; filestack-js's options after
    assert ours[: len(theirs)] == theirs
    for cls in (Filelink, Transformation):
        assert callable(getattr(cls, method))


def test_catalogue_covers_every_method_of_the_mixin() -> None:
    public = {
        name
        for cls in (ChainMethods, TaskMethods)
        for name, member in vars(cls).items()
        if not name.startswith("_") and callable(member)
    }
    assert public - {"custom_task", "with_tasks"} == {spec.method for spec in iter_specs()} - {
        "tags",
        "sfw",
        "ocr",
    } - {"urlscreenshot"}


def test_builds_render_sorted_pairs_lowercase_booleans_and_bracketed_lists() -> None:
    assert build_task("resize", {"width": 500, "height": 500}).render() == (
        "resize=height:500,width:500"
    )
    assert build_task("rotate", {"deg": 90, "exif": False}).render() == "rotate=deg:90,exif:false"
    assert build_task("crop", {"dim": [0, 0, 100, 100]}).render() == "crop=dim:[0,0,100,100]"
    assert build_task("flip").render() == "flip"
    assert build_task("output", {"format": "png"}).render() == "output=format:png"
    assert build_task("quality", {"value": 75}).render() == "quality=value:75"
    assert build_task("blur", {"amount": None}).render() == "blur"


def test_store_path_is_quoted_and_workflows_bracketed() -> None:
    task = build_task("store", {"path": "/a/b/", "workflows": ["w1", "w2"], "base64decode": True})
    assert task.render() == 'store=base64decode:true,path:"/a/b/",workflows:[w1,w2]'


def test_strings_with_separators_are_quoted() -> None:
    task = build_task("minify_js", {"targets": "> 1%, not dead"})
    assert task.render() == 'minify_js=targets:"> 1%, not dead"'
    assert parse_task(task.render()) == task


def test_tuples_and_lists_are_the_same_value() -> None:
    assert build_task("crop", {"dim": (1, 2, 3, 4)}) == build_task("crop", {"dim": [1, 2, 3, 4]})
    assert hash(build_task("crop", {"dim": (1, 2, 3, 4)})) == hash(
        build_task("crop", {"dim": [1, 2, 3, 4]})
    )


def test_a_prerendered_list_string_is_accepted() -> None:
    task = build_task("collage", {"files": "[A,B]", "width": 10, "height": 10})
    assert task.get("files") == ("A", "B")


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        (
            "resize",
            {"fit": "fill", "width": 1},
            r"resize: parameter 'fit': 'fill' is not allowed; "
            r"allowed: one of: clip, crop, scale, max",
        ),
        ("resize", {}, r"resize: give at least one of width, height"),
        ("resize", {"width": 0}, r"parameter 'width': must be at least 1"),
        ("resize", {"width": True}, r"must be an integer, not bool"),
        ("resize", {"width": 1, "depth": 2}, r"unknown parameter 'depth'; known parameters: width"),
        ("blur", {"amount": 21}, r"blur: parameter 'amount': must be at most 20, not 21"),
        ("crop", {}, r"crop: parameter\(s\) 'dim' required"),
        ("crop", {"dim": [1, 2, 3]}, r"must be a list of 4 values \[x,y,w,h\]"),
        ("crop", {"dim": "1,2,3,4"}, r"must be a list, not a string"),
        ("rotate", {"deg": 360}, r"fits none of the accepted forms; allowed: integer 0..359"),
        ("rotate", {"background": "#fff"}, r"'#fff' is not a colour"),
        ("watermark", {"file": 'a"b'}, r"must not contain control characters or double quotes"),
        ("modulate", {"hue": 1.5}, r"must be an integer, not float"),
        ("shadow", {"blur": float("nan")}, r"must be a finite number"),
        ("store", {"access": "world"}, r"store: parameter 'access': 'world' is not allowed"),
        ("video_convert", {"clip_length": "ten"}, r"must be duration such as 00:00:10"),
        ("nope", {}, r"unknown processing task 'nope'"),
    ],
)
def test_validation_errors_name_task_parameter_and_allowed_values(
    name: str, params: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        build_task(name, params)


def test_configuration_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        build_task("blur", {"amount": 99})


def test_parse_task_types_values_per_the_catalogue() -> None:
    task = parse_task("resize=height:500,width:500")
    assert task == Task("resize", (("height", 500), ("width", 500)))
    assert parse_task("resize=w:300,a:[top,left]").as_dict() == {
        "width": 300,
        "align": ("top", "left"),
    }
    assert parse_task("rotate=deg:exif").get("deg") == "exif"
    assert parse_task("rounded_corners=radius:max,blur:0.5").as_dict() == {
        "radius": "max",
        "blur": 0.5,
    }
    # a string parameter keeps digits as text
    assert parse_task("watermark=file:12345").get("file") == "12345"
    assert parse_task('store=path:"/a/b/",location:S3').get("path") == "/a/b/"
    assert parse_task("video_convert=p:h264,clip_length:00:00:05").as_dict() == {
        "preset": "h264",
        "clip_length": "00:00:05",
    }
    assert parse_task("minify_css=level:2").get("level") == 2
    assert parse_task("pdfconvert=pages:[1,3-5]").get("pages") == (1, "3-5")


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("resize=width:abc", r"parameter 'width'"),
        ("resize=width", r"expected key:value"),
        ("resize=width:1,width:2", r"given twice"),
        ("resize=width:1,colour:red", r"unknown parameter 'colour'"),
        ("crop=dim:[1,2,3,4", r"unclosed"),
        ('store=path:"abc', r"unclosed quote"),
        ("teleport", r"unknown processing task"),
        ("blur=amount:50", r"at most 20"),
    ],
)
def test_parse_task_rejects_bad_segments(segment: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        parse_task(segment)


def test_parse_path_splits_apikey_tasks_security_and_source() -> None:
    parsed = parse_path("/KEY/resize=width:10/flip/security=p:eyJ9==,s:abc/https://a.io/x/y.png")
    assert parsed.apikey == "KEY"
    assert [t.render() for t in parsed.tasks] == ["resize=width:10", "flip"]
    assert (parsed.policy, parsed.signature) == ("eyJ9==", "abc")
    assert parsed.source == "https://a.io/x/y.png"
    assert parsed.sources == ("https://a.io/x/y.png",)

    plain = parse_path("/AbCdEfGhIjKlMnOpQrSt")
    assert (plain.apikey, plain.tasks, plain.source) == (None, (), "AbCdEfGhIjKlMnOpQrSt")

    stored = parse_path('/store=path:"/a/b/"/AbCdEfGhIjKlMnOpQrSt')
    assert stored.apikey is None
    assert stored.tasks[0].get("path") == "/a/b/"

    many = parse_path("/KEY/zip/[h1,h2]")
    assert many.sources == ("h1", "h2")
    assert [t.name for t in many.tasks] == ["zip"]

    alias = parse_path("/KEY/flip/src://my-s3/folder/a.png")
    assert alias.source == "src://my-s3/folder/a.png"


def test_parse_path_without_source_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="no source"):
        parse_path("/resize=width:10")


def test_split_and_parse_values() -> None:
    assert split_top_level('a:[1,2],b:"x,y",c', ",") == ["a:[1,2]", 'b:"x,y"', "c"]
    assert parse_value("[[1,2],[3,4]]") == ((1, 2), (3, 4))
    assert parse_value("[]") == ()
    assert parse_value("-3") == -3
    assert parse_value('"a b"') == "a b"
    assert render_value(0.3) == "0.3"


_scalar = st.one_of(
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,10}", fullmatch=True),
)
_value = st.recursive(_scalar, lambda inner: st.lists(inner, max_size=4).map(tuple), max_leaves=8)


@given(_value)
def test_render_then_parse_value_round_trips(value: object) -> None:
    text = render_value(value)  # type: ignore[arg-type]
    parsed = parse_value(text)
    if isinstance(value, str) and value in ("true", "false"):
        return
    assert parsed == value or (isinstance(value, str) and str(parsed) == value)


def test_every_catalogue_task_with_required_params_renders_and_parses_back() -> None:
    examples: dict[str, dict[str, object]] = {
        "crop": {"dim": [1, 2, 3, 4]},
        "watermark": {"file": "AbCdEfGhIjKlMnOpQrSt", "position": ["top", "left"]},
        "partial_pixelate": {"objects": [[1, 2, 3, 4]]},
        "partial_blur": {"objects": [[1, 2, 3, 4]], "amount": 2.5},
        "collage": {"files": ["A", "B"], "width": 10, "height": 20, "autorotate": True},
        "output": {"format": "webp", "quality": "input"},
        "quality": {"value": 10},
        "fallback": {"file": "AbCdEfGhIjKlMnOpQrSt"},
        "resize": {"width": 1},
        "security": {"p": "eyJ9", "s": "ab"},
    }
    for name in TASKS:
        task = build_task(name, examples.get(name, {}))
        assert parse_task(task.render()) == task, name


def test_the_docs_task_table_matches_the_catalogue() -> None:
    path = Path(__file__).parents[2] / "docs" / "gen_tasks.py"
    spec = importlib.util.spec_from_file_location("gen_tasks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = module.PAGE.read_text(encoding="utf-8")
    assert module.updated(page) == page, "run: python docs/gen_tasks.py"
    for task in iter_specs():
        assert f"| `{task.method}` | `{task.name}` |" in page
