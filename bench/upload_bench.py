"""The benchmark matrix: our SDK vs a minimal ideal client vs filestack-python 4.0.0.

Run it as ``python -m bench`` (what ``nox -s bench`` runs). Every case runs against the
project's emulator (``filestack-async emulator``) on a free loopback port, started here
in a subprocess, once on plain loopback and once with ``--wan-profile`` (40 ms per
request, 16 MiB/s per connection). Every measured client runs in its own process
(``bench.workers``) so its peak RSS and CPU time are its own; the clients of one case
take turns run by run, so drift on this shared machine hits them alike.

Cases (``--only`` picks some; default all):

* ``large``: 256 MiB and 1 GiB, regular and intelligent, sdk / ideal / reference;
* ``memory``: peak RSS of the SDK for 64 MiB, 1 GiB and 4 GiB (path and pipe sources);
* ``small``: 200 files of 64 KiB under the WAN profile: ``upload_many(concurrency=16)``
  vs the reference in a loop and in a 16-thread pool (on loopback the sweep covers it);
* ``sweep``: 64 KiB files on loopback at 1, 4, 16 and 64 in flight (200 files at 1,
  500 at the others): ``upload_many`` (defaults, and with the one-request threshold set
  to 0 when `UploadConfig` has one), bare httpx, httpx over aiohttp, and the reference
  with N threads (a plain loop at 1); files/s and client CPU per file;
* ``concurrent``: 16 files of 64 MiB at once from one client;
* ``import``: import time of ``filestack_async`` vs ``filestack`` (fresh processes);
* ``emulator``: the emulator's own CPU and memory cost (bench/emulator_bench.py).

A full run writes docs/performance-results.json and regenerates the figures section
of docs/performance.md and docs/assets/performance.svg (``bench.report``). Runs with
``--quick``, ``--only`` or ``--net`` write to ``--output`` (default a temporary file)
and leave the docs alone unless ``--write-docs`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import report
from bench.common import (
    ROOT,
    EmulatorProcess,
    GiB,
    MiB,
    emulator,
    machine_facts,
    make_file,
    snapshot_head,
    system_busy_seconds,
    threshold_field,
)

CASES = ("large", "memory", "small", "sweep", "concurrent", "import", "emulator")
NETS = ("loopback", "wan")
CONTENDED_CORES = 0.25  # other processes using more than this many cores on average
SMALL = 64 * 1024  # bytes per file of the small-file cases
SWEEP = (1, 4, 16, 64)  # files in flight
SWEEP_FILES = {1: 200, 4: 500, 16: 500, 64: 500}
SWEEP_FILES_QUICK = {1: 50, 4: 100, 16: 100, 64: 100}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(server: EmulatorProcess, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one client process against ``server``; its figures plus the run's context."""
    spec = {**spec, "base": server.base}
    load_before = os.getloadavg()
    busy0, emu0, kids0, self0 = (
        system_busy_seconds(), server.cpu_seconds(), _children_cpu(), _self_cpu())  # fmt: skip
    wall0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "bench.workers", json.dumps(spec)],
        cwd=ROOT, check=False, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - wall0
    emu_cpu = server.cpu_seconds() - emu0
    ours = (_children_cpu() - kids0) + emu_cpu + (_self_cpu() - self0)
    others = max(0.0, system_busy_seconds() - busy0 - ours)
    load_after = os.getloadavg()
    server.reset()
    if out.returncode != 0:
        raise RuntimeError(f"worker {spec} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    gib = result["bytes"] / GiB
    if spec["mode"] in ("many", "loop", "pool"):
        count = int(spec["count"])
        result.update(
            files_s=count / result["seconds"], cpu_ms_per_file=result["cpu_s"] / count * 1000
        )
    result.update(
        mib_s=result["bytes"] / MiB / result["seconds"],
        cpu_s_per_gib=result["cpu_s"] / gib,
        emulator_cpu_s_per_gib=emu_cpu / gib,
        other_cores=others / wall,
        contended=others / wall > CONTENDED_CORES,
        loadavg_before=[round(x, 2) for x in load_before],
        loadavg_after=[round(x, 2) for x in load_after],
    )
    lag = f"  lag max {result['max_lag_ms']:.1f} ms" if "max_lag_ms" in result else ""
    flag = "  CONTENDED" if result["contended"] else ""
    who = spec.get("variant", spec["client"])
    n = f"x{spec['concurrency']}" if spec["mode"] in ("many", "pool") else ""
    per_file = (f"  {result['files_s']:.0f} files/s  {result['cpu_ms_per_file']:.2f} CPU-ms/file"
                if "files_s" in result else "")  # fmt: skip
    print(
        f"    {who:13} {spec.get('flow', ''):11} {spec['mode']:5} {n:4}"
        f"{result['bytes'] / MiB:7.0f} MiB {result['seconds']:7.2f} s {result['mib_s']:7.1f} MiB/s"
        f"  RSS +{result['rss_over_baseline_mib']:.0f} MiB  {result['cpu_s_per_gib']:.2f} CPU-s/GiB"
        f"  (emulator {result['emulator_cpu_s_per_gib']:.2f})  others {result['other_cores']:.2f}"
        f" cores{per_file}{lag}{flag}",
        flush=True,
    )
    return result


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median, min and max of every numeric figure over the runs."""
    out: dict[str, Any] = {}
    for key in ("mib_s", "seconds", "rss_over_baseline_mib", "cpu_s_per_gib",
                "emulator_cpu_s_per_gib", "max_lag_ms", "p99_lag_ms", "other_cores",
                "files_s", "cpu_ms_per_file"):  # fmt: skip
        values = [r[key] for r in runs if key in r]
        if values:
            out[key] = {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
            }
    out["runs"] = len(runs)
    out["contended_runs"] = sum(1 for r in runs if r.get("contended"))
    return out


class Matrix:
    """Collects cases: ``{id, group, net, ...labels, runs: [...], summary}``."""

    def __init__(self) -> None:
        self.cases: dict[str, dict[str, Any]] = {}

    def add(self, case_id: str, labels: dict[str, Any], result: dict[str, Any]) -> None:
        case = self.cases.setdefault(case_id, {"id": case_id, **labels, "runs": []})
        case["runs"].append(result)
        case["summary"] = summarize(case["runs"])


def run_large(
    matrix: Matrix, nets: list[str], sizes: list[int], runs: int, directory: Path, wan_ref_runs: int
) -> None:
    """256 MiB and 1 GiB, regular and intelligent, every client, interleaved run by run."""
    for net in nets:
        with emulator(wan=net == "wan", directory=directory) as server:
            for size in sizes:
                path = make_file(size, directory)
                for flow in ("regular", "intelligent"):
                    print(f"  large: {net}, {size // MiB} MiB, {flow}", flush=True)
                    for run in range(runs):
                        for client in ("ideal", "sdk", "reference"):
                            slowest = net == "wan" and client == "reference" and size >= GiB
                            limit = wan_ref_runs if slowest else runs
                            if run >= limit:
                                continue
                            spec = {"client": client, "mode": "path", "flow": flow,
                                    "path": str(path)}  # fmt: skip
                            result = measure(server, spec)
                            labels = {"group": "large", "net": net, "size": size,
                                      "flow": flow, "client": client}  # fmt: skip
                            matrix.add(f"large/{net}/{size}/{flow}/{client}", labels, result)


def run_memory(matrix: Matrix, nets: list[str], sizes: list[int], directory: Path) -> None:
    """Peak RSS of the SDK for growing files, from a path and from a non-seekable pipe."""
    for net in nets:
        with emulator(wan=net == "wan", directory=directory) as server:
            print(f"  memory: {net}", flush=True)
            for size in sizes:
                path = make_file(size, directory)
                for mode in ("path", "pipe"):
                    spec = {"client": "sdk", "mode": mode, "flow": "regular", "path": str(path)}
                    labels = {"group": "memory", "net": net, "size": size, "source": mode,
                              "client": "sdk"}  # fmt: skip
                    matrix.add(f"memory/{net}/{size}/{mode}", labels, measure(server, spec))


def run_small(
    matrix: Matrix, nets: list[str], count: int, runs: int, directory: Path, wan_loop_runs: int
) -> None:
    """Many 64 KiB files on WAN: upload_many vs the reference in a loop and in a thread pool."""
    path = make_file(SMALL, directory)
    variants = [("sdk", "many"), ("reference", "loop"), ("reference", "pool")]
    if "wan" not in nets:
        print("  small: WAN only (on loopback the sweep measures small files): skipped")
    for net in [n for n in nets if n == "wan"]:
        with emulator(wan=net == "wan", directory=directory) as server:
            print(f"  small: {net}, {count} x 64 KiB", flush=True)
            for run in range(runs):
                for client, mode in variants:
                    if net == "wan" and mode == "loop" and run >= wan_loop_runs:
                        continue
                    spec = {"client": client, "mode": mode, "path": str(path),
                            "count": count, "concurrency": 16}  # fmt: skip
                    labels = {"group": "small", "net": net, "count": count, "client": client,
                              "mode": mode, "concurrency": 16}  # fmt: skip
                    matrix.add(f"small/{net}/{client}/{mode}", labels, measure(server, spec))


def sweep_variants(concurrency: int, threshold: str | None) -> list[dict[str, Any]]:
    """The worker specs of the sweep at ``concurrency`` files in flight, in turn order.

    ``threshold`` is `UploadConfig`'s one-request threshold field (None: no such field,
    so no "multipart forced" variant). The reference runs a plain loop at 1 in flight
    and a pool of ``concurrency`` threads otherwise.
    """
    specs: list[dict[str, Any]] = [{"variant": "sdk", "client": "sdk", "mode": "many"}]
    if threshold is not None:
        specs.append({"variant": "sdk-multipart", "client": "sdk", "mode": "many",
                      "upload": {threshold: 0}})  # fmt: skip
    specs.append({"variant": "httpx", "client": "httpx", "mode": "many"})
    specs.append({"variant": "httpx-aiohttp", "client": "httpx-aiohttp", "mode": "many"})
    specs.append({"variant": "reference", "client": "reference",
                  "mode": "loop" if concurrency == 1 else "pool"})  # fmt: skip
    return specs


def run_sweep(
    matrix: Matrix, files: dict[int, int], runs: int, directory: Path, threshold: str | None
) -> None:
    """64 KiB files on loopback at each concurrency of `SWEEP`, every client, in turns."""
    path = make_file(SMALL, directory)
    if threshold is None:
        print("  sweep: UploadConfig has no one-request threshold: no 'multipart forced' row")
    with emulator(wan=False, directory=directory) as server:
        for run in range(runs):
            for n in SWEEP:
                print(f"  sweep: run {run + 1}, {files[n]} x 64 KiB, {n} in flight", flush=True)
                for variant in sweep_variants(n, threshold):
                    spec = {**variant, "path": str(path), "count": files[n], "concurrency": n}
                    labels = {"group": "sweep", "net": "loopback", "count": files[n],
                              "concurrency": n, "client": variant["client"],
                              "variant": variant["variant"], "mode": variant["mode"]}  # fmt: skip
                    matrix.add(f"sweep/{n}/{variant['variant']}", labels, measure(server, spec))


def run_concurrent(
    matrix: Matrix, nets: list[str], count: int, size: int, runs: int, directory: Path
) -> None:
    """``count`` uploads of ``size`` bytes at once from one SDK client."""
    path = make_file(size, directory)
    for net in nets:
        with emulator(wan=net == "wan", directory=directory) as server:
            print(f"  concurrent: {net}, {count} x {size // MiB} MiB", flush=True)
            for _ in range(runs):
                spec = {"client": "sdk", "mode": "concurrent", "flow": "regular",
                        "path": str(path), "count": count}  # fmt: skip
                labels = {"group": "concurrent", "net": net, "count": count, "size": size,
                          "client": "sdk"}  # fmt: skip
                matrix.add(f"concurrent/{net}", labels, measure(server, spec))


def _import_once(module: str) -> tuple[float, float]:
    """Wall seconds of a fresh ``python -c 'import module'`` and its ``-X importtime`` total."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    cumulative = 0
    for line in out.stderr.splitlines():
        fields = line.split("|")
        if len(fields) == 3 and fields[2].strip() == module:
            cumulative = int(fields[1])
    return wall, cumulative / 1e6


