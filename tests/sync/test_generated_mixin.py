"""The task methods are written once: the ones that only add a task live in
`ChainMethods`, shared by the async classes and their sync twins; the rest (``store``,
``av_convert``, ``with_tasks``) once in the sync mixin both sync classes share."""

from __future__ import annotations

import inspect

from filestack_async import Filelink, Transformation, _sync_generated, sync
from filestack_async._task_methods import ChainMethods
from filestack_async._task_methods import TaskMethods as AsyncTaskMethods

CHAIN_METHODS = sorted(
    name for name, member in vars(ChainMethods).items() if not name.startswith("_")
)
TASK_METHODS = sorted(
    name for name, member in vars(AsyncTaskMethods).items() if not name.startswith("_")
)


def test_adding_tasks_is_one_function_for_async_and_sync() -> None:
    assert len(CHAIN_METHODS) > 40
    for name in CHAIN_METHODS:
        shared = vars(ChainMethods)[name]
        for cls in (Filelink, Transformation, sync.Filelink, sync.Transformation):
            assert getattr(cls, name) is shared, f"{cls.__name__}.{name} is a copy"


def test_the_other_task_methods_are_defined_only_in_the_sync_mixin() -> None:
    mixin = _sync_generated.TaskMethods
    assert TASK_METHODS
    for name in TASK_METHODS:
        assert inspect.isfunction(vars(mixin)[name]), name
        for sync_cls, async_cls in (
            (sync.Filelink, Filelink),
            (sync.Transformation, Transformation),
        ):
            if name in vars(async_cls):
                continue  # the async class has its own (Transformation.with_tasks): so has its twin
            assert name not in vars(sync_cls), f"{sync_cls.__name__}.{name} repeats the mixin's"
            assert getattr(sync_cls, name) is vars(mixin)[name]


def test_a_sync_task_method_returns_the_sync_twin() -> None:
    link = sync.Filelink("AbCdEfGhIjKlMnOpQrSt")
    chain = link.resize(width=10).custom_task("new_task", level=2).flip()
    assert isinstance(chain, sync.Transformation)
    assert chain.url == (
        "https://cdn.filestackcontent.com/resize=width:10/new_task=level:2/flip/AbCdEfGhIjKlMnOpQrSt"
    )
    assert isinstance(link.with_tasks("flip"), sync.Transformation)


def test_only_store_and_av_convert_block_on_the_loop_thread() -> None:
    coroutines = {n for n in TASK_METHODS if inspect.iscoroutinefunction(vars(AsyncTaskMethods)[n])}
    assert coroutines == {"store", "av_convert"}
    mixin_source = {
        n: inspect.getsource(vars(_sync_generated.TaskMethods)[n]) for n in TASK_METHODS
    }
    for name, source in mixin_source.items():
        assert ("self._runner.run(" in source) == (name in coroutines), name
