"""How much agreement the freedom of choosing a mapping produces by itself.

* ``random``: K random one-to-one mappings between the two systems, as many pairs of
  each kind as the judged mapping has, each scored as it stands (no search).
* ``unrelated``: K systems of B's shape with nothing to do with A (B's concepts, kinds
  and values kept, its edges rewired by degree-keeping double-edge swaps, so the count
  of each sign and every in- and out-degree are kept), each given the best mapping the
  same search finds against A. A's side is prepared once and reused.

Both compare ``overall``. p = (1 + #{null ≥ observed}) / (K + 1).
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .generate import rewire
from .measures import IntArray, Scorer, Side
from .model import FloatArray
from .search import SearchSettings, search_mapping


@dataclass(frozen=True)
class Null:
    name: str
    k: int
    samples: tuple[float, ...]
    observed: float

    @property
    def mean(self) -> float:
        return float(np.mean(self.samples)) if self.samples else float("nan")

    @property
    def p95(self) -> float:
        return float(np.quantile(self.samples, 0.95)) if self.samples else float("nan")

    @property
    def p_value(self) -> float:
        ge = sum(1 for s in self.samples if s >= self.observed - 1e-12)
        return (1 + ge) / (len(self.samples) + 1)

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k, "mean": round(self.mean, 6), "p95": round(self.p95, 6),
                "p_value": round(self.p_value, 6)}


def random_mappings(scorer: Scorer, ia: IntArray, k: int, rng: np.random.Generator,
                    observed: float) -> Null:
    """K random kind-keeping one-to-one mappings with as many pairs of each kind as the
    judged mapping (by the kind of its A side)."""
    a, b = scorer.a, scorer.b
    samples = []
    by_kind = [(int(kind), int((a.kinds[ia] == kind).sum())) for kind in range(4)]
    pools_a = [np.flatnonzero(a.kinds == kind) for kind in range(4)]
    pools_b = [np.flatnonzero(b.kinds == kind) for kind in range(4)]
    for _ in range(k):
        xa: list[IntArray] = []
        xb: list[IntArray] = []
        for kind, count in by_kind:
            c = min(count, len(pools_a[kind]), len(pools_b[kind]))
            if c:
                xa.append(rng.choice(pools_a[kind], size=c, replace=False))
                xb.append(rng.choice(pools_b[kind], size=c, replace=False))
        if xa:
            samples.append(scorer.overall(np.concatenate(xa), np.concatenate(xb)))
        else:
            samples.append(0.0)
    return Null("random", k, tuple(samples), observed)


# the unrelated null runs in worker processes when it is big enough to pay for them
_SHARED: dict[str, Any] = {}


def _one_unrelated(seed: np.random.SeedSequence) -> float:
    a: Side = _SHARED["a"]
    b: Side = _SHARED["b"]
    settings: SearchSettings = _SHARED["settings"]
    rng = np.random.default_rng(seed)
    other = Side.from_arrays(rewire(b.w, rng), b.values, b.kinds)
    scorer = Scorer(a, other)
    ia, ib = search_mapping(scorer, rng, settings)
    return scorer.overall(ia, ib)


def _batch(seeds: list[np.random.SeedSequence]) -> list[float]:
    with single_threaded():
        return [_one_unrelated(s) for s in seeds]


def single_threaded() -> contextlib.AbstractContextManager[object]:
    """Keep BLAS to one thread: the matrices here are small, so threads only contend
    (and worker processes would oversubscribe the cores)."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # ships no type information
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    limits: contextlib.AbstractContextManager[object] = threadpool_limits(limits=1)
    return limits


def workers_for(k: int, n: int) -> int:
    """Processes for the unrelated null: 1 unless the work is large enough to pay for
    starting more (DISCERN_WORKERS overrides)."""
    env = os.environ.get("DISCERN_WORKERS")
    if env and env.isdigit():
        return max(1, int(env))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, 4)) if k * n * n > 2_000_000 else 1


class UnrelatedRun:
    """The unrelated null, started at once: with worker processes it runs while the
    caller does other work, and :meth:`result` collects it (serially, it runs there)."""

    def __init__(self, a: Side, b: Side, k: int, seed: np.random.SeedSequence, observed: float,
                 settings: SearchSettings, workers: int | None = None) -> None:
        self.k, self.observed = k, observed
        self.seeds = seed.spawn(k)
        self.procs = workers if workers is not None else workers_for(k, max(a.n, b.n))
        _SHARED.update(a=a, b=b, settings=settings)
        self.pool: ProcessPoolExecutor | None = None
        self.parts: list[Future[list[float]]] = []
        if self.procs > 1 and k > 1:
            import multiprocessing as mp

            try:
                ctx = mp.get_context("fork")
            except ValueError:
                return
            self.pool = ProcessPoolExecutor(max_workers=self.procs, mp_context=ctx)
            self.parts = [self.pool.submit(_batch, self.seeds[i::self.procs])
                          for i in range(self.procs)]

    def result(self) -> Null:
        try:
            if self.pool is None:
                samples = _batch(self.seeds)
            else:
                samples = [0.0] * self.k
                for i, part in enumerate(self.parts):
                    for j, value in enumerate(part.result()):
                        samples[i + j * self.procs] = value
        finally:
            self.close()
        return Null("unrelated", self.k, tuple(samples), self.observed)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
        _SHARED.clear()


def unrelated_systems(a: Side, b: Side, k: int, seed: np.random.SeedSequence, observed: float,
                      settings: SearchSettings, workers: int | None = None) -> Null:
    """K rewired copies of B, each searched against A with ``settings``."""
    return UnrelatedRun(a, b, k, seed, observed, settings, workers).result()


def as_array(values: tuple[float, ...]) -> FloatArray:
    return np.asarray(values, dtype=float)
