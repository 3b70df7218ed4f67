"""Turn a results file into the figures section of docs/performance.md and its plot.

``python -m bench.report [results.json]`` regenerates both from a saved results file
(default docs/performance-results.json). The section between the ``BEGIN``/``END``
markers in docs/performance.md is replaced; the text around it is kept.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench import targets
from bench.common import ROOT, GiB, MiB
from bench.svg import Panel, chart

DOC = ROOT / "docs" / "performance.md"
RESULTS = ROOT / "docs" / "performance-results.json"
SVG = ROOT / "docs" / "assets" / "performance.svg"
BEGIN = "<!-- BEGIN GENERATED FIGURES (python -m bench) -->"
END = "<!-- END GENERATED FIGURES -->"
X = "\u00d7"
DASH = "\u2013"
COLORS = {"sdk": "#1f6fb4", "ideal": "#8c8c8c", "reference": "#e8832a"}
CLIENTS = ("sdk", "ideal", "reference")
#: the sweep's rows: (variant, label)
SWEEP_ROWS = (
    ("sdk", "ours, `upload_many(concurrency=N)`, defaults"),
    ("sdk-multipart", "ours, multipart forced (one-request threshold 0)"),
    ("httpx", "bare httpx, the 4 requests per file"),
    ("httpx-aiohttp", "bare httpx over aiohttp (`httpx-aiohttp`)"),
    ("reference", "filestack-python, N threads (a plain loop at 1)"),
)


def _size(n: int) -> str:
    return f"{n // GiB} GiB" if n >= GiB and n % GiB == 0 else f"{n // MiB} MiB"


def _med(case: dict[str, Any] | None, key: str) -> float | None:
    if case is None or key not in case["summary"]:
        return None
    return float(case["summary"][key]["median"])


def _fmt(case: dict[str, Any] | None, key: str, digits: int = 0) -> str:
    """``median (min-max)``, or the median alone for one run."""
    if case is None or key not in case["summary"]:
        return "\u2013"
    s = case["summary"][key]
    if case["summary"].get("runs", 1) == 1 or s["min"] == s["max"]:
        return f"{s['median']:.{digits}f}"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}\u2013{s['max']:.{digits}f})"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _r(x: float | None, digits: int = 2) -> str:
    return "\u2013" if x is None else f"{x:.{digits}f}"


def _runs(case: dict[str, Any] | None) -> str:
    if case is None:
        return "\u2013"
    s = case["summary"]
    contended = f", {s['contended_runs']} contended" if s.get("contended_runs") else ""
    return f"{s['runs']}{contended}"


def _met(ok: bool | None) -> str:
    return "\u2013" if ok is None else ("**met**" if ok else "**not met**")


def markdown(results: dict[str, Any]) -> str:
    """The generated figures section (Markdown) for ``results``."""
    cases = {c["id"]: c for c in results["cases"]}
    m = results["machine"]
    o = results["options"]
    lines: list[str] = []
    add = lines.append
    if not o.get("full"):
        add(f"**A partial run** (quick: {o['quick']}, cases {o['only']}, networks {o['nets']}); "
            "the full matrix is `python -m bench`.")  # fmt: skip
        add("")
    when = results["started"][:16].replace("T", " ")
    add(f"Run of {when} UTC, {results['duration_s'] / 60:.0f} minutes: "
        f"**{m['cores']} cores**, {m['memory_gib']} GiB RAM, Python {m['python']}, "
        f"{m['platform']}; filestack-async {m['filestack_async']}, filestack-python "
        f"{m['filestack_python']}, httpx {m['httpx']}, httpx-aiohttp "
        f"{m.get('httpx_aiohttp') or DASH}, aiohttp {m.get('aiohttp') or DASH}, uvicorn "
        f"{m['uvicorn']}; code measured: "
        f"commit {m.get('git_head', '?')}"
        f"{' (the committed tree, --snapshot)' if m.get('snapshot') else ''}. "
        f"Runs per case: {o['runs']} (the reference's 1 GiB WAN uploads and its WAN "
        f"small-file loop: {o['wan_reference_runs']}). Load average at start "
        f"{m['loadavg_at_start']}, at end {m['loadavg_at_end']}.")  # fmt: skip
    add("")
    add("Figures are `median (min\u2013max)` over the runs. *CPU-s/GiB* is the client process's "
        "user + system CPU time (all threads) per GiB sent; *emulator* is the emulator's. "
        "*RSS* is the client's peak RSS over its baseline just before the upload. A run is "
        f"*contended* when other processes on the machine used more than {0.25} of a core "
        "on average during it (from /proc/stat minus the benchmark's own processes).")  # fmt: skip
    add("")
    large = [c for c in results["cases"] if c["group"] == "large"]
    if large:
        add("### Large uploads")
        add("")
        add("![Throughput of each client, median of the runs](assets/performance.svg)")
        add("")
        add("| network | size | flow | client | MiB/s | RSS MiB | CPU-s/GiB | emulator CPU-s/GiB "
            "| runs |")  # fmt: skip
        add("|---|---|---|---|---|---|---|---|---|")
        keys = sorted({(c["net"], c["size"], c["flow"]) for c in large},
                      key=lambda k: (k[0] != "loopback", k[1], k[2] != "regular"))  # fmt: skip
        for net, size, flow in keys:
            for client in CLIENTS:
                c = cases.get(f"large/{net}/{size}/{flow}/{client}")
                if c is None:
                    continue
                add(f"| {net} | {_size(size)} | {flow} | {client} | {_fmt(c, 'mib_s')} | "
                    f"{_fmt(c, 'rss_over_baseline_mib')} | {_fmt(c, 'cpu_s_per_gib', 2)} | "
                    f"{_fmt(c, 'emulator_cpu_s_per_gib', 2)} | {_runs(c)} |")  # fmt: skip
        add("")
        add("Ratios of the medians of the same run (throughput; CPU per GiB for the last "
            "column, lower is better for us):")  # fmt: skip
        add("")
        add("| network | size | flow | ours / ideal | ours / reference | CPU ours / ideal |")
        add("|---|---|---|---|---|---|")
        for net, size, flow in keys:
            get = {cl: cases.get(f"large/{net}/{size}/{flow}/{cl}") for cl in CLIENTS}
            vs_ideal = _ratio(_med(get["sdk"], "mib_s"), _med(get["ideal"], "mib_s"))
            vs_ref = _ratio(_med(get["sdk"], "mib_s"), _med(get["reference"], "mib_s"))
            cpu = _ratio(_med(get["sdk"], "cpu_s_per_gib"), _med(get["ideal"], "cpu_s_per_gib"))
            add(f"| {net} | {_size(size)} | {flow} | {_r(vs_ideal)} | {_r(vs_ref)} | {_r(cpu)} |")
        add("")

    memory = [c for c in results["cases"] if c["group"] == "memory"]
    if memory:
        add("### Memory flatness (our SDK, one run per size)")
        add("")
        add("| network | size | source | peak RSS over baseline (MiB) | MiB/s | max loop lag ms |")
        add("|---|---|---|---|---|---|")
        for c in sorted(memory, key=lambda c: (c["net"] != "loopback", c["source"], c["size"])):
            add(f"| {c['net']} | {_size(c['size'])} | {c['source']} | "
                f"{_fmt(c, 'rss_over_baseline_mib')} | {_fmt(c, 'mib_s')} | "
                f"{_fmt(c, 'max_lag_ms', 1)} |")  # fmt: skip
        add("")

    small = [c for c in results["cases"] if c["group"] == "small"]
    if small:
        add("### Many small files")
        add("")
        if not any(c["net"] == "loopback" for c in small):
            add("Under the WAN profile; on loopback the [concurrency sweep](#concurrency-sweep) "
                "measures them.")  # fmt: skip
            add("")
        add("| network | files | client | total seconds | files/s | RSS MiB | CPU-s | runs |")
        add("|---|---|---|---|---|---|---|---|")
        names = {"many": "sdk `upload_many(concurrency=16)`", "loop": "reference, a loop",
                 "pool": "reference, 16 threads"}  # fmt: skip
        for net in ("loopback", "wan"):
            for mode in ("many", "loop", "pool"):
                client = "sdk" if mode == "many" else "reference"
                c = cases.get(f"small/{net}/{client}/{mode}")
                if c is None:
                    continue
                secs = _med(c, "seconds") or 0.0
                cpu = statistics_median([r["cpu_s"] for r in c["runs"]])
                add(f"| {net} | {c['count']} {X} 64 KiB | {names[mode]} | {_fmt(c, 'seconds', 1)} "
                    f"| {c['count'] / secs:.0f} | {_fmt(c, 'rss_over_baseline_mib')} | "
                    f"{cpu:.1f} | {_runs(c)} |")  # fmt: skip
        add("")
        for net in ("loopback", "wan"):
            sdk = _med(cases.get(f"small/{net}/sdk/many"), "seconds")
            loop = _med(cases.get(f"small/{net}/reference/loop"), "seconds")
            pool = _med(cases.get(f"small/{net}/reference/pool"), "seconds")
            if sdk is None:
                continue
            add(f"* {net}: `upload_many` is **{_r(_ratio(loop, sdk), 1)}\u00d7** as fast as the "
                f"reference in a loop and **{_r(_ratio(pool, sdk), 1)}\u00d7** the reference in a "
                "16-thread pool.")  # fmt: skip
        add("")

    if any(c["group"] == "sweep" for c in results["cases"]):
        lines += sweep_section(results)

    concurrent = [c for c in results["cases"] if c["group"] == "concurrent"]
    if concurrent:
        add("### Concurrent uploads from one client")
        add("")
        add("| network | uploads | total MiB/s | peak RSS over baseline (MiB) | CPU-s/GiB | "
            "max loop lag ms | runs |")  # fmt: skip
        add("|---|---|---|---|---|---|---|")
        for c in concurrent:
            add(f"| {c['net']} | {c['count']} \u00d7 {_size(c['size'])} | {_fmt(c, 'mib_s')} | "
                f"{_fmt(c, 'rss_over_baseline_mib')} | {_fmt(c, 'cpu_s_per_gib', 2)} | "
                f"{_fmt(c, 'max_lag_ms', 1)} | {_runs(c)} |")  # fmt: skip
        add("")

    lagged = [
        c for c in results["cases"] if c.get("client") == "sdk" and "max_lag_ms" in c["summary"]
    ]
    if lagged:
        add("### Event-loop lag during uploads (our SDK)")
        add("")
        add("A task sleeps 10 ms in a loop next to the upload; lag is how late it wakes. A "
            "watchdog thread records the main thread's stack whenever a tick is more than "
            "40 ms late.")  # fmt: skip
        add("")
        add("| case | max lag ms | p99 lag ms | runs over 50 ms | stacks seen in stalls |")
        add("|---|---|---|---|---|")
        for c in lagged:
            over = sum(1 for r in c["runs"] if r["max_lag_ms"] > targets.LAG_MS)
            stalls: dict[str, int] = {}
            for r in c["runs"]:
                for where, n in r.get("stalls", []):
                    stalls[where] = stalls.get(where, 0) + n
            shown = "; ".join(f"`{w.split(' < ')[0]}` \u00d7{n}" for w, n in
                              sorted(stalls.items(), key=lambda x: -x[1])[:2]) or DASH  # fmt: skip
            add(f"| {_label(c)} | {_fmt(c, 'max_lag_ms', 1)} | {_fmt(c, 'p99_lag_ms', 1)} | "
                f"{over} of {c['summary']['runs']} | {shown} |")  # fmt: skip
        add("")
        lines += stall_stacks(results)

    imports = [c for c in results["cases"] if c["group"] == "import"]
    if imports:
        add("### Import time")
        add("")
        add(
            "A fresh `python -X importtime -c 'import <module>'` per run; *wall* is the whole "
            "process, *importtime* the module's cumulative import time as Python reports it."
        )
        add("")
        add("| module | wall ms | importtime ms | runs |")
        add("|---|---|---|---|")
        for c in imports:
            add(f"| `{c['module']}` | {_fmt_ms(c, 'wall_s')} | {_fmt_ms(c, 'importtime_s')} | "
                f"{c['summary']['runs']} |")  # fmt: skip
        ours = _med(cases.get("import/filestack_async"), "importtime_s")
        theirs = _med(cases.get("import/filestack"), "importtime_s")
        add("")
        best = [cases[f"import/{m}"]["summary"]["importtime_s"]["min"]
                for m in ("filestack_async", "filestack") if f"import/{m}" in cases]  # fmt: skip
        best_ratio = _ratio(best[0], best[1]) if len(best) == 2 else None
        add(f"`filestack_async` / `filestack` importtime: **{_r(_ratio(ours, theirs))}** at the "
            f"median, **{_r(best_ratio)}** best against best.")  # fmt: skip
        add("")

    emu = cases.get("emulator")
    if emu:
        add("### The emulator's own cost")
        add("")
        add(f"One {_size(emu['size'])} regular upload by a raw-httpx client "
            "(bench/emulator_bench.py), per run: throughput "
            f"{_fmt(emu, 'MiB/s')} MiB/s, emulator CPU {_fmt(emu, 'cpu_s_per_gib', 2)} "
            f"CPU-s/GiB, emulator peak RSS {_fmt(emu, 'peak_rss_mib')} MiB "
            f"({emu['summary']['runs']} runs).")  # fmt: skip
        add("")

    measured = [(c, r) for c in results["cases"] for r in c["runs"] if "contended" in r]
    contended = [(c, r) for c, r in measured if r["contended"]]
    add("### Contention")
    add("")
    if measured:
        others = sorted(r["other_cores"] for _, r in measured)
        add(f"{len(contended)} of {len(measured)} measured runs were contended. Other "
            "processes on this shared 2-core machine used "
            f"{others[len(others) // 2]:.2f} cores at the median during a run "
            f"(max {others[-1]:.2f}); per run in `docs/performance-results.json` "
            "(`other_cores`, `loadavg_before`, `loadavg_after`).")  # fmt: skip
        by_group: dict[str, list[int]] = {}
        for c, r in measured:
            counts = by_group.setdefault(c["group"], [0, 0])
            counts[0] += 1
            counts[1] += bool(r["contended"])
        add("")
        add("| cases | runs | contended |")
        add("|---|---|---|")
        for group, (n, k) in by_group.items():
            add(f"| {group} | {n} | {k} |")
    add("")
    add("### Targets")
    add("")
    add("Computed by `bench/targets.py` from the medians of this run (issue 11's first). "
        "*not measured*: this run did not include the cases the target reads.")  # fmt: skip
    add("")
    add("| target | measured | |")
    add("|---|---|---|")
    for t in targets.compute(results):
        add(f"| {t.text} | {t.measured} | {_met(t.ok)} |")
    add("")
    return "\n".join(lines)


def sweep_section(results: dict[str, Any]) -> list[str]:
    """The concurrency sweep: files/s and client CPU per file, a column per concurrency."""
    sweep = [c for c in results["cases"] if c["group"] == "sweep"]
    cases = {c["id"]: c for c in sweep}
    levels = sorted({c["concurrency"] for c in sweep})
    counts = ", ".join(f"{next(c['count'] for c in sweep if c['concurrency'] == n)} at {n}"
                       for n in levels)  # fmt: skip
    out = ["### Concurrency sweep", ""]
    out.append(f"64 KiB files on loopback against the emulator (its own process), N files in "
               f"flight; files per run: {counts}. Each client is a process of its own and the "
               "clients take turns run by run. *CPU-ms per file* is the client process's user + "
               "system CPU (all threads) divided by the files. The bare clients send the four "
               "requests of a regular upload per file (start, upload, PUT, complete) with the "
               "SDK's pool size (32 connections); the reference runs N threads (a plain loop "
               "at 1, the 16-thread pool at 16).")  # fmt: skip
    out.append("")
    field = results["machine"].get("threshold_field")
    if field:
        out.append(f"*Multipart forced*: `UploadConfig({field}=0)`, every file through the "
                   "four-request multipart flow.")  # fmt: skip
    else:
        out.append("*Multipart forced* is not measured: the code measured has no one-request "
                   "threshold in `UploadConfig`.")  # fmt: skip
    out.append("")
    head = " | ".join(f"{n} in flight" for n in levels)
    rule = "|---" * (len(levels) + 2) + "|"
    for key, title, digits in (
        ("files_s", "files/s", 0),
        ("cpu_ms_per_file", "CPU-ms per file", 2),
    ):
        out += [f"| {title} | {head} | runs (contended) |", rule]
        for variant, label in SWEEP_ROWS:
            row = [cases.get(f"sweep/{n}/{variant}") for n in levels]
            if not any(row):
                continue
            runs = sum(c["summary"]["runs"] for c in row if c)
            contended = sum(c["summary"]["contended_runs"] for c in row if c)
            cells = " | ".join(_fmt(c, key, digits) for c in row)
            out.append(f"| {label} | {cells} | {runs} ({contended}) |")
        out.append("")
    ours = {n: _med(cases.get(f"sweep/{n}/sdk"), "cpu_ms_per_file") for n in levels}
    if ours.get(1) and all(ours.values()):
        growth = ", ".join(f"{_r(_ratio(ours[n], ours[1]))} at {n}" for n in levels[1:])
        out += [f"Ours, CPU per file against 1 in flight: {growth}.", ""]
    return out


def stall_stacks(results: dict[str, Any]) -> list[str]:
    """The stacks the watchdog caught during the lag targets' cases, commonest first."""
    out: list[str] = []
    for during, cases in targets.lag_target_cases({c["id"]: c for c in results["cases"]}).items():
        stalls: dict[str, int] = {}
        for r in (r for c in cases for r in c["runs"]):
            for where, n in r.get("stalls", []):
                stalls[where] = stalls.get(where, 0) + n
        if not cases:
            continue
        out.append(f"Stacks caught during {during} (innermost frame first; times caught):")
        out.append("")
        for where, n in sorted(stalls.items(), key=lambda x: -x[1])[:8]:
            out.append(f"* {X}{n}: `{where}`")
        if not stalls:
            out.append("* none: no tick was more than 40 ms late")
        out.append("")
    return out


