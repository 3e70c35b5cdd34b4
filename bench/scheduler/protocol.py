"""The scheduler benchmark protocol (/work/shared/benchmarks/PROTOCOL.md).

Runs suites S, Q and T through Jalon's solver and the plain peer model, checks every schedule with
the independent validator, and writes a markdown report.

    python -m bench.scheduler.protocol --output report.md                # everything (≈ 20 min)
    python -m bench.scheduler.protocol --suite S --only ft06 --output -  # one instance to stdout
    python -m bench.scheduler.protocol --quick --no-baseline --output -  # 2 s limits
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import platform
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from bench.common import write_section
from bench.scheduler.baseline import solve_plain
from bench.scheduler.instances import load, read_bks
from services.scheduler.domain.cpsat import SolverParams, solve
from services.scheduler.domain.model import Solution, Status
from services.scheduler.domain.validator import check_solution

SUITES: dict[str, tuple[float, list[str]]] = {
    "S": (
        10.0,
        [
            "ft06", "ft10", "la01", "la16", "la40", "orb01", "abz5", "mk01", "mk02", "mk03", "mk04",
            "mk08", "kacem_4x5", "kacem_8x8", "kacem_15x10",
        ],
    ),
    "Q": (
        30.0,
        [
            "ta11", "ta21", "ta31", "ta41", "ta51", "ta61", "ta71", "abz7", "swv01", "mk06", "mk10",
            "mk13", "la26_rdata",
        ],
    ),
    "T": (10.0, ["wt40#1", "wt40#19", "wt50#11", "wt100#1", "wt100#111"]),
}  # fmt: skip
ALTERNATIVE_BKS = {"mk10": 197}


@dataclass(frozen=True, slots=True)
class Run:
    solution: Solution
    invalid: int

    @property
    def value(self) -> int | None:
        return self.solution.objective if self.solution.assignments else None


@dataclass(frozen=True, slots=True)
class Row:
    suite: str
    name: str
    bks: int
    jalon: Run
    peer: Run | None


def _gap(value: int | None, bks: int) -> float | None:
    if value is None:
        return None
    if bks == 0:
        return 0.0 if value == 0 else math.inf
    return 100.0 * (value - bks) / bks


def _fmt(g: float | None) -> str:
    return "—" if g is None else f"{g:.2f}%"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_instance(name: str, limit: float, workers: int, seed: int, baseline: bool) -> tuple[Run, Run | None]:
    problem = load(name)
    solution = solve(problem, SolverParams(time_limit_s=limit, num_workers=workers, seed=seed))
    jalon = Run(solution, len(check_solution(problem, solution)))
    peer = None
    if baseline:
        plain = solve_plain(problem, limit, workers)
        peer = Run(plain, len(check_solution(problem, plain)))
    return jalon, peer


def _summary(rows: list[Row], pick: str) -> str:
    runs = [(r, r.jalon if pick == "jalon" else r.peer) for r in rows]
    gaps = [_gap(run.value, r.bks) for r, run in runs if run is not None]
    finite = [g for g in gaps if g is not None and math.isfinite(g)]
    proofs = sum(1 for _, run in runs if run is not None and run.solution.status is Status.OPTIMAL)
    missing = sum(1 for g in gaps if g is None)
    invalid = sum(run.invalid for _, run in runs if run is not None)
    wall = sum(run.solution.wall_time_s for _, run in runs if run is not None)
    if not finite:
        return f"no solution on {missing}, invalid {invalid}"
    mean = sum(finite) / len(finite)
    shifted = 100.0 * (math.exp(sum(math.log(1 + g / 100) for g in finite) / len(finite)) - 1)
    worst_row, worst = max(
        ((r, g) for (r, _), g in zip(runs, gaps, strict=True) if g is not None), key=lambda x: x[1]
    )
    return (
        f"mean {mean:.2f}%, shifted geomean {shifted:.2f}%, worst {worst:.2f}% ({worst_row.name}), "
        f"proved {proofs}/{len(rows)}, no solution {missing}, invalid {invalid}, wall {wall:.0f} s"
    )


def report(rows: list[Row], workers: int, seed: int, limits: dict[str, float]) -> str:
    lines = [
        "# Scheduler benchmark (PROTOCOL.md)",
        "",
        f"- date {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}, OR-Tools {version('ortools')}, "
        f"num_workers {workers}, seed {seed}, CPU {_cpu()}",
        "- limits: " + ", ".join(f"{s} {limit:g} s" for s, limit in limits.items()),
        "",
    ]
    for suite in limits:
        suite_rows = [r for r in rows if r.suite == suite]
        if not suite_rows:
            continue
        lines += [
            f"## Suite {suite}",
            "",
            "| instance | BKS | Jalon | gap | status | bound | baseline | gap | status |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in suite_rows:
            j, p = r.jalon, r.peer
            bks = f"{r.bks}" + (f" / {ALTERNATIVE_BKS[r.name]}" if r.name in ALTERNATIVE_BKS else "")
            jgap = _fmt(_gap(j.value, r.bks))
            if r.name in ALTERNATIVE_BKS:
                jgap += f" / {_fmt(_gap(j.value, ALTERNATIVE_BKS[r.name]))}"
            jcell = f"{j.value}" + (f" (INVALID ×{j.invalid})" if j.invalid else "")
            pcells = ["—", "—", "—"]
            if p is not None:
                pcells = [
                    f"{p.value}" + (f" (INVALID ×{p.invalid})" if p.invalid else ""),
                    _fmt(_gap(p.value, r.bks)),
                    str(p.solution.status),
                ]
            lines.append(
                f"| {r.name} | {bks} | {jcell} | {jgap} | {j.solution.status} | {j.solution.best_bound} | "
                + " | ".join(pcells)
                + " |"
            )
        lines += ["", f"- Jalon: {_summary(suite_rows, 'jalon')}"]
        if any(r.peer is not None for r in suite_rows):
            lines.append(f"- baseline: {_summary(suite_rows, 'peer')}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--suite", action="append", choices=sorted(SUITES), help="repeatable; default all")
    parser.add_argument("--only", default="", help="comma-separated instance names")
    parser.add_argument("--quick", action="store_true", help="2 s per instance")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--output",
        default="-",
        help="markdown file, '-' for stdout, 'docs' for the scheduler section of docs/benchmarks.md",
    )
    args = parser.parse_args(argv)
    suites = args.suite or list(SUITES)
    only = {n for n in args.only.split(",") if n}
    bks = read_bks()
    rows: list[Row] = []
    limits: dict[str, float] = {}
    for suite in suites:
        limit, names = SUITES[suite]
        limit = 2.0 if args.quick else limit
        limits[suite] = limit
        for name in names:
            if only and name not in only:
                continue
            jalon, peer = run_instance(name, limit, args.workers, args.seed, not args.no_baseline)
            rows.append(Row(suite, name, bks[name][1], jalon, peer))
            peer_text = "" if peer is None else f", baseline {peer.value} ({peer.solution.status})"
            print(
                f"{suite} {name}: {jalon.value} ({jalon.solution.status}, bound {jalon.solution.best_bound}"
                f", invalid {jalon.invalid}){peer_text}, BKS {bks[name][1]}",
                file=sys.stderr,
                flush=True,
            )
    text = report(rows, args.workers, args.seed, limits)
    if args.output == "-":
        print(text)
    elif args.output == "docs":
        write_section("scheduler", text)
    else:
        Path(args.output).write_text(text + "\n")
    return 1 if any(r.jalon.invalid or (r.peer and r.peer.invalid) for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
