"""What the generated twins share (`_portal.Wrapper`, `Twin`, `Same`), and the calls
that pass their arguments on by keyword (``**_passed(locals())``)."""

from __future__ import annotations

import inspect

import pytest

import filestack_async as fa
from filestack_async import _portal, _sync_generated, sync

HANDLE = "AbCdEfGhIjKlMnOpQrSt"


def test_passed_is_the_locals_without_self() -> None:
    def method(self: object, a: int, *, b: str | None = None) -> dict[str, object]:
        return _portal.passed(locals())

    assert method(object(), 1, b="x") == {"a": 1, "b": "x"}


def test_forwarded_task_arguments_reach_the_async_method_as_given() -> None:
    source = inspect.getsource(_sync_generated.TaskMethods.pixelate_faces)
    assert "**_passed(locals())" in source  # the case this test is about
    twin = sync.Filelink(HANDLE).pixelate_faces(faces=[1, 2], buffer=5, blur=2.5, type="oval")
    same = fa.Filelink(HANDLE).pixelate_faces(faces=[1, 2], buffer=5, blur=2.5, type="oval")
    assert twin.url == same.url and "buffer:5" in twin.url
    positional = sync.Filelink(HANDLE).pixelate_faces("all", 0.1, 0.5)
    assert positional.url == fa.Filelink(HANDLE).pixelate_faces("all", 0.1, 0.5).url


def test_forwarded_constructor_arguments_reach_the_async_class() -> None:
    link = sync.Filelink(HANDLE, apikey="KEY", upload_response={"size": 1})
    assert (link.handle, link.apikey, link.upload_response) == (HANDLE, "KEY", {"size": 1})
    with pytest.raises(fa.ConfigurationError, match="not a Filestack handle"):
        sync.Filelink("not a handle")


def test_equal_twins_wrap_equal_values_and_hash_alike() -> None:
    a, b = sync.Filelink(HANDLE).flip(), sync.Filelink(HANDLE).flip()
    assert a == b and hash(a) == hash(b) and a != a.flop()
    assert sync.Filelink(HANDLE) == sync.Filelink(HANDLE)
    assert sync.Filelink(HANDLE) != fa.Filelink(HANDLE)  # an async object is not its twin
    assert sync.Filelink(HANDLE).__eq__(a) is NotImplemented  # a Filelink is no chain


def test_twins_keep_their_runner_and_repr() -> None:
    link = sync.Filelink(HANDLE)
    chain = link.resize(width=10)
    assert isinstance(chain, sync.Transformation)
    assert chain._runner is link._runner is _portal.PER_CALL
    assert repr(chain) == repr(fa.Filelink(HANDLE).resize(width=10))
    assert not hasattr(chain, "__dict__")  # slots only, as before


def test_audiovisual_twins_compare_by_identity() -> None:
    av = sync.AudioVisual(f"https://cdn.filestackcontent.com/{HANDLE}", "u", "1")
    other = sync.AudioVisual(f"https://cdn.filestackcontent.com/{HANDLE}", "u", "1")
    assert av == av and av != other
