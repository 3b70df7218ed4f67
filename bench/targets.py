"""The performance targets, each computed from the figures of one results file.

`compute` turns a results dict (what ``python -m bench`` writes) into `Target` rows:
what is aimed at, the figure measured and whether it is met. Every comparison uses the
medians of cases of the same run; a target whose cases the run did not measure is
reported as not measured (``ok`` is None), never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bench.common import GiB

X = "\u00d7"
LAG_MS = 50.0  # max event-loop lag
SMALL_VS_POOL = 2.0  # ours at 16 in flight / reference 16-thread pool, files/s, loopback
CPU_FLAT = 1.3  # ours: CPU per file at 64 in flight / at 1 in flight
SMALL_WAN_VS_LOOP = 20.0  # ours at 16 in flight / reference loop, files/s, WAN
IDEAL_THROUGHPUT = 0.95  # ours / ideal, 1 GiB loopback
IDEAL_CPU = 1.0  # ours / ideal CPU per GiB, 1 GiB loopback
IMPORT = 1.0  # import filestack_async / import filestack, best of the fresh interpreters
# earlier targets, kept
IDEAL_ANY = 0.90  # ours / ideal throughput, every large loopback case
REF_LOOPBACK = 1.5  # ours / reference throughput, large files on loopback
REF_WAN = 3.0  # ours / reference throughput, large files on WAN
RSS_MIB = 64.0  # peak RSS over baseline, path sources


@dataclass(frozen=True)
class Target:
    """One target: ``text`` says what and from which figures, ``ok`` None if not measured."""

    text: str
    measured: str
    ok: bool | None


Cases = dict[str, dict[str, Any]]


def median(cases: Cases, case_id: str, key: str) -> float | None:
    """The median of ``key`` over the runs of case ``case_id`` (None when absent)."""
    case = cases.get(case_id)
    if case is None or key not in case["summary"]:
        return None
    return float(case["summary"][key]["median"])


def files_per_second(cases: Cases, case_id: str) -> float | None:
    """Median files/s of a small-file case (from its seconds in results that predate files/s)."""
    value = median(cases, case_id, "files_s")
    seconds = median(cases, case_id, "seconds")
    if value is None and seconds:
        value = cases[case_id]["count"] / seconds
    return value


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _bound(text: str, value: float | None, goal: float, *, most: bool = False) -> Target:
    """``value`` at least ``goal`` (at most when ``most``)."""
    if value is None:
        return Target(text, "not measured", None)
    return Target(text, f"{value:.2f}{X}", value <= goal if most else value >= goal)


def _versus(
    text: str,
    ours: float | None,
    theirs: float | None,
    goal: float,
    unit: str,
    *,
    digits: int = 0,
    most: bool = False,
) -> Target:
    """``ours / theirs`` against ``goal`` (at least, or at most when ``most``), both shown."""
    ratio = _ratio(ours, theirs)
    if ours is None or theirs is None or ratio is None:
        return Target(text, "not measured", None)
    detail = f" ({ours:.{digits}f} against {theirs:.{digits}f} {unit})"
    return _bound(f"{text}{detail}", ratio, goal, most=most)


def _lag(text: str, runs: list[dict[str, Any]]) -> Target:
    """Every run's max lag ≤ `LAG_MS`; the text gives the highest and the highest uncontended."""
    lags = [(float(r["max_lag_ms"]), bool(r.get("contended"))) for r in runs if "max_lag_ms" in r]
    if not lags:
        return Target(text, "not measured", None)
    top = max(v for v, _ in lags)
    quiet = [v for v, contended in lags if not contended]
    quiet_text = f"{max(quiet):.0f} ms" if quiet else "no uncontended run"
    runs_text = f"{len(lags)} run{'s' if len(lags) > 1 else ''}"
    detail = f" (highest of {runs_text}: {top:.0f} ms; uncontended: {quiet_text})"
    return Target(f"{text}{detail}", f"{top:.0f} ms", top <= LAG_MS)


def _runs(cases: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for c in cases for r in c["runs"]]


