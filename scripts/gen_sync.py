"""Generate ``src/filestack_async/_sync_generated.py``: the sync twins of the async classes.

The sync `Client`, `Filelink`, `Transformation` and `AudioVisual` are written out
as explicit, typed methods (real signatures and docstrings, so type checkers and
IDEs see them) by introspecting the async classes:

* a coroutine method becomes a blocking method that runs it on the shared loop
  thread (``self._runner.run(self._async.<name>, ...)``);
* a plain method or property is called directly in the caller's thread (URL
  builders, task methods: no I/O);
* a result that is an async `Filelink`, `Transformation` or `AudioVisual` (or a
  list holding them) comes back as its sync twin.

A call whose arguments would not fit on one line passes the method's own on by
keyword (``**_passed(locals())``) instead of naming each, so the generated bodies
stay one line; what all twins share (``_from_async``, ``__repr__``, equality) is
written once in ``filestack_async._portal`` (``Wrapper``, ``Twin``, ``Same``).

The client's lifecycle (``with``, ``close``, ``is_closed``) is hand-written in
``filestack_async._portal.ClientLifecycle``. The output goes through the project's
pinned ruff (import sorting and formatting), so it passes ``ruff check`` and
``ruff format --check`` as generated.

Usage::

    python scripts/gen_sync.py          # rewrite the module
    python scripts/gen_sync.py --check  # exit 1 if the committed module is out of date

``tests/sync/test_generated.py`` runs the same comparison, so the module cannot
drift from the async classes.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import inspect
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _codegen import ROOT, GenerationError, formatted, write_or_check

TARGET = ROOT / "src" / "filestack_async" / "_sync_generated.py"
PACKAGE = "filestack_async"

if str(ROOT / "src") not in sys.path:  # run from a checkout without an install
    sys.path.insert(0, str(ROOT / "src"))

from filestack_async._av import AudioVisual as AsyncAudioVisual  # noqa: E402
from filestack_async._client import Client as AsyncClient  # noqa: E402
from filestack_async._filelink import Filelink as AsyncFilelink  # noqa: E402
from filestack_async._sync_stream import SyncDownloadStream, blocking_stream  # noqa: E402
from filestack_async._task_methods import TaskMethods as AsyncTaskMethods  # noqa: E402
from filestack_async._transform import Transformation as AsyncTransformation  # noqa: E402

#: sync name -> async class, in the order they are written
TWINS: dict[str, type] = {
    "Client": AsyncClient,
    "Filelink": AsyncFilelink,
    "Transformation": AsyncTransformation,
    "AudioVisual": AsyncAudioVisual,
}

#: the sync mixin written once for the task methods of the twins that have them
MIXIN = "TaskMethods"
#: the sync classes that have the mixin's ``_chain``
CHAINED = {MIXIN, *(name for name, cls in TWINS.items() if issubclass(cls, AsyncTaskMethods))}

#: async members of Client replaced by the hand-written lifecycle (async name -> sync name)
LIFECYCLE = {"__aenter__": "__enter__", "__aexit__": "__exit__", "aclose": "close"}
#: members the lifecycle mixin provides under the same name
HAND_WRITTEN = {"is_closed"}

#: a plain method returning this (an async context manager yielding a download stream)
#: becomes one returning a sync context manager yielding a sync iterator of bytes
ASYNC_STREAM = "AbstractAsyncContextManager[DownloadStream]"
SYNC_STREAM = "AbstractContextManager[SyncDownloadStream]"
SYNC_STREAM_NAMES: dict[str, Any] = {
    "AbstractContextManager": contextlib.AbstractContextManager,
    "SyncDownloadStream": SyncDownloadStream,
}

#: names that two modules define differently: (defining module, name) -> name used here
ALIASES = {(f"{PACKAGE}._av", "ProgressCallback"): "AVProgressCallback"}

#: docstring rewrites from the async wording to the sync one, applied in order
DOC_REWRITES = [
    ("Cancelling the awaiting task stops", "Ctrl+C stops"),
    ("async for", "for"),
    ("a `DownloadStream`", "a `SyncDownloadStream`"),
    ("an async iterable of", "an iterable of"),
    ("async with", "with"),
    ("await ", ""),
]

CLASS_DOCS = {
    "Client": """
        The blocking Filestack client: the async `filestack_async.Client` on a loop thread.

        Same constructor and methods as the async client, without ``await``. Use it
        with ``with`` or call `close` when done. Every call runs on the process's one
        loop thread (started by the first open client, stopped when the last one
        closes), so a client can be shared by several threads. Ctrl+C during a call
        cancels it. In async code (or with a running loop, as in Jupyter, where this
        client works but blocks the loop) prefer the async client.

        Example:
            >>> from filestack_async.sync import Client
            >>> with Client("APIKEY", base_url="http://127.0.0.1:8700") as client:
            ...     link = client.upload(filepath="photo.jpg")
            ...     thumb = link.resize(width=200).store()
            ...     data = thumb.get_content()
        """,
    "Filelink": """
        A stored file, named by its handle (the sync twin of `filestack_async.Filelink`).

        One made by a sync `Client` uses that client's connection pool; one made on
        its own (``Filelink(handle)``) opens a pool per call, and runs it on the
        shared loop thread (started for the call if no client is open).

        Example:
            >>> link = Filelink("AbCdEfGhIjKlMnOpQrSt")
            >>> link.resize(width=300).url
            'https://cdn.filestackcontent.com/resize=width:300/AbCdEfGhIjKlMnOpQrSt'
        """,
    "Transformation": """
        An immutable processing chain (the sync twin of `filestack_async.Transformation`).

        Task methods return a new chain; ``store``, ``get_content``, ``download``,
        ``debug``, ``tags``/``sfw``/``ocr`` and ``av_convert`` send requests.

        Example:
            >>> t = Transformation(handle="AbCdEfGhIjKlMnOpQrSt").rotate(deg=90)
            >>> t.url
            'https://cdn.filestackcontent.com/rotate=deg:90/AbCdEfGhIjKlMnOpQrSt'
        """,
    "AudioVisual": """
        A running audio/video conversion (the sync twin of `filestack_async.AudioVisual`).

        Usually returned by ``filelink.av_convert(...)``.

        Example:
            >>> av = link.av_convert(preset="h264", width=320)  # doctest: +SKIP
            >>> video = av.wait_until_complete(timeout=300)  # doctest: +SKIP
        """,
}

HEADER = '''\
"""The sync twins of Client, Filelink, Transformation and AudioVisual.

