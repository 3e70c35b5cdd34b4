"""``make bench``: run the benchmarks and write their figures into docs/benchmarks.md.

python -m bench                 # every benchmark (the scheduler protocol takes ~20 minutes)
python -m bench capacity        # one or more by name
python -m bench --list
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: name → module with a ``main()``; in the order of the planning chain.
BENCHMARKS = {
    "masterdata": "bench.masterdata",
    "inventory": "bench.inventory",
    "mrp": "bench.mrp",
    "capacity": "bench.capacity",
    "scheduler": "bench.scheduler.protocol",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(BENCHMARKS))
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {list(BENCHMARKS)}")
    for name in args.names or list(BENCHMARKS):
        print(f"== {name}", flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        if name == "scheduler":
            module.main(["--output", "docs"])
        else:
            module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
