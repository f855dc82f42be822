"""Invariant features of concepts and the agreement figures of a mapping.

Figures for a mapping between systems A and B (m mapped pairs):

* ``features``: over mapped pairs, the share of the five concept features that agree
  within their tolerance (see :data:`FEATURES`).
* ``coverage``: m / min(|A|, |B|).
* ``edges``: signed-edge F1 over edges among mapped concepts: an edge agrees when the
  corresponding edge exists on the other side with the same sign.
* ``weights``: 2 Σ a_ij b_π(i)π(j) / (Σ a² + Σ b²) over all edges of both maps (clipped
  at 0): weighted agreement in which strengths count and unmapped edges count as missing.
* ``distance_ratio``: the Langfield-Smith & Wirth (1992) distance ratio between the two
  maps, mapped concepts common and the rest unique to their map (0 = same map).
* ``overall = (features · coverage + edges + weights) / 3``: the figure the search
  maximises and the nulls compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .model import KINDS, BeliefSystem, FloatArray

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Damping of total effects: effect of a chain of length k is δ^k · product of weights.
DAMPING = 0.5
#: Effects are only summed while the damped series converges: δ·ρ(|W|) is kept ≤ this.
MAX_DAMPED_RADIUS = 0.9
#: A goodness below this (in absolute value) counts as neutral when comparing signs.
NEUTRAL_GOODNESS = 0.05


@dataclass(frozen=True)
class Feature:
    name: str
    tolerance: float
    meaning: str


#: The five invariant features of a concept and the tolerance within which two agree.
FEATURES: tuple[Feature, ...] = (
    Feature("out", 0.15, "share of the other concepts it causes directly"),
    Feature("in", 0.15, "share of the other concepts that cause it directly"),
    Feature("reach", 0.25, "share of the other concepts it reaches through chains"),
    Feature("value", 0.40, "its own value"),
    Feature("good", 0.50, "tanh of its total damped effect on what the system values; "
                          "signs must also agree (|x| < 0.05 counts as neutral)"),
)
TOLERANCES: FloatArray = np.array([f.tolerance for f in FEATURES])


def damping_for(abs_w: FloatArray) -> float:
    """δ = min(0.5, 0.9 / ρ̂) with ρ̂ a guaranteed upper bound on the spectral radius of
    |W| (a Collatz-Wielandt bound after a few power steps)."""
    n = abs_w.shape[0]
    if n == 0 or not abs_w.any():
        return DAMPING
    x = np.ones(n)
    m = abs_w + 1e-9
    bound = float(np.max(m.sum(axis=1)))
    for _ in range(12):
        y = m @ x
        bound = min(bound, float(np.max(y / x)))
        x = y / y.max()
    if bound <= 0:
        return DAMPING
    return min(DAMPING, MAX_DAMPED_RADIUS / bound)


def concept_features(w: FloatArray, values: FloatArray, damping: float | None = None,
                     reach: FloatArray | None = None) -> FloatArray:
    """n×5 array of (out, in, reach, value, good) for a weight matrix and values
    (``reach`` may be passed when it is known for the same edge set)."""
    n = w.shape[0]
    denom = max(n - 1, 1)
    nz = w != 0
    abs_w = np.abs(w)
    d = damping_for(abs_w) if damping is None else damping
    eye = np.eye(n)
    if reach is None:
        # entries of Σ_k (δ|W|)^k are positive exactly where a chain exists
        reach_m = np.linalg.solve(eye - d * abs_w, eye) - eye if n else np.zeros((0, 0))
        reach = ((reach_m > 1e-12) & ~np.eye(n, dtype=bool)).sum(axis=1) / denom
    # total effect on values: Σ_k (δW)^k v
    good = np.tanh(np.linalg.solve(eye - d * w, values) - values) if n else np.zeros(0)
    out = np.column_stack([nz.sum(axis=1) / denom, nz.sum(axis=0) / denom, reach, values, good])
    return out.astype(float)


def _agreement(fa: FloatArray, fb: FloatArray) -> npt.NDArray[np.bool_]:
    """Booleans, features on the last axis (the other axes broadcast): feature f of
    ``fa`` agrees with that of ``fb``."""
    ok = np.abs(fa - fb) <= TOLERANCES + 1e-9
    ga, gb = fa[..., 4], fb[..., 4]
    sa = np.where(np.abs(ga) < NEUTRAL_GOODNESS, 0, np.sign(ga))
    sb = np.where(np.abs(gb) < NEUTRAL_GOODNESS, 0, np.sign(gb))
    ok[..., 4] &= sa == sb
    return ok


def feature_agreement(fa: FloatArray, fb: FloatArray) -> npt.NDArray[np.bool_]:
    """nA×nB×5 booleans: feature f of concept i (A) agrees with that of concept k (B)."""
    return _agreement(fa[:, None, :], fb[None, :, :])


def pair_agreement(fa: FloatArray, fb: FloatArray) -> npt.NDArray[np.bool_]:
    """m×5 booleans: the features of row k of ``fa`` and of ``fb`` agree."""
    return _agreement(fa, fb)


@dataclass
class Side:
    """What the figures need of one system, computed once."""

    w: FloatArray
    values: FloatArray
    kinds: IntArray
    features: FloatArray

    @property
    def n(self) -> int:
        return int(self.w.shape[0])

    @classmethod
    def of(cls, system: BeliefSystem, w: FloatArray | None = None) -> Side:
        mat = system.matrix() if w is None else w
        values = system.values()
        kinds = np.array([KINDS.index(k) for k in system.kinds()], dtype=np.int64)
        return cls(mat, values, kinds, concept_features(mat, values))

    @classmethod
    def from_arrays(cls, w: FloatArray, values: FloatArray, kinds: IntArray) -> Side:
        return cls(w, values, kinds, concept_features(w, values))

    def reweighted(self, w: FloatArray) -> Side:
        """The same concepts with weights ``w``; reach is reused when the edge set is
        unchanged."""
        same = bool(np.array_equal(w != 0, self.w != 0))
        reach = self.features[:, 2] if same else None
        return Side(w, self.values, self.kinds, concept_features(w, self.values, reach=reach))


@dataclass(frozen=True)
class Figures:
    """Agreement figures of one mapping (all in [0, 1]; ``distance_ratio`` 0 = same)."""

    overall: float
    features: float
    coverage: float
    edges: float
    weights: float
    distance_ratio: float
    pairs: int
    matched_edges: int
    edges_a: int
    edges_b: int


def edge_sums(wa: FloatArray, wb: FloatArray) -> tuple[int, int, int, float]:
    """Edges of the same sign, edges of A, edges of B and Σ a·b between two mapped
    weight matrices (``wa[k, l]`` and ``wb[k, l]`` correspond)."""
    matched = int(((wa > 0) & (wb > 0)).sum() + ((wa < 0) & (wb < 0)).sum())
    return matched, int((wa != 0).sum()), int((wb != 0).sum()), float((wa * wb).sum())


def edge_f1(matched: float, ea: float, eb: float) -> float:
    return 2.0 * matched / (ea + eb) if ea + eb > 0 else 0.0


def weight_agreement(dot: float, sq: float) -> float:
    return max(0.0, 2.0 * dot / sq) if sq > 0 else 0.0


def overall_of(feature_sum: float, cmin: int, matched: float, ea: float, eb: float,
               dot: float, sq: float) -> float:
    return (feature_sum / max(cmin, 1) + edge_f1(matched, ea, eb) + weight_agreement(dot, sq)) / 3.0


def figures_of(a: Side, b: Side, ia: IntArray, ib: IntArray,
               feature_sum: float | None = None) -> Figures:
    """Exact figures of the mapping ``ia[k] ↔ ib[k]``."""
    m = len(ia)
    if feature_sum is None:
        feature_sum = float(pair_agreement(a.features[ia], b.features[ib]).mean(axis=1).sum()) if m else 0.0
    cmin = min(a.n, b.n)
    sq = float((a.w ** 2).sum() + (b.w ** 2).sum())
    abs_total = float(np.abs(a.w).sum() + np.abs(b.w).sum())
    cells = a.n * (a.n - 1) + b.n * (b.n - 1)
    wa = a.w[np.ix_(ia, ia)]
    wb = b.w[np.ix_(ib, ib)]
    matched, ea, eb, dot = edge_sums(wa, wb)
    overlap = float((2 * np.minimum(np.abs(wa), np.abs(wb)) * (wa * wb > 0)).sum())
    dr = (abs_total - overlap) / cells if cells else 0.0
    return Figures(
        overall=overall_of(feature_sum, cmin, matched, ea, eb, dot, sq),
        features=feature_sum / m if m else 0.0,
        coverage=m / cmin if cmin else 0.0,
        edges=edge_f1(matched, ea, eb), weights=weight_agreement(dot, sq),
        distance_ratio=float(dr), pairs=m, matched_edges=matched, edges_a=ea, edges_b=eb,
    )


class Scorer:
    """Exact figures of any mapping between two prepared sides."""

    def __init__(self, a: Side, b: Side) -> None:
        self.a, self.b = a, b
        self.agree = feature_agreement(a.features, b.features)
        self.phi: FloatArray = self.agree.mean(axis=2)
        self.cmin = min(a.n, b.n)
        self.sq = float((a.w ** 2).sum() + (b.w ** 2).sum())
        self.abs_total = float(np.abs(a.w).sum() + np.abs(b.w).sum())
        self.cells = a.n * (a.n - 1) + b.n * (b.n - 1)

    def score(self, ia: Sequence[int] | IntArray, ib: Sequence[int] | IntArray) -> Figures:
        ia_ = np.asarray(ia, dtype=np.int64)
        ib_ = np.asarray(ib, dtype=np.int64)
        return figures_of(self.a, self.b, ia_, ib_, float(self.phi[ia_, ib_].sum()))

    def overall(self, ia: IntArray, ib: IntArray) -> float:
        matched, ea, eb, dot = edge_sums(self.a.w[np.ix_(ia, ia)], self.b.w[np.ix_(ib, ib)])
        return overall_of(float(self.phi[ia, ib].sum()), self.cmin, matched, ea, eb, dot, self.sq)