GENERATED by scripts/gen_sync.py from the async classes: do not edit; run
``python scripts/gen_sync.py`` after changing them. The public module is
`filestack_async.sync`. Coroutine methods run on the shared loop thread of
`filestack_async._portal`; URL builders and task methods run in the caller's thread.
The task methods are written once, in the `TaskMethods` mixin of Filelink and
Transformation.
"""

from __future__ import annotations

'''


# -- names in annotations ------------------------------------------------------------------


_TREES: dict[str, ast.Module] = {}


def _tree(module: types.ModuleType) -> ast.Module:
    if module.__name__ not in _TREES:
        _TREES[module.__name__] = ast.parse(inspect.getsource(module))
    return _TREES[module.__name__]


def _type_checking_names(module: types.ModuleType) -> dict[str, Any]:
    """Names a module imports under ``if TYPE_CHECKING:`` (absent at runtime)."""
    tree = _tree(module)
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            scope: dict[str, Any] = {"__name__": module.__name__, "__package__": module.__package__}
            block = ast.Module(body=node.body, type_ignores=[])
            exec(compile(block, str(module.__file__), "exec"), scope)
            found.update({k: v for k, v in scope.items() if not k.startswith("__")})
    return found


def namespace_of(fn: Callable[..., Any]) -> dict[str, Any]:
    """The names an annotation of ``fn`` can use: its module's, including TYPE_CHECKING ones."""
    module = sys.modules[fn.__module__]
    return {**_type_checking_names(module), **vars(module)}


def _assigns(module: types.ModuleType, name: str) -> bool:
    try:
        tree = _tree(module)
    except (OSError, TypeError):
        return False
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return True
    return False


def import_of(name: str, obj: Any) -> tuple[str, str] | None:
    """Where the generated module imports ``name`` from: ``(module, name)``; None for builtins.

    A module is ``("", module)``. A class or function is imported from the module
    that defines it; a type alias from the package module that assigns it.
    """
    if getattr(builtins, name, None) is obj:
        return None
    if inspect.ismodule(obj):
        return ("", obj.__name__)
    home = getattr(obj, "__module__", None)
    if (
        isinstance(home, str)
        and getattr(obj, "__name__", None) == name
        and getattr(sys.modules.get(home), name, None) is obj
    ):
        return (home, name)
    for modname in sorted(m for m in sys.modules if m.split(".")[0] == PACKAGE):
        module = sys.modules[modname]
        if vars(module).get(name) is obj and _assigns(module, name):
            return (modname, name)
    raise GenerationError(f"cannot tell where to import {name!r} ({obj!r}) from")


