"""The typed task methods cannot drift from the catalogue in `_tasks`.

* regenerating ``_task_methods.py`` (scripts/gen_task_methods.py) gives the
  committed file byte for byte;
* independently of the generator, every method's parameters are its task's, in
  the catalogue's order, all defaulting to ``None`` (``security`` keyword-only
  after them on tasks that run now), and each ``Literal`` in an annotation holds
  exactly the values of the parameter's ``Choice``.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, UnionType

import pytest

from filestack_async import _task_methods
from filestack_async._av import AudioVisual
from filestack_async._filelink import Filelink
from filestack_async._security import Security
from filestack_async._task_methods import ChainMethods, TaskMethods
from filestack_async._tasks import Choice, OneOf, ParamType, TaskSpec, iter_specs
from filestack_async._transform import Transformation
from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]
#: tasks whose methods live elsewhere
ELSEWHERE = {"tags", "sfw", "ocr", "urlscreenshot"}
#: annotations kept wider than the parameter's type: no Literal although it is a Choice
WIDER = {("store", "region")}


def load_generator() -> ModuleType:
    return load_script("gen_task_methods")


def test_regenerating_gives_the_committed_file() -> None:
    generated = load_generator().generate()
    committed = (ROOT / "src" / "filestack_async" / "_task_methods.py").read_text("utf-8")
    assert generated == committed, "run: python scripts/gen_task_methods.py"


SPECS = [s for s in iter_specs() if s.name not in ELSEWHERE]


def hints(method: str) -> dict[str, object]:
    names = {
        **vars(_task_methods),
        "AudioVisual": AudioVisual,
        "Filelink": Filelink,
        "Security": Security,
        "Transformation": Transformation,
    }
    return typing.get_type_hints(getattr(TaskMethods, method), globalns=names)


def _members(hint: object) -> Iterator[object]:
    """The members of a union (the hint itself when it is none)."""
    if typing.get_origin(hint) in (typing.Union, UnionType):
        for arg in typing.get_args(hint):
            yield from _members(arg)
    else:
        yield hint


def literal_values(hint: object) -> set[object]:
    """The values of the ``Literal`` members of a union annotation."""
    found: set[object] = set()
    for member in _members(hint):
        if typing.get_origin(member) is typing.Literal:
            found.update(typing.get_args(member))
    return found


def choice_values(kind: ParamType) -> set[object]:
    """The values a parameter type accepts by name: its Choice, or its OneOf's Choices."""
    if isinstance(kind, Choice):
        return set(kind.values)
    if isinstance(kind, OneOf):
        return set().union(*(choice_values(o) for o in kind.options if isinstance(o, Choice)))
    return set()


@pytest.mark.parametrize("spec", SPECS, ids=[s.method for s in SPECS])
def test_each_method_has_its_tasks_parameters(spec: TaskSpec) -> None:
    method = getattr(TaskMethods, spec.method)
    params = list(inspect.signature(method).parameters.values())[1:]
    names = [p.name for p in params]
    if spec.kind == "execute":
        assert inspect.iscoroutinefunction(method)
        assert names[-1] == "security"
        assert params[-1].kind is inspect.Parameter.KEYWORD_ONLY
        params, names = params[:-1], names[:-1]
    assert names == list(spec.param_names)
    kinds = {p.kind for p in params}
    assert kinds <= {inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY}
    assert all(p.default is None for p in params)
    typed = hints(spec.method)
    for p in spec.params:
        expected = set() if (spec.name, p.name) in WIDER else choice_values(p.type)
        assert literal_values(typed[p.name]) == expected, p.name
        assert type(None) in set(_members(typed[p.name])), p.name


def test_every_task_with_a_method_is_covered() -> None:
    public = {
        n
        for cls in (ChainMethods, TaskMethods)
        for n, m in vars(cls).items()
        if not n.startswith("_") and callable(m)
    }
    assert public == {s.method for s in SPECS} | {"custom_task", "with_tasks"}
