"""Time `converge --search --null 99` (robustness intervals included) on random systems.

    .venv/bin/python benchmarks/bench_converge.py

Targets: at most 10 s for two 200-concept systems, at most 1 s for two 15-concept ones.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from router.beliefs import compare  # noqa: E402
from router.beliefs.generate import random_system, relabelled  # noqa: E402


def bench(n: int, edges: int, kind: str, repeat: int) -> None:
    times = []
    result = None
    for r in range(repeat):
        rng = np.random.default_rng(100 + r)
        a = random_system(n, edges, rng)
        b = relabelled(a, rng)[0] if kind == "relabelled" else random_system(n, edges, rng, prefix="z")
        t = time.perf_counter()
        result = compare(a, b, null=99, seed=0, draws=200)
        times.append(time.perf_counter() - t)
    assert result is not None
    print(f"{n:>4} concepts, {edges:>4} edges, {kind:<10}: median {np.median(times):6.2f} s, "
          f"max {max(times):6.2f} s over {repeat}  (last: {result.verdict}, overall "
          f"{result.figures.overall:.3f}, unrelated mean {result.unrelated.mean:.3f}, "
          f"p {result.p_value:.2f})")


if __name__ == "__main__":
    bench(15, 33, "relabelled", 5)
    bench(15, 33, "unrelated", 5)
    bench(200, 600, "relabelled", 2)
    bench(200, 600, "unrelated", 2)
