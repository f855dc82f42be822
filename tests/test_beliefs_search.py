"""Search, nulls and verdicts on systems whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from router.beliefs import BeliefSystem, compare
from router.beliefs.generate import random_system, relabelled, rewire, with_core
from router.beliefs.measures import Scorer, Side
from router.beliefs.search import _layout, _SwapState


def test_swap_gains_match_brute_force() -> None:
    rng = np.random.default_rng(3)
    a, b = Side.of(random_system(13, 30, rng)), Side.of(random_system(11, 24, rng, prefix="z"))
    scorer = Scorer(a, b)
    lay = _layout(scorer, None)
    perm = np.arange(lay.n)
    for s, e in lay.blocks:
        perm[s:e] = s + rng.permutation(e - s)
    state = _SwapState(lay, scorer, perm)

    def exact(p: np.ndarray) -> float:
        keep = lay.ar & lay.br[p]
        return scorer.score(lay.a_index[keep], lay.b_index[p[keep]]).overall

    assert state.value == pytest.approx(exact(perm))
    for s, e in lay.blocks:
        gains = state.gains(s, e)
        for i in range(e - s):
            for j in range(i + 1, e - s):
                p = perm.copy()
                p[s + i], p[s + j] = p[s + j], p[s + i]
                assert gains[i, j] == pytest.approx(exact(p) - state.value, abs=1e-9)


def test_rewire_keeps_degrees_and_signs() -> None:
    rng = np.random.default_rng(0)
    w = random_system(20, 60, rng).matrix()
    r = rewire(w, rng)
    assert ((w != 0).sum(axis=0) == (r != 0).sum(axis=0)).all()
    assert ((w != 0).sum(axis=1) == (r != 0).sum(axis=1)).all()
    assert (w > 0).sum() == (r > 0).sum() and (w < 0).sum() == (r < 0).sum()
    assert not np.diag(r).any()
    assert (r != w).any()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_relabelled_copy_is_found_and_converged(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = random_system(16, 36, rng)
    b, truth = relabelled(a, rng, jitter=0.05)
    result = compare(a, b, null=39, seed=seed, draws=20)
    found = sum(truth[p.a] == p.b for p in result.mapping.pairs)
    assert found / a.n >= 0.9
    assert result.verdict == "converged"
    assert result.p_value <= 0.05


def test_shared_core_is_found() -> None:
    """A 10-concept core planted in two systems padded with 8 unrelated concepts each."""
    rng = np.random.default_rng(7)
    found_shares = []
    for _ in range(4):
        core = random_system(10, 24, rng, prefix="k")
        a = with_core(core, 8, 14, 4, rng, prefix="a_", name="a")
        b = with_core(core, 8, 14, 4, rng, prefix="b_", name="b")
        result = compare(a, b, null=9, draws=0, seed=1)
        hits = sum(p.a.startswith("a_k") and p.b == "b_" + p.a[2:] for p in result.mapping.pairs)
        found_shares.append(hits / core.n)
    # the floor is well under what is seen (see docs/beliefs.md), well above chance (~0.1)
    assert float(np.mean(found_shares)) >= 0.6


def test_calibration_unrelated_pairs_rarely_converge() -> None:
    """100 pairs of independent random systems of the same shape: `converged` (p ≤ 0.05
    against the unrelated null) about 5 % of the time at most."""
    converged = 0
    for k in range(100):
        rng = np.random.default_rng(1000 + k)
        n = 10 + k % 6
        edges = int(2.2 * n)
        a = random_system(n, edges, rng)
        b = random_system(n, edges, rng, prefix="z")
        result = compare(a, b, null=19, draws=0, seed=k)
        converged += result.verdict == "converged"
    assert converged <= 10  # 5 % expected; 10 leaves room for sampling noise


def test_given_mapping_is_judged_not_searched() -> None:
    a = BeliefSystem.create("a", [("p", "principle", 1), ("x", "action", 0.5), ("s", "state", 1)],
                            [("p", "x", 0.8), ("x", "s", 0.7)])
    from router.beliefs import Mapping

    m = Mapping.create([("p", "p"), ("x", "x"), ("s", "s")])
    result = compare(a, a, m, null=5, draws=5)
    assert not result.searched
    assert result.figures.edges == 1.0 and result.figures.features == 1.0
    d = result.to_dict()
    for key in ("overall", "features", "edges", "distance_ratio", "dispositions"):
        assert key in d["agreement"]
    assert d["agreement"]["distance_ratio"] == 0.0
    assert set(d["nulls"]) == {"random", "unrelated"}
    assert "converged" in result.explain() or result.verdict in result.explain()