@dataclass
class Imports:
    """The imports the generated module needs, and the local name of each imported object."""

    modules: set[str] = field(default_factory=set)
    names: dict[tuple[str, str], str] = field(default_factory=dict)

    def local_name(self, name: str, obj: Any) -> str:
        where = import_of(name, obj)
        if where is None:
            return name
        module, attr = where
        if not module:
            self.modules.add(attr)
            return name
        local = ALIASES.get(where, attr)
        clash = [k for k, v in self.names.items() if v == local and k != where]
        if clash:
            raise GenerationError(
                f"{local!r} names both {module}.{attr} and {clash[0][0]}.{clash[0][1]}; "
                "add one of them to ALIASES"
            )
        self.names[where] = local
        return local

    def render(self) -> str:
        lines = [f"import {m}" for m in sorted(self.modules)]
        for (module, attr), local in sorted(self.names.items()):
            relative = module[len(PACKAGE) :] if module.split(".")[0] == PACKAGE else module
            suffix = f" as {local}" if local != attr else ""
            lines.append(f"from {relative} import {attr}{suffix}")
        return "\n".join(lines)


def twin_of(obj: Any) -> str | None:
    """The sync name of an async class that has a twin."""
    for name, cls in TWINS.items():
        if obj is cls:
            return name
    return None


def render_annotation(text: str, namespace: dict[str, Any], imports: Imports) -> str:
    """``text`` with each name replaced by its local name here (twins by the sync class)."""
    tree = ast.parse(text, mode="eval")
    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id not in namespace and not hasattr(builtins, node.id):
                raise GenerationError(f"unknown name {node.id!r} in annotation {text!r}")
            obj = namespace.get(node.id, getattr(builtins, node.id, None))
            local = twin_of(obj) or imports.local_name(node.id, obj)
            edits.append((node.col_offset, node.end_col_offset or 0, local))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if '"' in node.value or "\\" in node.value:
                raise GenerationError(f"cannot quote {node.value!r} in {text!r}")
            edits.append((node.col_offset, node.end_col_offset or 0, f'"{node.value}"'))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def twins_in(text: str, namespace: dict[str, Any]) -> list[str]:
    """The sync names of the twin classes an annotation mentions."""
    tree = ast.parse(text, mode="eval")
    found = [twin_of(namespace.get(n.id)) for n in ast.walk(tree) if isinstance(n, ast.Name)]
    return [f for f in found if f]


# -- code for one member ---------------------------------------------------------------------


def literal(value: Any) -> str:
    """A default value as source text."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str) and '"' not in value and "\\" not in value:
        return f'"{value}"'
    raise GenerationError(f"cannot write the default value {value!r}")


def docstring(doc: str | None, indent: str) -> str:
    text = inspect.cleandoc(doc or "")
    for old, new in DOC_REWRITES:
        text = text.replace(old, new)
    if '"""' in text:
        raise GenerationError(f"a docstring holds triple quotes: {text[:40]!r}")
    prefix = "r" if "\\" in text else ""
    lines = text.splitlines()
    if len(lines) <= 1:
        return f'{indent}{prefix}"""{text}"""\n'
    body = "\n".join(f"{indent}{line}" if line else "" for line in lines[1:])
    return f'{indent}{prefix}"""{lines[0]}\n{body}\n{indent}"""\n'


@dataclass
class Param:
    name: str
    kind: inspect._ParameterKind
    annotation: str
    default: str | None
    twin: str | None  # the sync class name when the parameter takes a twin


def params_of(fn: Callable[..., Any], imports: Imports) -> list[Param]:
    namespace = namespace_of(fn)
    out = []
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        if not isinstance(p.annotation, str):
            raise GenerationError(f"{fn.__qualname__}: parameter {p.name} has no annotation")
        twins = twins_in(p.annotation, namespace)
        if twins and ast.unparse(ast.parse(p.annotation, mode="eval")) not in (
            twins[0],
            f"{twins[0]} | None",
        ):
            raise GenerationError(f"{fn.__qualname__}: cannot pass {p.annotation!r} to a twin")
        default = None if p.default is inspect.Parameter.empty else literal(p.default)
        annotation = render_annotation(p.annotation, namespace, imports)
        out.append(Param(p.name, p.kind, annotation, default, twins[0] if twins else None))
    return out


