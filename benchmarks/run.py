"""Run every benchmark in this folder and print its figures.

Usage: python benchmarks/run.py [name ...]   (e.g. route, audit, words, converge)
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    scripts = {script.stem.removeprefix("bench_"): script for script in sorted(HERE.glob("bench_*.py"))}
    wanted = sys.argv[1:] or list(scripts)
    unknown = [name for name in wanted if name not in scripts]
    if unknown:
        print(f"error: no benchmark named {', '.join(unknown)}; there are {', '.join(scripts)}", file=sys.stderr)
        raise SystemExit(2)
    sys.path.insert(0, str(HERE.parent))
    for name in wanted:
        print(f"== {name}", flush=True)
        sys.argv = [str(scripts[name])]  # each benchmark reads its own options, not ours
        runpy.run_path(str(scripts[name]), run_name="__main__")
        print(flush=True)


if __name__ == "__main__":
    main()
