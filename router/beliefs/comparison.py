"""Compare two belief systems under a mapping: figures, nulls, robustness, verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import Location, SpecError
from .dispositions import Dispositions, compare_dispositions, situations_and_actions
from .measures import FEATURES, Figures, IntArray, Scorer, Side, figures_of
from .model import BeliefSystem, FloatArray, Mapping, Pair
from .nulls import Null, UnrelatedRun, random_mappings, single_threaded
from .search import SearchSettings, search_mapping

VERDICTS = ("converged", "explained-by-mapping-freedom", "not-converged")
ALPHA = 0.05
DRAWS = 200
JITTER = 0.1  #: standard deviation of the weight jitter in robustness draws
#: rows × concepts settled per system in one robustness draw; above it each draw settles
#: a random subset of the situations
DRAW_BUDGET = 6_000
FIGURE_NAMES = ("overall", "features", "edges", "weights", "distance_ratio", "dispositions")

CAVEAT = (
    "What these figures do not say: the two files are models someone wrote, readings of "
    "traditions and not the traditions; a verdict is about the models. Agreement is "
    "measured only on what the files declare (kinds, values, signed edges), so traditions "
    "can agree or differ in ways the files do not encode. The nulls ask whether the "
    "freedom of choosing a correspondence explains the agreement; they do not ask "
    "whether the correspondence is historically or conceptually right, and a p-value is "
    "not the probability that the traditions converge."
)


@dataclass(frozen=True)
class PairFeatures:
    a: str
    b: str
    a_values: tuple[float, ...]
    b_values: tuple[float, ...]
    agree: tuple[bool, ...]
    why: str | None = None

    @property
    def share(self) -> float:
        return sum(self.agree) / len(self.agree)

    def disagreeing(self) -> list[str]:
        return [f.name for f, ok in zip(FEATURES, self.agree) if not ok]


@dataclass(frozen=True)
class Comparison:
    """What ``compare`` found; ``to_dict()`` for JSON, ``explain()`` for text."""

    a: BeliefSystem
    b: BeliefSystem
    mapping: Mapping
    searched: bool
    search_reason: str
    figures: Figures
    dispositions: Dispositions
    pairs: tuple[PairFeatures, ...]
    random: Null
    unrelated: Null
    intervals: dict[str, tuple[float, float] | None]
    verdict: str
    seed: int
    draws: int
    edge_agreement: dict[tuple[str, str], bool] = field(default_factory=dict)
    b_edge_agreement: dict[tuple[str, str], bool] = field(default_factory=dict)

    @property
    def p_value(self) -> float:
        return self.unrelated.p_value

    @property
    def p_value_random(self) -> float:
        return self.random.p_value

    @property
    def adjusted(self) -> float:
        """Observed overall minus the unrelated null's mean best."""
        return self.figures.overall - self.unrelated.mean

    def agreement(self) -> dict[str, float | None]:
        f = self.figures
        d = self.dispositions
        return {
            "overall": f.overall, "features": f.features, "edges": f.edges,
            "weights": f.weights, "distance_ratio": f.distance_ratio,
            "dispositions": d.share, "dispositions_rank": d.rank, "coverage": f.coverage,
        }

    def to_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(float(x), 6)

        return {
            "version": 1,
            "a": self.a.name,
            "b": self.b.name,
            "verdict": self.verdict,
            "p_value": r(self.p_value),
            "p_value_random": r(self.p_value_random),
            "adjusted": r(self.adjusted),
            "searched": self.searched,
            "search_reason": self.search_reason,
            "mapping": [{"a": p.a, "b": p.b} for p in self.mapping.pairs],
            "agreement": {k: r(v) for k, v in self.agreement().items()},
            "nulls": {"random": self.random.to_dict(), "unrelated": self.unrelated.to_dict()},
            "intervals": {k: None if v is None else [r(v[0]), r(v[1])]
                          for k, v in self.intervals.items()},
            "tolerances": {f.name: f.tolerance for f in FEATURES},
            "pairs": [
                {"a": p.a, "b": p.b, "agree": r(p.share),
                 "features": {f.name: {"a": r(va), "b": r(vb), "agree": ok}
                              for f, va, vb, ok in zip(FEATURES, p.a_values, p.b_values, p.agree)}}
                for p in self.pairs
            ],
            "disagreeing_features": [
                {"a": p.a, "b": p.b, "features": p.disagreeing()} for p in self.pairs if p.disagreeing()
            ],
            "dispositions": {
                "share": r(self.dispositions.share), "rank": r(self.dispositions.rank),
                "note": self.dispositions.note,
                "situations": [
                    {"a": self.a.concepts[s.a].id, "b": self.b.concepts[s.b].id,
                     "favoured_a": None if s.favoured_a is None else self.a.concepts[s.favoured_a].id,
                     "favoured_b": None if s.favoured_b is None else self.b.concepts[s.favoured_b].id,
                     "agree": s.agree, "rank": r(s.rank)}
                    for s in self.dispositions.situations
                ],
            },
            "edges": {"matched": self.figures.matched_edges, "a": self.figures.edges_a,
                      "b": self.figures.edges_b},
            "seed": self.seed,
            "draws": self.draws,
        }

    def explain(self) -> str:
        f = self.figures
        d = self.dispositions
        lines = [
            f"{self.a.name} vs {self.b.name}: {self.verdict}",
            f"mapping: {len(self.mapping)} pairs ({self.search_reason})",
            f"overall agreement {f.overall:.3f} (features {f.features:.3f} × coverage {f.coverage:.3f}, "
            f"edges {f.edges:.3f}, weights {f.weights:.3f}); distance ratio {f.distance_ratio:.3f}",
            "dispositions: " + (f"{d.share:.3f} of {len(d.situations)} situations favour corresponding actions"
                                + (f", rank agreement {d.rank:.3f}" if d.rank is not None else "")
                                if d.share is not None else f"not measured ({d.note})"),
            f"random mappings: mean {self.random.mean:.3f}, 95th percentile {self.random.p95:.3f}, "
            f"p = {self.p_value_random:.3f} (k = {self.random.k})",
            f"unrelated systems: mean best {self.unrelated.mean:.3f}, 95th percentile "
            f"{self.unrelated.p95:.3f}, p = {self.p_value:.3f} (k = {self.unrelated.k})",
            f"mapping-freedom-adjusted score: {self.adjusted:+.3f}",
            "",
            CAVEAT,
        ]
        return "\n".join(lines)