def signature_text(name: str, params: list[Param], returns: str) -> str:
    if not params:
        return f"    def {name}(self) -> {returns}:\n"
    parts = ["self"]
    star_done = False
    for i, p in enumerate(params):
        if p.kind is inspect.Parameter.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            star_done = True
            parts.append(f"*{p.name}: {p.annotation}")
        elif p.kind is inspect.Parameter.VAR_KEYWORD:
            parts.append(f"**{p.name}: {p.annotation}")
        else:
            default = f" = {p.default}" if p.default is not None else ""
            parts.append(f"{p.name}: {p.annotation}{default}")
        positional_only = p.kind is inspect.Parameter.POSITIONAL_ONLY
        if positional_only and (i + 1 == len(params) or params[i + 1].kind != p.kind):
            parts.append("/")
    # no trailing comma: ruff puts the parameters on as few lines as fit
    return f"    def {name}({', '.join(parts)}) -> {returns}:\n"


def arguments(params: list[Param]) -> list[str]:
    """The arguments passing ``params`` on to the same signature (positional-or-keyword
    ones by position, which keeps the calls short)."""
    out = []
    for p in params:
        value = p.name
        if p.twin:
            value = f"_portal.async_of({p.name}, {p.twin}, {p.name!r})"
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            out.append(value)
        elif p.kind is inspect.Parameter.VAR_POSITIONAL:
            out.append(f"*{p.name}")
        elif p.kind is inspect.Parameter.VAR_KEYWORD:
            out.append(f"**{p.name}")
        else:
            out.append(f"{p.name}={value}")
    return out


def call(callee: str, args: list[str]) -> str:
    """``callee(args...)`` on one line (ruff wraps it)."""
    return f"{callee}({', '.join(args)})"


def returned(expr: str, annotation: str, namespace: dict[str, Any], owner: str) -> str:
    """The statements returning ``expr`` converted to sync twins as ``annotation`` says.

    In the mixin and its subclasses an async `Transformation` becomes its twin by
    the mixin's ``_chain``.
    """
    tree = ast.parse(annotation, mode="eval").body
    twins = twins_in(annotation, namespace)
    if not twins:
        if isinstance(tree, ast.Constant) and tree.value is None:
            return f"        {expr}\n"
        return f"        return {expr}\n"
    if isinstance(tree, ast.Name):
        if twins[0] == "Transformation" and owner in CHAINED:
            return f"        return self._chain({expr})\n"
        return f"        return self._twin({twins[0]}, {expr})\n"
    if (
        isinstance(tree, ast.Subscript)
        and ast.unparse(tree.value) == "list"
        and len(set(twins)) == 1
        and isinstance(tree.slice, ast.BinOp)
    ):
        return f"        return self._twins({twins[0]}, _Async{twins[0]}, {expr})\n"
    raise GenerationError(f"cannot convert a result annotated {annotation!r} to sync twins")


def method_code(owner: str, name: str, fn: Callable[..., Any], imports: Imports) -> str:
    namespace = namespace_of(fn)
    params = params_of(fn, imports)
    raw_return = fn.__annotations__.get("return")
    if not isinstance(raw_return, str):
        raise GenerationError(f"{owner}.{name} has no return annotation")
    doc = fn.__doc__ or f"Sync twin of the async ``{owner}.{name}``."
    if raw_return == ASYNC_STREAM and not inspect.iscoroutinefunction(fn):
        returns = render_annotation(SYNC_STREAM, SYNC_STREAM_NAMES, imports)
        wrap = imports.local_name("blocking_stream", blocking_stream)
        opener = call(f"self._async.{name}", arguments(params))
        return (
            signature_text(name, params, returns)
            + docstring(doc, "        ")
            + f"        return {call(wrap, ['self._runner', opener])}\n"
        )
    returns = render_annotation(raw_return, namespace, imports)
    head = signature_text(name, params, returns) + docstring(doc, "        ")
    coroutine = inspect.iscoroutinefunction(fn)
    callee = "self._runner.run" if coroutine else f"self._async.{name}"
    first = [f"self._async.{name}"] if coroutine else []
    body = returned(call(callee, [*first, *arguments(params)]), raw_return, namespace, owner)
    if max(map(len, body.splitlines())) > LINE and forwardable(params):
        body = returned(call(callee, [*first, FORWARDED]), raw_return, namespace, owner)
    return head + body