def run_import(matrix: Matrix, runs: int) -> None:
    """Import time of filestack_async vs filestack (and of an empty interpreter)."""
    print(f"  import: {runs} fresh processes each", flush=True)
    for _ in range(runs):
        for module in ("sys", "filestack_async", "filestack"):
            load = os.getloadavg()
            wall, cumulative = _import_once(module)
            result = {"wall_s": wall, "importtime_s": cumulative, "loadavg_before": list(load)}
            matrix.add(f"import/{module}", {"group": "import", "module": module}, result)
    for module in ("sys", "filestack_async", "filestack"):
        case = matrix.cases[f"import/{module}"]
        for key in ("wall_s", "importtime_s"):
            values = [r[key] for r in case["runs"]]
            case["summary"][key] = {"median": statistics.median(values), "min": min(values),
                                    "max": max(values)}  # fmt: skip
        print(f"    {module:16} wall {case['summary']['wall_s']['median'] * 1000:.0f} ms  "
              f"importtime {case['summary']['importtime_s']['median'] * 1000:.0f} ms")  # fmt: skip


def run_emulator(matrix: Matrix, size: int, runs: int, directory: Path) -> None:
    """The emulator's CPU seconds per GiB and peak RSS for one upload (emulator_bench)."""
    from bench.emulator_bench import run_once

    print(f"  emulator: {size // MiB} MiB, {runs} runs", flush=True)
    for _ in range(runs):
        load = os.getloadavg()
        r = run_once(size, directory)
        r["loadavg_before"] = list(load)
        print(f"    {r['MiB/s']:.0f} MiB/s  {r['cpu_s_per_gib']:.2f} CPU-s/GiB  "
              f"peak RSS {r['peak_rss_mib']:.0f} MiB", flush=True)  # fmt: skip
        matrix.add("emulator", {"group": "emulator", "size": size}, r)
    case = matrix.cases["emulator"]
    for key in ("MiB/s", "cpu_s_per_gib", "peak_rss_mib"):
        values = [r[key] for r in case["runs"]]
        case["summary"][key] = {"median": statistics.median(values), "min": min(values),
                                "max": max(values)}  # fmt: skip


