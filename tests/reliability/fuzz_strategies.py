"""Hypothesis strategies drawn from the task catalogue, shared by the fuzz campaigns."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from filestack_async._tasks import (
    MAX_INT,
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
)

#: Characters a catalogue string may hold: no C0 controls, DEL, double quote or surrogate.
TEXT_CHARS = st.characters(
    exclude_categories=["Cs"],
    exclude_characters='"\x7f' + "".join(map(chr, range(0x20))),
)
#: Characters that mean something to the URL grammar or to URL encoding.
#: Characters that mean something to the URL grammar or to URL encoding (controls excluded).
GRAMMAR_CHARS = st.sampled_from(list("/,:=[]?#% &+;@!$'()*~.-_\\\u00e9\u2028\U0001f600"))
#: The same with the double quote, for text that need not be a valid value.
GRAMMAR_CHARS_QUOTE = st.one_of(GRAMMAR_CHARS, st.just('"'))

#: Task specs the fuzz chains use (``security`` is the URL's own segment, not a chain task).
CHAIN_SPECS: tuple[TaskSpec, ...] = tuple(s for s in TASKS.values() if s.name != "security")


def text_values(min_size: int = 1, max_size: int = 24) -> st.SearchStrategy[str]:
    """Strings a ``Str`` parameter accepts, rich in the grammar's own characters."""
    return st.text(st.one_of(TEXT_CHARS, GRAMMAR_CHARS), min_size=min_size, max_size=max_size)


def valid_value(kind: ParamType) -> st.SearchStrategy[Any]:
    """Values the parameter type accepts (as a user would pass them)."""
    if isinstance(kind, Bool):
        return st.booleans()
    if isinstance(kind, Int):
        low = -MAX_INT if kind.minimum is None else kind.minimum
        high = MAX_INT if kind.maximum is None else kind.maximum
        return st.integers(low, high)
    if isinstance(kind, Number):
        low_f = -1e9 if kind.minimum is None else kind.minimum
        high_f = 1e9 if kind.maximum is None else kind.maximum
        return st.one_of(
            st.integers(int(low_f), int(high_f)),
            st.floats(low_f, high_f, allow_nan=False, allow_infinity=False),
        )
    if isinstance(kind, Str):
        if kind.pattern is not None:
            return st.from_regex(kind.pattern, fullmatch=True).filter(lambda s: s.isascii())
        return text_values()
    if isinstance(kind, Choice):
        return st.sampled_from(kind.values)
    if isinstance(kind, Color):
        hex_colour = st.sampled_from([3, 4, 6, 8]).flatmap(
            lambda n: st.text("0123456789abcdefABCDEF", min_size=n, max_size=n)
        )
        return st.one_of(hex_colour, st.from_regex(r"[A-Za-z]{1,12}[0-9]{0,3}", fullmatch=True))
    if isinstance(kind, OneOf):
        return st.one_of(*(valid_value(option) for option in kind.options))
    if isinstance(kind, ListOf):
        high = kind.min_items + 5 if kind.max_items is None else min(kind.max_items, 6)
        return st.lists(valid_value(kind.item), min_size=kind.min_items, max_size=high)
    if isinstance(kind, Fixed):
        return st.tuples(*(valid_value(item) for item in kind.items)).map(list)
    raise AssertionError(f"no strategy for {kind!r}")


@st.composite
def valid_params(draw: st.DrawFn, spec: TaskSpec) -> dict[str, Any]:
    """A valid parameter dict for ``spec``: its required ones and a random subset of the rest."""
    names = list(spec.required)
    optional = [p.name for p in spec.params if p.name not in spec.required]
    names += draw(st.lists(st.sampled_from(optional), unique=True)) if optional else []
    if spec.require_any and not any(n in names for n in spec.require_any):
        names.append(draw(st.sampled_from(spec.require_any)))
    params: dict[str, Any] = {}
    for name in names:
        param = spec.param(name)
        assert param is not None
        params[name] = draw(valid_value(param.type))
    return params


#: Anything a user might pass by mistake: wrong types, huge numbers, deep lists, odd text.
junk: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(),
        st.integers(min_value=10**18, max_value=10**4000) | st.integers(max_value=-(10**18)),
        st.floats(),
        st.text(max_size=30),
        st.text(st.characters(), max_size=8),
        st.binary(max_size=8),
        st.just(object()),
        st.just(b"\xff"),
        st.sampled_from(["\ud800", "[", "]", '"', "[[1,2]", "1e999", "-0", "", " ", "true"]),
        st.complex_numbers(allow_nan=False, max_magnitude=10),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=5), inner, max_size=3),
        st.frozensets(st.integers(), max_size=3),
    ),
    max_leaves=12,
)
