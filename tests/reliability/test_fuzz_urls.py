"""Fuzzing the processing-URL builder and parser against each other.

Random valid chains (every catalogue task, random valid parameters) are built with
the public task methods, rendered (``.url``, the wire form the SDK sends, signed
URLs) and parsed back with `parse_path`: the same tasks, source and security come
out. Random invalid arguments and random path text only ever raise
`ConfigurationError`. Parity with filestack-python is tested in tests/compat.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import httpx
from hypothesis import given
from hypothesis import strategies as st

from filestack_async import ConfigurationError, Security, Transformation
from filestack_async._task_methods import TaskMethods
from filestack_async._tasks import (
    TASKS,
    ParsedPath,
    Task,
    TaskSpec,
    build_task,
    parse_path,
    parse_task,
)

from .conftest import Campaign, fuzz_settings
from .fuzz_strategies import CHAIN_SPECS, GRAMMAR_CHARS_QUOTE, junk, text_values, valid_params

CDN = "https://cdn.filestackcontent.com"
handles = st.from_regex(r"[A-Za-z0-9]{20}", fullmatch=True)
apikeys = st.from_regex(r"[A-Za-z0-9_-]{1,30}", fullmatch=True).filter(lambda k: k not in TASKS)


@st.composite
def chains(draw: st.DrawFn, max_tasks: int = 5) -> list[tuple[TaskSpec, dict[str, Any]]]:
    specs = draw(st.lists(st.sampled_from(CHAIN_SPECS), min_size=1, max_size=max_tasks))
    return [(spec, draw(valid_params(spec))) for spec in specs]


def _apply(t: Transformation, spec: TaskSpec, params: dict[str, Any]) -> Transformation:
    """Add a task the way a user does: its public method when it is a chaining one."""
    method = getattr(Transformation, spec.method, None)
    if spec.kind == "transform" and method is not None:
        result = method(t, **params)
        assert isinstance(result, Transformation)
        return result
    return t.with_tasks((build_task(spec.name, params),))


def _wire_path(url: str) -> str:
    """The path the server decodes from what httpx really sends for ``url``."""
    raw = httpx.URL(url).raw_path.decode("ascii")
    assert raw.isascii()
    return unquote(raw.partition("?")[0], errors="strict")


def _parse(url: str) -> ParsedPath:
    assert url.startswith(CDN + "/")
    return parse_path(url[len(CDN) :])


def test_random_valid_chains_round_trip(campaign: Campaign) -> None:
    @fuzz_settings(campaign)
    @given(handle=handles, chain=chains())
    def check(handle: str, chain: list[tuple[TaskSpec, dict[str, Any]]]) -> None:
        t = Transformation(handle=handle)
        for spec, params in chain:
            t = _apply(t, spec, params)
        expected = tuple(build_task(spec.name, params) for spec, params in chain)
        assert t.tasks == expected
        for parsed in (_parse(t.url), parse_path(_wire_path(t.request_url()))):
            assert parsed.tasks == expected
            assert parsed.source == handle and parsed.sources == (handle,)
            assert parsed.apikey is None and parsed.policy is None
            # parsing is stable: rendering the parsed tasks gives the same segments
            assert [task.render() for task in parsed.tasks] == [task.render() for task in expected]

    check()


def test_signed_chains_on_external_and_multi_file_sources(campaign: Campaign) -> None:
    url_tail = st.text(
        st.one_of(st.sampled_from("abcXYZ019-._~/"), st.sampled_from("[]?#=&:,@!$'()*+;")),
        max_size=20,
    )
    sources = st.one_of(
        st.builds(lambda h: {"handle": h}, handles),
        st.builds(
            lambda scheme, host, tail: {"external_url": f"{scheme}{host}/{tail}"},
            st.sampled_from(["https://", "http://", "src://"]),
            st.from_regex(r"[a-z0-9]{1,10}(\.[a-z]{2,4})?", fullmatch=True),
            url_tail,
        ),
        st.builds(lambda hs: {"handles": hs}, st.lists(handles, min_size=1, max_size=4)),
    )

    @fuzz_settings(campaign)
    @given(
        apikey=apikeys,
        source=sources,
        chain=chains(max_tasks=3),
        expiry=st.integers(0, 2**40),
        calls=st.lists(st.sampled_from(["read", "convert", "store"]), unique=True),
    )
    def check(
        apikey: str,
        source: dict[str, Any],
        chain: list[tuple[TaskSpec, dict[str, Any]]],
        expiry: int,
        calls: list[str],
    ) -> None:
        made = Security.create("fuzz-secret", expiry=expiry, call=calls or None)
        # a ready-made policy goes into signed URLs as it is (one with the secret is narrowed)
        sec = Security.from_signature(made.policy_b64, made.signature)
        t = Transformation(apikey, security=sec, **source)
        for spec, params in chain:
            t = _apply(t, spec, params)
        wire = t.request_url(sec)
        for parsed in (_parse(t.signed_url()), parse_path(_wire_path(wire))):
            assert parsed.tasks == t.tasks
            assert (parsed.policy, parsed.signature) == (sec.policy_b64, sec.signature)
            if "handle" in source:
                assert parsed.apikey is None and parsed.source == source["handle"]
            else:
                assert parsed.apikey == apikey
        parsed_wire = parse_path(_wire_path(wire))
        if "external_url" in source:
            url = source["external_url"]
            # `.url` keeps the source as given, '?' and '#' escaped so they stay in the path
            escaped = url.replace("?", "%3F").replace("#", "%23")
            assert _parse(t.signed_url()).sources == (escaped,)
            # '.' and '..' segments are sent percent-encoded (httpx would remove them)
            assert parsed_wire.sources == (url,)
        if "handles" in source:
            assert parsed_wire.sources == tuple(source["handles"])

    check()


def test_random_arguments_to_task_methods_raise_configuration_errors(campaign: Campaign) -> None:
    """Any argument (wrong type, huge, nested, odd text): a built task that round trips, or
    `ConfigurationError` naming the parameter; never another exception."""
    transform_specs = [
        s
        for s in CHAIN_SPECS
        if s.params and hasattr(TaskMethods, s.method) and s.kind != "execute"
    ]

    @fuzz_settings(campaign)
    @given(data=st.data(), spec=st.sampled_from(transform_specs))
    def check(data: st.DataObject, spec: TaskSpec) -> None:
        params = data.draw(valid_params(spec))
        bad = data.draw(st.sampled_from(spec.param_names))
        params[bad] = data.draw(junk)
        method = getattr(Transformation(handle="A" * 20), spec.method)
        try:
            t = method(**params)
        except ConfigurationError as err:
            assert spec.name in str(err)
            return
        task = t.tasks[-1]
        assert parse_task(task.render()) == task
        assert _parse(t.url).tasks == (task,)
        assert parse_path(_wire_path(t.request_url())).tasks == (task,)

    check()


def test_random_keys_and_values_to_build_task(campaign: Campaign) -> None:
    keys = st.one_of(
        st.sampled_from(sorted({a for s in TASKS.values() for a in s._by_name})),
        st.text(max_size=10),
        st.integers(),
        st.none(),
        st.frozensets(st.integers(), max_size=2),
    )

    @fuzz_settings(campaign)
    @given(
        name=st.one_of(st.sampled_from(list(TASKS)), st.text(max_size=12), junk),
        params=st.one_of(
            st.dictionaries(keys, junk, max_size=4),
            junk,
        ),
    )
    def check(name: Any, params: Any) -> None:
        try:
            task = build_task(name, params)
        except ConfigurationError:
            return
        assert isinstance(task, Task)
        assert parse_task(task.render()) == task

    check()


def test_random_path_text_parses_or_raises_configuration_error(campaign: Campaign) -> None:
    """Arbitrary text in the grammar's alphabet: a `ParsedPath` whose tasks re-render to
    text that parses to the same tasks, or `ConfigurationError`."""
    names = st.sampled_from([*TASKS, "KEY", "AAAAAAAAAAAAAAAAAAAA", "https:", ""])
    words = st.one_of(
        names,
        st.builds(
            lambda name, key, value: f"{name}={key}:{value}",
            names,
            st.sampled_from(["w", "width", "deg", "p", "s", "files", "objects", "pages", "x"]),
            st.text(
                st.one_of(GRAMMAR_CHARS_QUOTE, st.sampled_from("0123456789abcx-")), max_size=14
            ),
        ),
        text_values(0, 12),
    )
    paths = st.lists(words, max_size=6).map(lambda parts: "/" + "/".join(parts))

    @fuzz_settings(campaign)
    @given(path=st.one_of(paths, st.text(max_size=60)))
    def check(path: str) -> None:
        try:
            parsed = parse_path(path)
        except ConfigurationError:
            return
        assert parsed.source and parsed.sources
        key = [parsed.apikey] if parsed.apikey is not None else []
        again = parse_path("/".join(["", *key, *(t.render() for t in parsed.tasks), parsed.source]))
        assert again.tasks == parsed.tasks and again.source == parsed.source
        assert again.apikey == parsed.apikey

    check()


def test_strings_with_grammar_characters_round_trip(campaign: Campaign) -> None:
    """Free-text parameters (store paths, filenames, handles of collage files, workflow ids)
    full of separators, quotes-free unicode and percent signs survive both URL forms."""

    @fuzz_settings(campaign)
    @given(
        path=text_values(),
        filename=text_values(),
        files=st.lists(text_values(max_size=8), min_size=1, max_size=4),
        workflows=st.lists(text_values(max_size=8), min_size=1, max_size=3),
    )
    def check(path: str, filename: str, files: list[str], workflows: list[str]) -> None:
        t = Transformation(handle="A" * 20).collage(files=files, width=10, height=10)
        store = build_task("store", {"path": path, "filename": filename, "workflows": workflows})
        t = t.with_tasks((store,))
        for parsed in (_parse(t.url), parse_path(_wire_path(t.request_url()))):
            assert parsed.tasks == t.tasks
            stored = parsed.tasks[-1].as_dict()
            assert (stored["path"], stored["filename"]) == (path, filename)
            assert stored["workflows"] == tuple(workflows)
            assert parsed.tasks[0].as_dict()["files"] == tuple(files)

    check()