def main(argv: list[str]) -> int:
    """Parse options, run the chosen cases, write the results (and the docs on a full run)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    parser.add_argument("--only", choices=CASES, action="append", help="run only these cases")
    parser.add_argument("--net", choices=NETS, action="append", help="only this network")
    parser.add_argument("--runs", type=int, help="runs per case (default 3; 1 with --quick)")
    parser.add_argument("--wan-reference-runs", type=int, default=2,
                        help="runs of the reference for 1 GiB WAN cases and its WAN small-file "
                        "loop (the slowest cases; default 2)")  # fmt: skip
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where test files go")
    parser.add_argument("--output", help="results JSON (default: docs/performance-results.json "
                        "on a full run, else a temporary file)")  # fmt: skip
    parser.add_argument("--snapshot", action="store_true",
                        help="measure the committed tree (git archive HEAD into a temporary "
                        "folder), not the working tree")  # fmt: skip
    parser.add_argument("--write-docs", action="store_true",
                        help="regenerate docs/performance.md and its plot")  # fmt: skip
    args = parser.parse_args(argv)
    full = not (args.quick or args.only or args.net)
    only = list(args.only or CASES)
    nets = list(args.net or NETS)
    runs = args.runs or (1 if args.quick else 3)
    directory = Path(args.dir)
    quick = args.quick
    output = Path(
        args.output
        or (report.RESULTS if full else Path(tempfile.gettempdir()) / "bench-results.json")
    )
    started = datetime.now(timezone.utc)
    if args.snapshot:
        src = snapshot_head(Path(tempfile.mkdtemp(prefix="bench-snapshot-")))
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(src), os.environ.get("PYTHONPATH")) if p
        )
    facts = machine_facts()
    facts["snapshot"] = bool(args.snapshot)
    facts["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    print(f"cores {facts['cores']}, Python {facts['python']}, load {facts['loadavg_at_start']}, "
          f"cases {only}, nets {nets}, runs {runs}", flush=True)  # fmt: skip
    matrix = Matrix()
    t0 = time.perf_counter()
    wan_ref = min(runs, args.wan_reference_runs)
    if "large" in only:
        sizes = [64 * MiB] if quick else [256 * MiB, GiB]
        # the reference's 1 GiB WAN uploads are the slowest cases: fewer runs
        run_large(matrix, nets, sizes, runs, directory, wan_ref if not quick else runs)
    if "memory" in only:
        run_memory(matrix, nets, [16 * MiB, 64 * MiB] if quick else [64 * MiB, GiB, 4 * GiB],
                   directory)  # fmt: skip
    if "small" in only:
        run_small(matrix, nets, 50 if quick else 200, runs, directory, wan_ref)
    if "sweep" in only and "loopback" in nets:
        facts["threshold_field"] = threshold_field(facts["upload_config_fields"])
        files = SWEEP_FILES_QUICK if quick else SWEEP_FILES
        run_sweep(matrix, files, runs, directory, facts["threshold_field"])
    if "concurrent" in only:
        run_concurrent(matrix, nets, 16, 8 * MiB if quick else 64 * MiB, runs, directory)
    if "import" in only:
        run_import(matrix, 3 if quick else 9)
    if "emulator" in only:
        run_emulator(matrix, 256 * MiB if quick else GiB, runs, directory)
    facts["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results = {
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 1),
        "options": {
            "quick": quick,
            "only": only,
            "nets": nets,
            "runs": runs,
            "wan_reference_runs": wan_ref,
            "full": full,
        },
        "machine": facts,
        "cases": list(matrix.cases.values()),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1) + "\n")
    print(f"results: {output} ({results['duration_s']:.0f} s)")
    print(report.markdown(results))
    if full or args.write_docs:
        report.write_docs(results)
        print(f"wrote {report.DOC} and {report.SVG}")
    return 0
