"""Dispositions: what each system's model favours doing in a situation.

Each system is read as a fuzzy cognitive map: activations x in [-1, 1], one step
``x ← tanh(x W)``, clamped concepts held at 1, from all-zero (but the clamped ones)
until no activation moves by more than 1e-4 or 30 steps. A situation is a mapped event
or state clamped on; for each mapped action, its gain is ``v·x`` with the situation and
the action clamped minus ``v·x`` with the situation alone (v the system's values). The
favoured action has the largest gain (none when the two largest gains tie).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]  # scipy ships no type stubs

from .measures import IntArray
from .model import KINDS, FloatArray

STEPS = 30
TOLERANCE = 1e-4
SITUATION_KINDS = (KINDS.index("event"), KINDS.index("state"))
ACTION_KIND = KINDS.index("action")


def settle(w: FloatArray, clamp: FloatArray) -> FloatArray:
    """Settled activations, one row per clamp pattern (1 where clamped, else 0)."""
    # iterate on the transpose (one column per pattern), in place where possible
    ws: Any = sp.csr_matrix(w.T) if w.shape[0] > 100 else np.ascontiguousarray(w.T)
    x = np.ascontiguousarray(clamp.T)
    fixed = x > 0
    moved = np.empty_like(x)
    for _ in range(STEPS):
        nxt = np.asarray(ws @ x)
        np.tanh(nxt, out=nxt)
        np.putmask(nxt, fixed, 1.0)
        np.subtract(nxt, x, out=moved)
        np.abs(moved, out=moved)
        x = nxt
        if float(moved.max(initial=0.0)) < TOLERANCE:
            break
    out: FloatArray = x.T
    return out


def gains(w: FloatArray, values: FloatArray, situations: IntArray, actions: IntArray) -> FloatArray:
    """S×A gains in value of clamping each action on in each situation."""
    n, s, a = w.shape[0], len(situations), len(actions)
    clamp = np.zeros((s, a + 1, n))
    clamp[np.arange(s), :, situations] = 1.0
    clamp[:, np.arange(1, a + 1), actions] = 1.0
    x = settle(w, clamp.reshape(s * (a + 1), n)).reshape(s, a + 1, n)
    u = x @ values
    out: FloatArray = u[:, 1:] - u[:, :1]
    return out


@dataclass(frozen=True)
class Situation:
    a: int  # index in A of the clamped concept
    b: int
    favoured_a: int | None  # index in A of the favoured action, None when tied
    favoured_b: int | None
    agree: bool
    rank: float | None  # Spearman correlation of the action gains


@dataclass(frozen=True)
class Dispositions:
    share: float | None  # share of situations where corresponding actions are favoured
    rank: float | None  # mean Spearman correlation of action gains, in [-1, 1]
    situations: tuple[Situation, ...]
    actions: int
    note: str | None = None


def _favoured(g: FloatArray) -> int | None:
    if g.size == 0:
        return None
    order = np.argsort(-g)
    if g.size > 1 and g[order[0]] - g[order[1]] < 1e-9:
        return None
    return int(order[0])


def _spearman(x: FloatArray, y: FloatArray) -> float | None:
    if x.size < 2 or np.ptp(x) < 1e-12 or np.ptp(y) < 1e-12:
        return None
    rx = np.argsort(np.argsort(x)).astype(float)
    ry = np.argsort(np.argsort(y)).astype(float)
    # ranks are a permutation of 0..n-1, so both have the same mean and spread
    rx -= rx.mean()
    ry -= ry.mean()
    return float(rx @ ry / (rx @ rx))


def situations_and_actions(kinds_a: IntArray, kinds_b: IntArray, ia: IntArray,
                           ib: IntArray) -> tuple[IntArray, IntArray]:
    """Positions in the mapping of the mapped situations and of the mapped actions."""
    ka, kb = kinds_a[ia], kinds_b[ib]
    sit = np.flatnonzero(np.isin(ka, SITUATION_KINDS) & np.isin(kb, SITUATION_KINDS))
    act = np.flatnonzero((ka == ACTION_KIND) & (kb == ACTION_KIND))
    return sit, act


def compare_dispositions(wa: FloatArray, va: FloatArray, wb: FloatArray, vb: FloatArray,
                         ia: IntArray, ib: IntArray, sit: IntArray, act: IntArray) -> Dispositions:
    """Dispositions of both systems under the mapping ``ia[k] ↔ ib[k]``, over the mapped
    situations ``sit`` and actions ``act`` (positions in the mapping)."""
    if len(sit) == 0 or len(act) < 2:
        note = ("no mapped event or state to clamp" if len(sit) == 0
                else "fewer than two mapped actions to choose between")
        return Dispositions(None, None, (), len(act), note)
    ga = gains(wa, va, ia[sit], ia[act])
    gb = gains(wb, vb, ib[sit], ib[act])
    rows = []
    for k in range(len(sit)):
        fa, fb = _favoured(ga[k]), _favoured(gb[k])
        rows.append(Situation(int(ia[sit[k]]), int(ib[sit[k]]),
                              None if fa is None else int(ia[act[fa]]),
                              None if fb is None else int(ib[act[fb]]),
                              fa == fb, _spearman(ga[k], gb[k])))
    ranks = [r.rank for r in rows if r.rank is not None]
    return Dispositions(
        share=sum(r.agree for r in rows) / len(rows),
        rank=float(np.mean(ranks)) if ranks else None,
        situations=tuple(rows), actions=len(act),
    )
