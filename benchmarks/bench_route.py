"""Routing speed: one context against the shipped catalog in-process (explanation
included), and the cold start of `discern route --json`, with and without a description."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _contexts import CONTEXTS

from router import Router  # noqa: E402


def per_call(fn, repeat: int = 2000) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def main() -> None:
    start = time.perf_counter()
    router = Router.load()
    load_ms = (time.perf_counter() - start) * 1000
    print(f"policy load and compile ({len(router.policy.tools)} tools): {load_ms:.1f} ms")
    for context in CONTEXTS:
        router.route(context).to_dict()
    route_only = per_call(lambda: [router.route(c) for c in CONTEXTS])
    explained = per_call(lambda: [router.route(c).to_dict() for c in CONTEXTS])
    text = per_call(lambda: [router.route(c).explain() for c in CONTEXTS], repeat=500)
    n = len(CONTEXTS)
    print(f"route, median per context:                 {statistics.median(route_only) / n:7.1f} us")
    print(f"route + to_dict (explanation), median:     {statistics.median(explained) / n:7.1f} us")
    print(f"route + explain() text, median:            {statistics.median(text) / n:7.1f} us")
    env = {**os.environ, "DISCERN_NO_AUDIT": "1"}
    command = [sys.executable, str(ROOT / "cli.py"), "route", "--set", "goal=decide", "--set", "stakes=high", "--json"]
    colds = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        colds.append((time.perf_counter() - start) * 1000)
    bare = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True)
        bare.append((time.perf_counter() - start) * 1000)
    imports = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import typer, rich, pydantic, yaml, lark"], capture_output=True, check=True)
        imports.append((time.perf_counter() - start) * 1000)
    print(f"cold `discern route --json`, median:        {statistics.median(colds):7.0f} ms")
    print(f"  of which python start-up:                 {statistics.median(bare):7.0f} ms")
    print(f"  python + importing typer, rich, pydantic, yaml, lark: {statistics.median(imports):.0f} ms")
    # a description: the screen, the features, TF-IDF matching and the learned screen, whose
    # fitted numbers come from the cache after the first run (DISCERN_NO_CACHE=1 refits them)
    words = [sys.executable, str(ROOT / "cli.py"), "route", "--json", "--set",
             "description=I keep replaying the fight with my landlord and I have to decide whether to move out"]
    for label, extra in (("from the cache", {}), ("no cache (refits the learned screen)", {"DISCERN_NO_CACHE": "1"})):
        runs = []
        subprocess.run(words, env={**env, **extra}, capture_output=True, check=True)  # fills the cache, warms the disk
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run(words, env={**env, **extra}, capture_output=True, check=True)
            runs.append((time.perf_counter() - start) * 1000)
        print(f"cold `discern route --set description=... --json`, {label}, median: {statistics.median(runs):.0f} ms")


if __name__ == "__main__":
    main()
