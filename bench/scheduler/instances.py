"""Readers for the benchmark files in /work/shared/benchmarks into the scheduler's own Problem.

Adapter rules (PROTOCOL.md): machines are named "M<index>" as in the file (0-indexed for jssp,
1-indexed for fjsp), jobs "J<index>" from 0, operations "O<index>" within the job; no setups, an
always-open calendar (no windows).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from services.scheduler.domain.model import Job, Objective, Operation, Option, Problem


#: The handbook's benchmark folder: ``shared/benchmarks`` beside the repository (override with
#: ``JALON_BENCHMARKS_DIR``).
def _benchmarks_dir() -> Path:
    given = os.environ.get("JALON_BENCHMARKS_DIR")
    if given:
        return Path(given)
    beside = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
    return beside if beside.exists() else Path("/work/shared/benchmarks")


BENCHMARKS = _benchmarks_dir()


def _numbers(text: str) -> list[int]:
    values: list[int] = []
    for line in text.splitlines():
        values.extend(int(x) for x in line.split("#", 1)[0].split())
    return values


def parse_jssp(path: Path) -> Problem:
    """JSPLIB / OR-Library job shop: ``n m`` then per job ``m`` pairs (machine, duration)."""
    values = _numbers(path.read_text())
    n, m = values[0], values[1]
    pos = 2
    jobs: list[Job] = []
    for j in range(n):
        ops: list[Operation] = []
        for k in range(m):
            machine, duration = values[pos], values[pos + 1]
            pos += 2
            ops.append(Operation(f"O{k}", (Option(f"M{machine}", duration),)))
        jobs.append(Job(f"J{j}", tuple(ops)))
    return Problem(tuple(jobs), tuple(f"M{i}" for i in range(m)), objective=(Objective.MAKESPAN,))


def parse_fjsp(path: Path) -> Problem:
    """Brandimarte .fjs: ``n m [avg]``; per job ``k`` ops, each ``a`` then ``a`` (machine, duration)."""
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    n, m = int(lines[0][0]), int(lines[0][1])
    jobs: list[Job] = []
    for j in range(n):
        values = [int(x) for x in lines[1 + j]]
        k, pos = values[0], 1
        ops: list[Operation] = []
        for o in range(k):
            alternatives = values[pos]
            pos += 1
            options: dict[str, int] = {}
            for _ in range(alternatives):
                machine, duration = f"M{values[pos]}", values[pos + 1]
                pos += 2
                options[machine] = min(duration, options.get(machine, duration))
            ops.append(Operation(f"O{o}", tuple(Option(mc, d) for mc, d in options.items())))
        jobs.append(Job(f"J{j}", tuple(ops)))
    return Problem(tuple(jobs), tuple(f"M{i}" for i in range(1, m + 1)), objective=(Objective.MAKESPAN,))


def parse_wt(path: Path, n: int, instance: int) -> Problem:
    """OR-Library wt: instance k (1-based) is the k-th block of 3n integers: p, w, d."""
    values = _numbers(path.read_text())
    base = (instance - 1) * 3 * n
    block = values[base : base + 3 * n]
    if len(block) != 3 * n:
        raise ValueError(f"{path} has no instance {instance} for n = {n}")
    p, w, d = block[:n], block[n : 2 * n], block[2 * n :]
    jobs = tuple(
        Job(f"J{j}", (Operation("O0", (Option("M0", p[j]),)),), due=d[j], weight=w[j]) for j in range(n)
    )
    return Problem(jobs, ("M0",), objective=(Objective.WEIGHTED_TARDINESS,))


def read_bks() -> dict[str, tuple[int, int]]:
    """Best known (lb, ub) per instance name: jssp names, fjsp names, and ``wt40#1`` style."""
    out: dict[str, tuple[int, int]] = {}
    for sub in ("jssp", "fjsp"):
        with (BENCHMARKS / sub / "bks.tsv").open() as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                out[row["name"]] = (int(row["lb"]), int(row["ub"]))
    with (BENCHMARKS / "tardiness" / "bks.tsv").open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            value = int(row["bks"])
            lb = value if row["orlib_status"] == "optimal" else 0
            out[f"{row['set']}#{row['instance']}"] = (lb, value)
    return out


def load(name: str) -> Problem:
    """An instance by protocol name: ``ft06``, ``mk01``, ``kacem_4x5``, ``la26_rdata``, ``wt40#1``."""
    if name.startswith("wt") and "#" in name:
        set_name, k = name.split("#")
        n = int(set_name[2:])
        return parse_wt(BENCHMARKS / "tardiness" / "orlib_smwt" / f"{set_name}.txt", n, int(k))
    jssp = BENCHMARKS / "jssp" / "instances" / f"{name}.txt"
    if jssp.exists():
        return parse_jssp(jssp)
    if name.startswith("mk"):
        return parse_fjsp(BENCHMARKS / "fjsp" / "instances" / "brandimarte" / f"{name}.fjs")
    if name.startswith("kacem"):
        return parse_fjsp(BENCHMARKS / "fjsp" / "instances" / "kacem" / f"{name}.fjs")
    for data in ("edata", "rdata", "vdata"):
        suffix = f"_{data}"
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            return parse_fjsp(BENCHMARKS / "fjsp" / "instances" / "hurink" / data / f"{base}.fjs")
    raise KeyError(name)