class _Perturber:
    """Robustness draws of one system's weights: each edge kept with probability ``p``
    and its weight jittered by N(0, JITTER), clipped to [-1, 1]."""

    def __init__(self, system: BeliefSystem, w: FloatArray) -> None:
        self.shape = w.shape
        self.rows, self.cols = np.nonzero(w)
        self.w = w[self.rows, self.cols]
        self.p = system.confidence()[self.rows, self.cols]

    def draw(self, rng: np.random.Generator) -> FloatArray:
        keep = rng.random(self.w.size) < self.p
        jitter = np.clip(self.w + rng.normal(0.0, JITTER, self.w.size), -1.0, 1.0)
        out: FloatArray = np.zeros(self.shape)
        out[self.rows[keep], self.cols[keep]] = jitter[keep]
        return out


def _intervals(a: BeliefSystem, b: BeliefSystem, side_a: Side, side_b: Side, ia: IntArray,
               ib: IntArray, sit: IntArray, act: IntArray, draws: int,
               rng: np.random.Generator) -> dict[str, tuple[float, float] | None]:
    rows: dict[str, list[float]] = {k: [] for k in FIGURE_NAMES}
    n = max(a.n, b.n)
    per_draw = max(1, min(len(sit), DRAW_BUDGET // max(1, (len(act) + 1) * n)))
    draw_a, draw_b = _Perturber(a, side_a.w), _Perturber(b, side_b.w)
    for _ in range(draws):
        wa = draw_a.draw(rng)
        wb = draw_b.draw(rng)
        sa, sb = side_a.reweighted(wa), side_b.reweighted(wb)
        fig = figures_of(sa, sb, ia, ib)
        for name in FIGURE_NAMES[:-1]:
            rows[name].append(float(getattr(fig, name)))
        s = sit if per_draw >= len(sit) else np.sort(rng.choice(sit, per_draw, replace=False))
        d = compare_dispositions(wa, sa.values, wb, sb.values, ia, ib, s, act)
        if d.share is not None:
            rows["dispositions"].append(d.share)
    return {k: (float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))) if v else None
            for k, v in rows.items()}


def _check_edges(system: BeliefSystem) -> None:
    if not system.edges:
        raise SpecError(f"`{system.name}` has no causal edges, so there is no structure to compare",
                        at=Location(system.file) if system.file else None,
                        hint="add `causal` edges to the file")


