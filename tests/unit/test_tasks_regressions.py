"""Regressions found by fuzzing the task catalogue (tests/reliability/test_fuzz_urls.py).

Each raised something other than `ConfigurationError` (or built a URL its own parser
refused) before the fix.
"""

from __future__ import annotations

import pytest

from filestack_async import ConfigurationError, Transformation
from filestack_async._tasks import (
    MAX_NESTING,
    Invalid,
    build_task,
    parse_path,
    parse_task,
    parse_value,
)

HANDLE = "A" * 20


def test_an_integer_too_long_for_int_is_a_configuration_error() -> None:
    # int() refuses more than 4300 digits with a bare ValueError
    with pytest.raises(ConfigurationError, match="too long a number"):
        parse_task("resize=w:" + "1" * 5000)
    with pytest.raises(Invalid):
        parse_value("9" * 5000)


def test_deeply_nested_lists_are_refused_not_a_recursion_error() -> None:
    with pytest.raises(ConfigurationError, match="nested more than"):
        parse_task("resize=w:" + "[" * 3000 + "]" * 3000)
    with pytest.raises(ConfigurationError, match="must be a list of 4 values"):
        parse_task("crop=dim:" + "[" * 3000 + "]" * 3000)
    with pytest.raises(ConfigurationError, match="nested more than"):
        build_task("pdfconvert", {"pages": "[" * 3000 + "]" * 3000})
    deep = "[" * MAX_NESTING + "]" * MAX_NESTING
    assert parse_value(deep) is not None  # as deep as allowed still parses


def test_unbounded_integers_have_a_64_bit_bound() -> None:
    # pages=[10**5000] was accepted, then str() failed while rendering the URL
    with pytest.raises(ConfigurationError, match="at most 9223372036854775807, not a 16610-bit"):
        build_task("animate", {"delay": 10**5000})
    with pytest.raises(ConfigurationError, match="'pages': item 0: the value fits none"):
        build_task("pdfconvert", {"pages": [10**5000]})
    assert build_task("pdfconvert", {"pages": [2**63 - 1]}).render() == (
        f"pdfconvert=pages:[{2**63 - 1}]"
    )


def test_a_huge_integer_for_a_number_parameter_is_refused() -> None:
    # math.isfinite(10**400) raised OverflowError
    with pytest.raises(ConfigurationError, match="at most 10000"):
        build_task("detect_faces", {"minsize": 10**400})


def test_a_float_equal_to_an_integer_choice_is_refused() -> None:
    # minify_css(level=1.0) failed an assert (AssertionError) instead of validating
    with pytest.raises(ConfigurationError, match="'level': must be one of: 1, 2, not float"):
        Transformation(handle=HANDLE).minify_css(level=1.0)  # type: ignore[arg-type]
    assert (
        Transformation(handle=HANDLE)
        .minify_css(level=2)
        .url.endswith("minify_css=level:2/" + HANDLE)
    )


def test_lone_surrogates_are_refused_when_the_task_is_built() -> None:
    # accepted, then quote() raised UnicodeEncodeError when the request was sent
    with pytest.raises(ConfigurationError, match="lone surrogates"):
        Transformation(handle=HANDLE).fallback(file="x\ud800")


def test_a_parameter_given_by_name_and_alias_is_refused() -> None:
    # build_task silently kept the last of width= and w=
    with pytest.raises(ConfigurationError, match="'width' given twice"):
        build_task("resize", {"w": 5, "width": 6})


def test_non_string_names_and_keys_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="unknown processing task of type list"):
        build_task([], {})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="unknown parameter of type int"):
        build_task("resize", {1: 5})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="parameters must be a mapping"):
        build_task("resize", [("w", 5)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url", ["https://a.io/x[.png", "https://a.io/]x", 'src://store/a"b', "https://a.io/[1,2]/c"]
)
def test_external_urls_with_brackets_parse_back(url: str) -> None:
    # the whole path was split with the task grammar, so a '[' in the source was refused
    t = Transformation("KEY", external_url=url).flip() if '"' not in url else None
    path = f"/KEY/flip/{url}"
    parsed = parse_path(path)
    assert parsed.source == url and parsed.apikey == "KEY" and len(parsed.tasks) == 1
    if t is not None:
        assert parse_path(t.url.removeprefix("https://cdn.filestackcontent.com")).source == url


def test_messages_about_huge_text_stay_short() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_task("x" * 100_000)
    assert len(str(caught.value)) < 200
    with pytest.raises(ConfigurationError) as caught:
        parse_task("resize=w:[" + "1," * 50_000)
    assert len(str(caught.value)) < 300


# -- store parameters and policies (tests/reliability/test_fuzz_validation.py) -------------


def test_store_params_with_lone_surrogates_are_refused() -> None:
    # accepted, then httpx's JSON encoding raised UnicodeEncodeError during the upload
    from filestack_async._params import validate_store_params

    with pytest.raises(ConfigurationError, match="'path' must be valid Unicode"):
        validate_store_params({"path": "a\ud800"})
    with pytest.raises(ConfigurationError, match="'upload_tags' must be valid Unicode"):
        validate_store_params({"upload_tags": {"k\udfff": "v"}})
    assert validate_store_params({"path": "é/😀/"}) == {"path": "é/😀/"}


def test_security_create_compares_sizes_only_after_checking_their_types() -> None:
    # min_size="a", max_size=5 raised TypeError from the comparison
    from filestack_async import Security

    with pytest.raises(ConfigurationError, match="'minSize' must be int"):
        Security.create("secret", expiry=1, min_size="a", max_size=5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="min_size must not be larger"):
        Security.create("secret", expiry=1, min_size=6, max_size=5)


def test_a_policy_with_nan_or_an_unencodable_secret_is_refused() -> None:
    from filestack_async import Security

    # NaN was encoded as the non-JSON token NaN
    with pytest.raises(ConfigurationError, match="cannot be encoded as JSON"):
        Security({"expiry": 1, "x": float("nan")}, "secret")
    # the secret's UnicodeEncodeError escaped from the HMAC
    with pytest.raises(ConfigurationError, match="app secret must be valid Unicode"):
        Security({"expiry": 1}, "s\ud800")
