"""Find a mapping that maximises ``overall`` agreement, keeping kinds.

The two systems are laid out kind by kind, each kind block padded with "absent"
placeholders on both sides (so a concept paired with a placeholder is left unmapped and
a shared core inside two larger systems can be found). The search is:

1. a Frank-Wolfe relaxation (the FAQ method of Vogelstein et al., 2015) of a smooth
   surrogate of ``overall`` (feature agreement, plus signed weights as a quadratic
   assignment term), from the barycentre and from random starts;
2. projection to a one-to-one mapping by linear assignment in each kind block;
3. local search by swaps on the exact ``overall``: the gain of every swap within a kind
   block is computed at once by joining the two systems' edge lists (O(n) per swap), the best
   disjoint improving swaps are applied, until none improves. Swapping a partner with a
   placeholder adds or drops a pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]  # scipy ships no type stubs
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]  # scipy ships no type stubs

from .measures import BoolArray, IntArray, Scorer, overall_of
from .model import FloatArray

#: below this many padded positions, dense products beat sparse ones
DENSE_BELOW = 160


@dataclass(frozen=True)
class SearchSettings:
    """How hard the search works (the same settings are used inside the nulls)."""

    #: Frank-Wolfe starts: the barycentre, then random ones (None: 3 for systems of up to
    #: 30 concepts, 2 up to 60, 1 above)
    restarts: int | None = None
    fw_iterations: int = 30
    swap_rounds: int = 400
    #: placeholders per kind block, as a share of the block (None: 1.0 for systems of up
    #: to 60 concepts, 0.5 above)
    slack: float | None = None


@dataclass
class _Layout:
    n: int
    blocks: list[tuple[int, int]]
    a_index: IntArray  # padded position -> A concept (-1 placeholder)
    b_index: IntArray
    apad: FloatArray
    bpad: FloatArray
    ar: BoolArray
    br: BoolArray
    phi: FloatArray


def _layout(scorer: Scorer, slack: float | None) -> _Layout:
    a, b = scorer.a, scorer.b
    share = slack if slack is not None else (1.0 if max(a.n, b.n) <= 60 else 0.5)
    a_index: list[int] = []
    b_index: list[int] = []
    blocks: list[tuple[int, int]] = []
    for kind in range(4):
        ia = np.flatnonzero(a.kinds == kind).tolist()
        ib = np.flatnonzero(b.kinds == kind).tolist()
        if not ia or not ib:
            continue
        size = max(len(ia), len(ib)) + int(math.ceil(share * max(len(ia), len(ib))))
        start = len(a_index)
        a_index += ia + [-1] * (size - len(ia))
        b_index += ib + [-1] * (size - len(ib))
        blocks.append((start, start + size))
    ai = np.array(a_index, dtype=np.int64)
    bi = np.array(b_index, dtype=np.int64)
    n = len(ai)
    ar, br = ai >= 0, bi >= 0
    apad = np.zeros((n, n))
    bpad = np.zeros((n, n))
    ra, rb = np.flatnonzero(ar), np.flatnonzero(br)
    apad[np.ix_(ra, ra)] = a.w[np.ix_(ai[ra], ai[ra])]
    bpad[np.ix_(rb, rb)] = b.w[np.ix_(bi[rb], bi[rb])]
    phi = np.zeros((n, n))
    phi[np.ix_(ra, rb)] = scorer.phi[np.ix_(ai[ra], bi[rb])]
    return _Layout(n, blocks, ai, bi, apad, bpad, ar, br, phi)


def _lap_blocks(lay: _Layout, score: FloatArray) -> IntArray:
    perm = np.arange(lay.n)
    for s, e in lay.blocks:
        rows, cols = linear_sum_assignment(score[s:e, s:e], maximize=True)
        perm[s + rows] = s + cols
    return perm


class _Grouped:
    """Items grouped by an integer key in [0, nkeys), to join other items on that key."""

    def __init__(self, keys: IntArray, nkeys: int) -> None:
        self.order = np.argsort(keys, kind="stable")
        self.ptr = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=nkeys))])

    def match(self, keys: IntArray) -> tuple[IntArray, IntArray]:
        """Index pairs (into ``keys``, into the grouped items) with equal keys."""
        start = self.ptr[keys]
        count = self.ptr[keys + 1] - start
        left = np.repeat(np.arange(len(keys)), count)
        pos = np.arange(len(left)) + np.repeat(start - (np.cumsum(count) - count), count)
        return left, self.order[pos]


class _Quadratic:
    """Gradients of q(Z) = <A, Z B Zᵀ>: ∇q(Z) = A Z Bᵀ + Aᵀ Z B.

    At a permutation matrix Q (``Q[k, perm[k]] = 1``) the two terms are sums over pairs
    of edges, (A Q Bᵀ)[i, j] = Σ_k A[i, k] B[j, perm[k]] and (Aᵀ Q B)[i, j] =
    Σ_k A[k, i] B[perm[k], j], so a Frank-Wolfe step joins the edge lists (work in the
    number of edge pairs that meet, plus one pass over the n×n result) instead of
    multiplying n×n matrices."""

    def __init__(self, a: FloatArray, b: FloatArray) -> None:
        n = a.shape[0]
        self.n = n
        self.dense = n <= DENSE_BELOW
        self.a, self.b = a, b
        self.bt = np.ascontiguousarray(b.T)
        ar, ac = np.nonzero(a)
        br, bc = np.nonzero(b)
        av, bv = a[ar, ac], b[br, bc]
        # A's side of the join: output row, the concept whose partner is looked up, the
        # term (0: A Q Bᵀ, 1: Aᵀ Q B), weight
        self.a_out = np.concatenate([ar, ac])
        self.a_via = np.concatenate([ac, ar])
        self.a_term = np.concatenate([np.zeros(len(ar), dtype=np.int64), np.full(len(ar), n)])
        self.a_val = np.concatenate([av, av])
        # B's side, grouped by key: term 0 by target (out: source), term 1 by source
        # (out: target)
        self.b_out = np.concatenate([br, bc])
        self.b_val = np.concatenate([bv, bv])
        self.b_by = _Grouped(np.concatenate([bc, n + br]), 2 * n)

    def grad(self, z: FloatArray) -> FloatArray:
        """∇q at any (dense) Z."""
        if self.dense:
            out: FloatArray = self.a @ (z @ self.bt) + self.a.T @ (z @ self.b)
            return out
        a: Any = sp.csr_matrix(self.a)
        b: Any = sp.csr_matrix(self.b)
        zbt = np.asarray(b @ z.T).T  # Z Bᵀ
        zb = np.asarray(b.T @ z.T).T  # Z B
        out = np.asarray(a @ zbt) + np.asarray(a.T @ zb)
        return out

    def grad_perm(self, perm: IntArray) -> FloatArray:
        """∇q at the permutation matrix of ``perm``."""
        if self.dense:
            out: FloatArray = self.a @ self.bt[perm] + self.a.T @ self.b[perm]
            return out
        left, right = self.b_by.match(self.a_term + perm[self.a_via])
        cells = self.a_out[left] * self.n + self.b_out[right]
        flat = np.bincount(cells, self.a_val[left] * self.b_val[right], minlength=self.n * self.n)
        out = flat.reshape(self.n, self.n).astype(float, copy=False)
        return out


def _frank_wolfe(lay: _Layout, scorer: Scorer, x: FloatArray, iterations: int) -> FloatArray:
    """Maximise <L, X> + c <Ã, X B̃ Xᵀ> over doubly stochastic block-diagonal X.

    The gradient is affine in X, so it is carried along the steps: ∇(X + t(Q - X)) =
    ∇X + t(∇Q - ∇X), and the curvature along Q - X is ½ <∇Q - ∇X, Q - X>."""
    ea = float((scorer.a.w != 0).sum())
    eb = float((scorer.b.w != 0).sum())
    lin = lay.phi / (3.0 * max(scorer.cmin, 1))
    # signed strengths: same-sign pairs of edges gain, opposite signs lose
    at = np.sign(lay.apad) * (0.5 + np.abs(lay.apad))
    bt = np.sign(lay.bpad) * (0.5 + np.abs(lay.bpad))
    c = 2.0 / (3.0 * max(ea + eb, 1.0))
    quad = _Quadratic(at, bt)
    rows = np.arange(lay.n)
    gx = quad.grad(x)
    for _ in range(iterations):
        g = lin + c * gx
        perm = _lap_blocks(lay, g)
        slope = float(g[rows, perm].sum() - (g * x).sum())
        if slope <= 1e-9:
            break
        dg = quad.grad_perm(perm) - gx
        curv = 0.5 * c * float(dg[rows, perm].sum() - (dg * x).sum())
        step = 1.0 if curv >= 0 else min(1.0, -slope / (2 * curv))
        if step >= 1.0:
            x = np.zeros_like(x)
            x[rows, perm] = 1.0
            gx = gx + dg
        else:
            x = (1.0 - step) * x
            x[rows, perm] += step
            gx = gx + step * dg
    return x


class _SwapState:
    """A padded one-to-one assignment with the sums ``overall`` is made of."""

    def __init__(self, lay: _Layout, scorer: Scorer, perm: IntArray) -> None:
        self.lay, self.scorer = lay, scorer
        self.ea_sym = (lay.apad != 0).astype(float) + (lay.apad.T != 0).astype(float)
        self.a_rows, self.a_cols = np.nonzero(lay.apad)
        self.a_vals = lay.apad[self.a_rows, self.a_cols]
        self.b_rows, self.b_cols = np.nonzero(lay.bpad)
        self.b_vals = lay.bpad[self.b_rows, self.b_cols]
        self.set(perm)

    def set(self, perm: IntArray) -> None:
        lay = self.lay
        self.perm = perm
        self.bp = lay.bpad[np.ix_(perm, perm)]
        # B's edges where the permutation puts them, grouped by row and by column
        inv = np.empty_like(perm)
        inv[perm] = np.arange(lay.n)
        self.bp_rows, self.bp_cols = inv[self.b_rows], inv[self.b_cols]
        self.bp_by_row = _Grouped(self.bp_rows, lay.n)
        self.bp_by_col = _Grouped(self.bp_cols, lay.n)
        self.u = (lay.ar & lay.br[perm]).astype(float)
        self.eb_sym = (self.bp != 0).astype(float) + (self.bp.T != 0).astype(float)
        u = self.u
        ab = lay.apad * self.bp
        self.f = float(lay.phi[np.arange(lay.n), perm].sum())
        self.matched = float((ab > 0).sum())
        self.ea = float(u @ (lay.apad != 0) @ u)
        self.eb = float(u @ (self.bp != 0) @ u)
        self.dot = float(ab.sum())
        self.value = overall_of(self.f, self.scorer.cmin, self.matched, self.ea, self.eb,
                                self.dot, self.scorer.sq)

    def _products(self, s: int, e: int, a_at: IntArray, a_key: IntArray, b_at: IntArray,
                  b_by: _Grouped) -> tuple[FloatArray, FloatArray]:
        """For i, j in [s, e): Σ_l [a_il b'_jl > 0] and Σ_l a_il b'_jl over the edges of
        A at i and of B' at j that meet at l (rows: l a column; columns: l a row)."""
        size = e - s
        mine = np.flatnonzero((a_at >= s) & (a_at < e))
        left, right = b_by.match(a_key[mine])
        j = b_at[right]
        keep = (j >= s) & (j < e)
        left, right, j = mine[left[keep]], right[keep], j[keep]
        cells = (a_at[left] - s) * size + (j - s)
        prod = self.a_vals[left] * self.b_vals[right]
        matched = np.bincount(cells, prod > 0, minlength=size * size).astype(float, copy=False)
        dot = np.bincount(cells, prod, minlength=size * size).astype(float, copy=False)
        return matched.reshape(size, size), dot.reshape(size, size)

    def gains(self, s: int, e: int) -> FloatArray:
        """Exact change of ``overall`` for swapping the partners of every i<j in [s, e)."""
        lay = self.lay
        blk = slice(s, e)
        r_m, r_d = self._products(s, e, self.a_rows, self.a_cols, self.bp_rows, self.bp_by_col)
        c_m, c_d = self._products(s, e, self.a_cols, self.a_rows, self.bp_cols, self.bp_by_row)
        ab, bb = lay.apad[blk, blk], self.bp[blk, blk]
        h1, h2 = ab * bb, ab * bb.T

        def delta(r: FloatArray, c: FloatArray, h1: FloatArray, h2: FloatArray) -> FloatArray:
            # swapping i and j exchanges rows i, j and columns i, j of B'; the cells where
            # the exchanged rows and columns cross are counted once
            rd, cd = np.diag(r), np.diag(c)
            out: FloatArray = (r + r.T - rd[:, None] - rd[None, :] + c + c.T - cd[:, None]
                               - cd[None, :] + h1 + h1.T + h2 + h2.T)
            return out

        d_matched = delta(r_m, c_m, (h1 > 0).astype(float), (h2 > 0).astype(float))
        d_dot = delta(r_d, c_d, h1, h2)
        u = self.u
        ub = u[blk]
        ui, uj = ub[:, None], ub[None, :]
        u1 = (lay.ar[blk][:, None] & lay.br[self.perm[blk]][None, :]).astype(float)  # u'_i
        u1t = u1.T  # u'_j
        da = (self.ea_sym[blk] @ u)
        ca = self.ea_sym[blk, blk]
        d_ea = ((u1 - ui) * (da[:, None] - ca * uj) + (u1t - uj) * (da[None, :] - ca * ui)
                + (u1 * u1t - ui * uj) * ca)
        db = (self.eb_sym[blk] @ u)
        cb = self.eb_sym[blk, blk]
        d_eb = (u1 * (db[None, :] - ui * cb) + u1t * (db[:, None] - uj * cb)
                - ui * (db[:, None] - uj * cb) - uj * (db[None, :] - ui * cb)
                + (u1 * u1t - ui * uj) * cb)
        phi_p = lay.phi[blk][:, self.perm[blk]]
        dphi = np.diag(phi_p)
        d_f = phi_p + phi_p.T - dphi[:, None] - dphi[None, :]
        sc = self.scorer
        ea, eb = self.ea + d_ea, self.eb + d_eb
        edges = np.where(ea + eb > 0, 2.0 * (self.matched + d_matched) / np.maximum(ea + eb, 1e-12), 0.0)
        weights = np.maximum(0.0, 2.0 * (self.dot + d_dot) / sc.sq) if sc.sq > 0 else 0.0 * edges
        new = ((self.f + d_f) / max(sc.cmin, 1) + edges + weights) / 3.0
        out: FloatArray = new - self.value
        out[np.tril_indices(e - s)] = -np.inf
        return out

    def improve(self, rounds: int) -> None:
        lay = self.lay
        if lay.n <= DENSE_BELOW:
            # one pass over all positions, swaps across kind blocks masked out
            spans = [(0, lay.n)]
            block_of = np.zeros(lay.n, dtype=np.int64)
            for k, (s, e) in enumerate(lay.blocks):
                block_of[s:e] = k
            cross = block_of[:, None] != block_of[None, :]
        else:
            spans = [(s, e) for s, e in lay.blocks if e - s >= 2]
            cross = None
        for _ in range(rounds):
            found: list[tuple[float, int, int]] = []
            for s, e in spans:
                g = self.gains(s, e)
                if cross is not None:
                    g[cross] = -np.inf
                idx = np.flatnonzero(g > 1e-12)
                if idx.size:
                    order = idx[np.argsort(-g.flat[idx])][: 4 * (e - s)]
                    for k in order.tolist():
                        i, j = divmod(k, e - s)
                        found.append((float(g.flat[k]), s + i, s + j))
            if not found:
                return
            found.sort(reverse=True)
            used: set[int] = set()
            chosen: list[tuple[int, int]] = []
            for _, i, j in found:
                if i in used or j in used:
                    continue
                used.update((i, j))
                chosen.append((i, j))
            before = self.value
            best_gain, bi, bj = found[0]
            perm = self.perm.copy()
            for i, j in chosen:
                perm[i], perm[j] = perm[j], perm[i]
            self.set(perm)
            if len(chosen) > 1 and self.value < before + best_gain - 1e-12:
                perm = self.perm.copy()
                for i, j in chosen:  # undo, then apply the single best swap
                    perm[i], perm[j] = perm[j], perm[i]
                perm[bi], perm[bj] = perm[bj], perm[bi]
                self.set(perm)

    def pairs(self) -> tuple[IntArray, IntArray]:
        lay = self.lay
        keep = lay.ar & lay.br[self.perm]
        return lay.a_index[keep], lay.b_index[self.perm[keep]]


def search_mapping(scorer: Scorer, rng: np.random.Generator,
                   settings: SearchSettings = SearchSettings()) -> tuple[IntArray, IntArray]:
    """Indices (into A, into B) of the best mapping found."""
    lay = _layout(scorer, settings.slack)
    if not lay.blocks:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    best: _SwapState | None = None
    size = max(scorer.a.n, scorer.b.n)
    restarts = settings.restarts or (3 if size <= 30 else 2 if size <= 60 else 1)
    for r in range(max(1, restarts)):
        x = np.zeros((lay.n, lay.n))
        for s, e in lay.blocks:
            size = e - s
            x[s:e, s:e] = 1.0 / size
            if r > 0:
                p = rng.permutation(size)
                x[s:e, s:e] *= 0.5
                x[s + np.arange(size), s + p] += 0.5
        x = _frank_wolfe(lay, scorer, x, settings.fw_iterations)
        state = _SwapState(lay, scorer, _lap_blocks(lay, x))
        state.improve(settings.swap_rounds)
        if best is None or state.value > best.value + 1e-12:
            best = state
    assert best is not None
    return best.pairs()