def _edge_agreement(system: BeliefSystem, other_w: FloatArray,
                    partner: dict[int, int]) -> dict[tuple[str, str], bool]:
    """For each edge of ``system``: whether the other system has an edge of the same sign
    between the partners of its two ends."""
    out: dict[tuple[str, str], bool] = {}
    for e in system.edges:
        i, j = system.index(e.source), system.index(e.target)
        ok = i in partner and j in partner and np.sign(other_w[partner[i], partner[j]]) == np.sign(e.w)
        out[(e.source, e.target)] = bool(ok)
    return out


def compare(
    a: BeliefSystem,
    b: BeliefSystem,
    mapping: Mapping | None = None,
    *,
    null: int = 99,
    seed: int = 0,
    draws: int = DRAWS,
    settings: SearchSettings = SearchSettings(),
    workers: int | None = None,
) -> Comparison:
    """Judge ``mapping`` between ``a`` and ``b`` (or find one when it is None); ``null``
    samples in each null, ``draws`` robustness draws, everything seeded by ``seed``."""
    with single_threaded():
        return _compare(a, b, mapping, null, seed, draws, settings, workers)


def _compare(a: BeliefSystem, b: BeliefSystem, mapping: Mapping | None, null: int, seed: int,
             draws: int, settings: SearchSettings, workers: int | None) -> Comparison:
    _check_edges(a)
    _check_edges(b)
    if null < 1:
        raise SpecError(f"the number of null samples must be at least 1, not `{null}`")
    root = np.random.SeedSequence(seed)
    s_search, s_random, s_unrelated, s_draws = root.spawn(4)
    side_a, side_b = Side.of(a), Side.of(b)
    scorer = Scorer(side_a, side_b)
    if mapping is None:
        ia, ib = search_mapping(scorer, np.random.default_rng(s_search), settings)
        if len(ia) == 0:
            raise SpecError("the search found no pairs: the systems share no concept kind")
        order = np.argsort(ia)
        ia, ib = ia[order], ib[order]
        mapping = Mapping(tuple(Pair(a.concepts[i].id, b.concepts[j].id) for i, j in zip(ia, ib)),
                          source=a.name, target=b.name)
        searched, reason = True, "found by search"
    else:
        mapping.check(a, b)
        if len(mapping) == 0:
            raise SpecError("the mapping pairs no concepts, so there is nothing to compare",
                            at=Location(mapping.file) if mapping.file else None,
                            hint="add `pairs`, or leave the mapping out to search for one")
        idx = mapping.as_indices(a, b)
        ia = np.array([i for i, _ in idx], dtype=np.int64)
        ib = np.array([j for _, j in idx], dtype=np.int64)
        searched, reason = False, f"as given{' in ' + mapping.file if mapping.file else ''}"
    figures = scorer.score(ia, ib)
    sit, act = situations_and_actions(side_a.kinds, side_b.kinds, ia, ib)
    # worker processes (when the null is big enough for them) search the unrelated
    # systems while this process does the rest
    run = UnrelatedRun(side_a, side_b, null, s_unrelated, figures.overall, settings, workers)
    try:
        disp = compare_dispositions(side_a.w, side_a.values, side_b.w, side_b.values, ia, ib,
                                    sit, act)
        rnd = random_mappings(scorer, ia, null, np.random.default_rng(s_random), figures.overall)
        intervals: dict[str, tuple[float, float] | None] = (
            _intervals(a, b, side_a, side_b, ia, ib, sit, act, draws, np.random.default_rng(s_draws))
            if draws > 0 else {k: None for k in FIGURE_NAMES})
    except BaseException:
        run.close()
        raise
    unrel = run.result()
    if unrel.p_value <= ALPHA:
        verdict = "converged"
    elif rnd.p_value <= ALPHA:
        verdict = "explained-by-mapping-freedom"
    else:
        verdict = "not-converged"
    whys = {(p.a, p.b): p.why for p in mapping.pairs}
    pairs = tuple(
        PairFeatures(a.concepts[i].id, b.concepts[j].id,
                     tuple(float(x) for x in side_a.features[i]),
                     tuple(float(x) for x in side_b.features[j]),
                     tuple(bool(x) for x in scorer.agree[i, j]),
                     whys.get((a.concepts[i].id, b.concepts[j].id)))
        for i, j in zip(ia.tolist(), ib.tolist()))
    to_b = dict(zip(ia.tolist(), ib.tolist()))
    to_a = {v: k for k, v in to_b.items()}
    ea = _edge_agreement(a, side_b.w, to_b)
    eb = _edge_agreement(b, side_a.w, to_a)
    return Comparison(a, b, mapping, searched, reason, figures, disp, pairs, rnd, unrel,
                      intervals, verdict, seed, draws, ea, eb)