def statistics_median(values: list[float]) -> float:
    """The median (0 for no values)."""
    import statistics

    return statistics.median(values) if values else 0.0


def _fmt_ms(case: dict[str, Any], key: str) -> str:
    s = case["summary"][key]
    return f"{s['median'] * 1000:.0f} ({s['min'] * 1000:.0f}\u2013{s['max'] * 1000:.0f})"


def _label(case: dict[str, Any]) -> str:
    group = case["group"]
    if group == "large":
        return f"{case['net']} {_size(case['size'])} {case['flow']}"
    if group == "memory":
        return f"{case['net']} {_size(case['size'])} {case['source']} source"
    if group == "small":
        return f"{case['net']} {case['count']} \u00d7 64 KiB upload_many"
    if group == "sweep":
        forced = ", multipart forced" if case["variant"] == "sdk-multipart" else ""
        return (f"{case['net']} {case['count']} \u00d7 64 KiB upload_many, "
                f"{case['concurrency']} in flight{forced}")  # fmt: skip
    if group == "concurrent":
        return f"{case['net']} {case['count']} \u00d7 {_size(case['size'])} at once"
    return str(case["id"])


def plot(results: dict[str, Any]) -> str:
    """The SVG: median MiB/s of every client, loopback and WAN panels."""
    cases = {c["id"]: c for c in results["cases"]}
    panels: list[Panel] = []
    for net, title in (("loopback", "Loopback"), ("wan", "WAN profile (40 ms, 16 MiB/s/conn)")):
        panel = Panel(f"{title}: large uploads, median MiB/s", "MiB/s")
        keys = sorted({(c["size"], c["flow"]) for c in results["cases"]
                       if c["group"] == "large" and c["net"] == net},
                      key=lambda k: (k[0], k[1] != "regular"))  # fmt: skip
        for size, flow in keys:
            bars = [(cl, v) for cl in CLIENTS
                    if (v := _med(cases.get(f"large/{net}/{size}/{flow}/{cl}"), "mib_s"))
                    is not None]  # fmt: skip
            panel.groups.append((f"{_size(size)} {flow}", bars))
        if panel.groups:
            panels.append(panel)
    return chart(f"filestack-async upload throughput ({results['started'][:10]})", panels, COLORS)


def write_docs(results: dict[str, Any]) -> None:
    """Replace the generated section of docs/performance.md and write the SVG."""
    SVG.parent.mkdir(parents=True, exist_ok=True)
    SVG.write_text(plot(results))
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOC} has no {BEGIN} … {END} markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n\n{markdown(results)}\n{END}{tail}")


def main(argv: list[str]) -> int:
    """Regenerate the docs from a saved results file."""
    path = Path(argv[0]) if argv else RESULTS
    results = json.loads(path.read_text())
    if path.resolve() != RESULTS.resolve():
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    write_docs(results)
    print(f"wrote {DOC} and {SVG} from {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
