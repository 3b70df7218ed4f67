"""The sync task methods are written once, in the mixin the sync Filelink and Transformation share."""

from __future__ import annotations

import inspect

from filestack_async import _sync_generated, sync
from filestack_async._task_methods import TaskMethods as AsyncTaskMethods

TASK_METHODS = sorted(
    name for name, member in vars(AsyncTaskMethods).items() if not name.startswith("_")
)


def test_the_task_methods_are_defined_only_in_the_sync_mixin() -> None:
    mixin = _sync_generated.TaskMethods
    assert TASK_METHODS
    for name in TASK_METHODS:
        assert inspect.isfunction(vars(mixin)[name]), name
        for cls in (sync.Filelink, sync.Transformation):
            assert name not in vars(cls), f"{cls.__name__}.{name} repeats the mixin's method"
            assert getattr(cls, name) is vars(mixin)[name]


def test_only_store_and_av_convert_block_on_the_loop_thread() -> None:
    coroutines = {n for n in TASK_METHODS if inspect.iscoroutinefunction(vars(AsyncTaskMethods)[n])}
    assert coroutines == {"store", "av_convert"}
    mixin_source = {
        n: inspect.getsource(vars(_sync_generated.TaskMethods)[n]) for n in TASK_METHODS
    }
    for name, source in mixin_source.items():
        assert ("self._runner.run(" in source) == (name in coroutines), name
