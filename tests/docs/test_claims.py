"""What the README and the getting-started pages claim is true: how to install (the
package is not on PyPI yet), no timing figure nobody measured, and the demo claim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from filestack_async import cli, demo

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: pages whose figures are generated (by bench.report): they may state timings
GENERATED = {"performance.md"}
#: a claim of how long something runs: "takes about a second", "run in about 7 s",
#: "about two minutes"
TIMING = re.compile(
    r"\b(takes?|took|runs?|ran|lasts?)\s+(in\s+)?((about|around|under)\s+)?"
    r"((a|an|one|two|three)\s+|\d+(\.\d+)?\s*)(s|secs?|seconds?|minutes?|min)\b"
    r"|\babout\s+(a|an|one|two|three|\d+)\s+(seconds?|minutes?)\b",
    re.I,
)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pip_installs_from_a_checkout_or_a_wheel(page: Path) -> None:
    for line in page.read_text(encoding="utf-8").splitlines():
        if "pip install" in line and "filestack-async" in line.split("#")[0]:
            # `pip install filestack-async[...]` fails until the package is published
            pytest.fail(f"{page.name}: {line.strip()}")


@pytest.mark.parametrize(
    "page", [p for p in PAGES if p.name not in GENERATED], ids=lambda p: p.name
)
def test_no_unmeasured_timing_figure(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    claims = [m.group(0) for m in TIMING.finditer(text)]
    assert claims == [], f"{page.name}: generate such figures (docs/performance.md) or drop them"


def test_the_timing_check_sees_a_claim() -> None:
    assert TIMING.search("the suite takes about two minutes")
    assert TIMING.search("It takes about a second.")
    assert TIMING.search("The tests run in about 7 s.")
    assert not TIMING.search("expires in 600 seconds from now, for ten minutes")
    assert not TIMING.search("retry 1 of 4 in 0.3 s; a clip of about 2 s")


def test_the_demo_module_is_documented_as_the_demo_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli_page = " ".join((ROOT / "docs" / "cli.md").read_text(encoding="utf-8").split())
    assert "without the progress bars" not in cli_page
    assert "`python -m filestack_async.demo` (the README's first line) is the same command" in (
        cli_page
    )
    # and it is: the module hands its options to `filestack-async demo`
    calls: list[list[str]] = []

    def command(argv: list[str] | None = None) -> int:
        calls.append(list(argv or []))
        return 0

    monkeypatch.setattr(cli, "main", command)
    assert demo.main(["--json"]) == 0
    assert calls == [["demo", "--json"]]