def issue_11(cases: Cases) -> list[Target]:
    """The targets of issue 11 (concurrency, small files, large-file CPU, import, lag)."""
    pool_files = cases.get("sweep/16/sdk", {}).get("count", 500)
    wan_files = cases.get("small/wan/sdk/many", {}).get("count", 200)
    out = [
        _versus(
            f"{pool_files} {X} 64 KiB on loopback, ours at 16 in flight ≥ 2{X} "
            "filestack-python in a 16-thread pool",
            files_per_second(cases, "sweep/16/sdk"),
            files_per_second(cases, "sweep/16/reference"),
            SMALL_VS_POOL,
            "files/s",
        ),
        _versus(
            f"ours: CPU per file at 64 in flight ≤ 1.3{X} at 1 in flight",
            median(cases, "sweep/64/sdk", "cpu_ms_per_file"),
            median(cases, "sweep/1/sdk", "cpu_ms_per_file"),
            CPU_FLAT,
            "CPU-ms per file",
            digits=2,
            most=True,
        ),
        _versus(
            f"{wan_files} {X} 64 KiB under the WAN profile, ours at 16 in flight ≥ "
            f"20{X} filestack-python's loop",
            files_per_second(cases, "small/wan/sdk/many"),
            files_per_second(cases, "small/wan/reference/loop"),
            SMALL_WAN_VS_LOOP,
            "files/s",
            digits=1,
        ),
    ]
    against_ideal = (
        ("client CPU ≤ the ideal client's", "cpu_s_per_gib", IDEAL_CPU, "CPU-s/GiB", 2, True),
        (f"throughput ≥ 0.95{X} the ideal's", "mib_s", IDEAL_THROUGHPUT, "MiB/s", 0, False),
    )
    for flow in ("regular", "intelligent"):
        sdk, ideal = f"large/loopback/{GiB}/{flow}/sdk", f"large/loopback/{GiB}/{flow}/ideal"
        for what, key, goal, unit, digits, most in against_ideal:
            ours, theirs = median(cases, sdk, key), median(cases, ideal, key)
            text = f"1 GiB {flow} on loopback: ours' {what}"
            out.append(_versus(text, ours, theirs, goal, unit, digits=digits, most=most))
    best = {
        m: cases[f"import/{m}"]["summary"]["importtime_s"]["min"] * 1000
        for m in ("filestack_async", "filestack")
        if f"import/{m}" in cases
    }
    runs = cases.get("import/filestack", {}).get("summary", {}).get("runs", 0)
    out.append(
        _versus(
            f"`import filestack_async` ≤ `import filestack`, -X importtime, best of {runs} "
            "fresh interpreters",
            best.get("filestack_async"),
            best.get("filestack"),
            IMPORT,
            "ms",
            most=True,
        )
    )
    for during, lagged in lag_target_cases(cases).items():
        out.append(
            _lag(f"ours: event-loop lag ≤ 50 ms in every run during {during}", _runs(lagged))
        )
    return out


def earlier(cases: Cases) -> list[Target]:
    """The targets set before issue 11 (large files against the ideal and the reference,
    memory, lag in every SDK run); omitted when the run has none of their cases."""
    out: list[Target] = []
    large = [c for c in cases.values() if c["group"] == "large"]
    keys = {(c["net"], c["size"], c["flow"]) for c in large}
    worst: dict[str, float] = {}
    for net, size, flow in keys:
        prefix = f"large/{net}/{size}/{flow}"
        sdk = median(cases, f"{prefix}/sdk", "mib_s")
        for name, other in (("ideal", "ideal"), ("ref", "reference")):
            value = _ratio(sdk, median(cases, f"{prefix}/{other}", "mib_s"))
            if value is not None:
                worst[f"{name}/{net}"] = min(worst.get(f"{name}/{net}", value), value)
    for key, text, goal in (
        ("ideal/loopback", "≥ 90 % of the ideal client's throughput on loopback", IDEAL_ANY),
        ("ref/loopback", f"≥ 1.5{X} filestack-python on loopback", REF_LOOPBACK),
        ("ref/wan", f"≥ 3{X} filestack-python on WAN", REF_WAN),
    ):
        if key in worst:
            out.append(_bound(f"{text}, every large case (lowest)", worst[key], goal))
    path_rss = [
        r["rss_over_baseline_mib"]
        for c in cases.values()
        if c.get("client") == "sdk"
        and c["group"] in ("large", "memory")
        and c.get("source", "path") == "path"
        for r in c["runs"]
    ]
    if path_rss:
        top = max(path_rss)
        out.append(
            Target(
                f"peak RSS < 64 MiB over baseline for path sources, every size "
                f"(highest run: {top:.0f} MiB)",
                f"{top:.0f} MiB",
                top < RSS_MIB,
            )
        )
    lagged = [
        c for c in cases.values() if c.get("client") == "sdk" and "max_lag_ms" in c["summary"]
    ]
    if lagged:
        out.append(_lag("event-loop lag ≤ 50 ms in every SDK run", _runs(lagged)))
    return out


def compute(results: dict[str, Any]) -> list[Target]:
    """Every target for ``results``: issue 11's first, then the earlier ones."""
    cases = {c["id"]: c for c in results["cases"]}
    return issue_11(cases) + earlier(cases)


def lag_target_cases(cases: Cases) -> dict[str, list[dict[str, Any]]]:
    """The SDK cases each lag target reads, by what runs: a 1 GiB upload (every network and
    flow) and 64 small uploads at once (the sweep at 64 in flight, default settings)."""
    return {
        "a 1 GiB upload": [
            c
            for c in cases.values()
            if c["group"] == "large" and c["size"] == GiB and c["client"] == "sdk"
        ],
        "64 small uploads at once": [c for i, c in cases.items() if i == "sweep/64/sdk"],
    }