#: the line length ruff formats to (pyproject.toml)
LINE = 100
#: the arguments of a call that passes a method's own on by keyword (`forwardable`)
FORWARDED = "**_passed(locals())"


def forwardable(params: list[Param]) -> bool:
    """Whether a call can pass ``params`` on as `FORWARDED` (each by keyword, as given):
    none is a twin to unwrap, positional-only or variadic. Used only where the explicit
    call would not fit on one line, so short methods keep their plain, checked call."""
    plain = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return all(p.twin is None and p.kind in plain for p in params)


def property_code(owner: str, name: str, prop: property, imports: Imports) -> str:
    fget = prop.fget
    assert fget is not None
    raw = fget.__annotations__.get("return")
    if not isinstance(raw, str):
        raise GenerationError(f"{owner}.{name} has no return annotation")
    namespace = namespace_of(fget)
    returns = render_annotation(raw, namespace, imports)
    return (
        "    @property\n"
        f"    def {name}(self) -> {returns}:\n"
        + docstring(fget.__doc__ or f"The ``{name}`` of the async object.", "        ")
        + returned(f"self._async.{name}", raw, namespace, owner)
    )


def instance_attributes(cls: type) -> Iterator[tuple[str, str, str]]:
    """Public attributes ``__init__`` sets: (name, annotation text, description)."""
    init = cls.__dict__["__init__"]
    source = textwrap.dedent(inspect.getsource(init))
    lines = source.splitlines()
    fn = ast.parse(source).body[0]
    assert isinstance(fn, ast.FunctionDef)
    annotations = {a.arg: a.annotation for a in [*fn.args.args, *fn.args.kwonlyargs]}
    described = _attribute_docs(cls.__doc__ or "")
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target = node.targets[0]
        if not (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
            and not target.attr.startswith("_")
        ):
            continue
        value = node.value
        if isinstance(value, ast.Call) and len(value.args) == 1:
            value = value.args[0]
        annotation = annotations.get(value.id) if isinstance(value, ast.Name) else None
        if annotation is None:
            raise GenerationError(f"cannot tell the type of {cls.__name__}.{target.attr}")
        comment = lines[node.lineno - 2].strip()
        doc = comment[2:].strip() if comment.startswith("#:") else described.get(target.attr)
        text = doc or f"The ``{target.attr}``."
        yield target.attr, ast.unparse(annotation), text[0].upper() + text[1:]


def _attribute_docs(doc: str) -> dict[str, str]:
    found: dict[str, str] = {}
    in_section = False
    for line in inspect.cleandoc(doc).splitlines():
        if line.strip() == "Attributes:":
            in_section = True
        elif in_section and line.startswith("    ") and ":" in line:
            name, _, text = line.strip().partition(":")
            found[name.strip()] = text.strip()
        elif in_section and line.strip() and not line.startswith("    "):
            in_section = False
    return found


def members(cls: type) -> Iterator[tuple[str, Any]]:
    """Public members in definition order: the class's own, then its bases'.

    A subclass of the async task-method mixin leaves the mixin's members out: the
    sync `MIXIN` has them.
    """
    seen: set[str] = set()
    for klass in cls.__mro__[:-1]:
        if klass is AsyncTaskMethods and cls is not AsyncTaskMethods:
            continue
        for name, value in vars(klass).items():
            if name in seen or (name.startswith("_") and name not in LIFECYCLE):
                continue
            seen.add(name)
            yield name, value


