"""docs/migrating.md maps every public call of filestack-python 4.0.0 to one of ours."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import filestack
import filestack.exceptions
import filestack.helpers
import pytest

import filestack_async

PAGE = Path(__file__).resolve().parents[2] / "docs" / "migrating.md"
#: the names the second column uses for our objects
OURS: dict[str, type] = {
    "client": filestack_async.Client,
    "link": filestack_async.Filelink,
    "t": filestack_async.Transformation,
    "av": filestack_async.AudioVisual,
    "security": filestack_async.Security,
}


def table_rows() -> list[tuple[str, str]]:
    """(reference cell, ours cell) of every table row of the page."""
    rows = []
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and not set(cells[0]) <= {"-"}:
            rows.append((cells[0], cells[1]))
    return rows


def reference_names() -> list[str]:
    """Every public call and attribute of filestack-python, as ``Class.member``."""
    names = []
    for cls in (
        filestack.Client,
        filestack.Filelink,
        filestack.Transformation,
        filestack.Security,
        filestack.AudioVisual,
    ):
        names.append(f"{cls.__name__}(")
        members = {n for n in dir(cls) if not n.startswith("_")}
        # instance attributes set in __init__ (apikey, handle, policy, ...)
        members |= set(re.findall(r"self\.([a-z]\w*) =", _source(vars(cls)["__init__"])))
        names += [f"{cls.__name__}.{member}" for member in sorted(members)]
    names += [f"filestack.config.{n}" for n in dir(filestack.config) if n.isupper()]
    names += ["filestack.helpers.verify_webhook_signature"]
    names += [f"filestack.exceptions.{n}" for n in dir(filestack.exceptions) if n.endswith("Error")]
    names += [
        "filestack.uploads.multipart.multipart_upload",
        "filestack.uploads.intelligent_ingestion.upload",
        "filestack.uploads.external_url.upload_external_url",
    ]
    return names


def _source(func: object) -> str:

    try:
        return inspect.getsource(func)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""


def test_the_reference_is_the_version_the_page_describes() -> None:
    assert filestack.__version__ == "4.0.0"


@pytest.mark.parametrize("name", reference_names())
def test_every_reference_call_has_a_row(name: str) -> None:
    owner, _, member = name.rpartition(".")
    for reference, _ours in table_rows():
        if name in reference:
            return
        # a row may list several members of one owner: `Filelink.tags(...)`, `.sfw(...)`
        if owner and reference.startswith(f"`{owner}.") and f"`.{member}" in reference:
            return
    pytest.fail(f"docs/migrating.md has no row for {name}")


def test_every_method_of_ours_named_on_the_page_exists() -> None:
    named = 0
    for _reference, ours in table_rows():
        for obj, attribute in re.findall(r"\b(client|link|t|av|security)\.(\w+)", ours):
            cls = OURS[obj]
            assigned = re.findall(r"self\.(\w+)\s*[:=]", _source(vars(cls)["__init__"]))
            assert hasattr(cls, attribute) or attribute in assigned, f"{obj}.{attribute}"
            named += 1
    assert named > 80