def class_code(sync_name: str, cls: type, imports: Imports) -> str:
    """One sync class. The shared parts (``_from_async``, ``__repr__``, equality) are
    written once, in `filestack_async._portal`'s ``Twin`` and ``Same``."""
    is_client = sync_name == "Client"
    bases = ["_portal.ClientLifecycle"] if is_client else ["_portal.Twin"]
    if issubclass(cls, AsyncTaskMethods):
        bases = [MIXIN]
    if "__eq__" in vars(cls):
        bases.append("_portal.Same")
    out = [
        f"class {sync_name}({', '.join(bases)}):\n",
        docstring(CLASS_DOCS[sync_name], "    "),
        f"\n    __slots__ = {SLOTS if is_client else '()'}\n\n",
        f"    _async: _Async{sync_name}\n",
        "    _runner: _portal.Lease\n\n" if is_client else "\n",
    ]
    init = cls.__dict__["__init__"]
    params = params_of(init, imports)
    attributes = [] if is_client else list(instance_attributes(cls))
    out.append(signature_text("__init__", params, "None"))
    passed = [FORWARDED] if forwardable(params) else arguments(params)
    if is_client:
        out.append(
            "        self._async, self._runner = "
            + call("_portal.start_client", [f"_Async{sync_name}", *passed])
            + "\n        self._watch()\n"
        )
    else:
        out.append("        self._async = " + call(f"_Async{sync_name}", passed) + "\n")
        twin_params = [p for p in params if p.twin]
        runner = "_portal.PER_CALL"
        if twin_params:
            p = twin_params[0]
            runner = f"{p.name}._runner if {p.name} is not None else _portal.PER_CALL"
        out.append(f"        self._runner = {runner}\n")
    if not is_client:
        for name, annotation, text in attributes:
            rendered = render_annotation(annotation, namespace_of(init), imports)
            out.append(
                "\n    @property\n"
                f"    def {name}(self) -> {rendered}:\n"
                + docstring(text, "        ")
                + f"        return self._async.{name}\n"
            )
    for name, value in members(cls):
        if name in LIFECYCLE or name in HAND_WRITTEN:
            if not is_client:
                raise GenerationError(f"{sync_name}.{name} has no sync template")
            continue
        if inspect.ismemberdescriptor(value):
            if name not in {a[0] for a in attributes}:
                raise GenerationError(f"{sync_name}.{name}: a slot __init__ does not set")
            continue
        if isinstance(value, property):
            out.append("\n" + property_code(sync_name, name, value, imports))
        elif inspect.isfunction(value):
            out.append("\n" + method_code(sync_name, name, value, imports))
        else:
            raise GenerationError(f"{sync_name}.{name}: cannot mirror {type(value).__name__}")
    return "".join(out)


#: the slots of the sync Client (the other twins have them from ``_portal.Twin``)
SLOTS = '("_async", "_runner")'


MIXIN_DOC = """
    The processing task methods of the sync `Filelink` and `Transformation`.

    Each runs the async task method of the wrapped object and returns the sync
    twin of its result: ``store`` and ``av_convert`` on the loop thread, the
    others (no I/O) in the caller's thread.
    """


def mixin_code(imports: Imports) -> str:
    """The sync task-method mixin: one method per public member of the async mixin."""
    out = [
        f"class {MIXIN}(_portal.Twin):\n",
        docstring(MIXIN_DOC, "    "),
        "\n    __slots__ = ()\n\n",
        "    _async: _AsyncTaskMethods\n",
        "\n    def _chain(self, chain: _AsyncTransformation) -> Transformation:\n",
        '        """The sync twin of ``chain``; its calls run with this object\'s runner."""\n',
        "        return self._twin(Transformation, chain)\n",
    ]
    for name, value in members(AsyncTaskMethods):
        if not inspect.isfunction(value):
            raise GenerationError(f"{MIXIN}.{name}: cannot mirror {type(value).__name__}")
        out.append("\n" + method_code(MIXIN, name, value, imports))
    return "".join(out)


def render_source() -> str:
    """The generated module, unformatted."""
    imports = Imports()
    classes = [class_code(name, cls, imports) for name, cls in TWINS.items()]
    first = next(i for i, cls in enumerate(TWINS.values()) if issubclass(cls, AsyncTaskMethods))
    classes.insert(first, mixin_code(imports))
    twin_imports = "\n".join(
        f"from {cls.__module__[len(PACKAGE) :]} import {cls.__name__} as _Async{name}"
        for name, cls in TWINS.items()
    )
    twin_imports += "\nfrom ._task_methods import TaskMethods as _AsyncTaskMethods"
    names = ", ".join(f'"{n}"' for n in sorted(TWINS))
    return (
        HEADER
        + imports.render()
        + "\n\nfrom . import _portal\nfrom ._portal import passed as _passed\n"
        + twin_imports
        + f"\n\n__all__ = [{names}]\n\n\n"
        + "\n\n".join(classes)
    )


def generate() -> str:
    """The generated module, import-sorted and formatted by ruff as the project configures it."""
    return formatted(render_source(), TARGET)


def main(argv: list[str]) -> int:
    return write_or_check(TARGET, generate(), argv, "python scripts/gen_sync.py")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
