"""Systems made by chance: random systems, relabelled copies, rewired copies.

Used by the unrelated-systems null, by the calibration tests and by the benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .model import KINDS, BeliefSystem, Concept, Edge, FloatArray


def rewire(w: FloatArray, rng: np.random.Generator, rounds: int = 10) -> FloatArray:
    """A copy of ``w`` with edges rewired by double-edge swaps: (a→b, c→d) becomes
    (a→d, c→b). Every concept keeps its in- and out-degree, every edge its weight (so the
    count of each sign is kept); no self-loops or duplicate edges are created."""
    out = w.copy()
    src_a, dst_a = np.nonzero(out)
    m = len(src_a)
    if m < 2:
        return out
    weights = out[src_a, dst_a].copy()
    n = out.shape[0]
    # plain ints and a set of cells: this loop is sequential, and numpy scalars are slow
    src, dst = src_a.tolist(), dst_a.tolist()
    present = {i * n + j for i, j in zip(src, dst)}
    picks = rng.integers(0, m, size=(rounds * m, 2))
    for e1, e2 in picks.tolist():
        if e1 == e2:
            continue
        a, b, c, d = src[e1], dst[e1], src[e2], dst[e2]
        ad, cb = a * n + d, c * n + b
        if a == d or c == b or ad in present or cb in present:
            continue
        present.remove(a * n + b)
        present.remove(c * n + d)
        present.add(ad)
        present.add(cb)
        dst[e1], dst[e2] = d, b
    out[:] = 0.0
    out[src_a, np.array(dst, dtype=np.int64)] = weights
    return out


def random_system(n: int, edges: int, rng: np.random.Generator, *, name: str = "random",
                  kinds: Sequence[str] = KINDS, prefix: str = "c") -> BeliefSystem:
    """A system of ``n`` concepts (kinds dealt in turn, values uniform in [-1, 1]) and
    ``edges`` random edges with weights of random sign and size in [0.2, 1]."""
    concepts = tuple(Concept(f"{prefix}{i}", kinds[i % len(kinds)],  # type: ignore[arg-type]
                             round(float(rng.uniform(-1, 1)), 3)) for i in range(n))
    cells = [(i, j) for i in range(n) for j in range(n) if i != j]
    chosen = rng.choice(len(cells), size=min(edges, len(cells)), replace=False)
    es = tuple(Edge(f"{prefix}{cells[k][0]}", f"{prefix}{cells[k][1]}",
                    round(float(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 1.0)), 3))
               for k in sorted(chosen.tolist()))
    return BeliefSystem(name=name, concepts=concepts, edges=es)


def relabelled(system: BeliefSystem, rng: np.random.Generator, *, jitter: float = 0.05,
               prefix: str = "r", name: str | None = None) -> tuple[BeliefSystem, dict[str, str]]:
    """A copy with ids renamed, order shuffled and weights jittered; also the true
    correspondence (old id → new id)."""
    order = rng.permutation(system.n)
    rename = {c.id: f"{prefix}{k}" for k, c in enumerate(system.concepts[i] for i in order)}
    concepts = tuple(Concept(rename[system.concepts[i].id], system.concepts[i].kind,
                             system.concepts[i].value) for i in order)
    edges = [Edge(rename[e.source], rename[e.target],
                  float(np.clip(e.w + rng.normal(0, jitter), -1, 1)) or e.w)
             for e in system.edges]
    perm = rng.permutation(len(edges))
    return (BeliefSystem(name=name or f"{system.name}-relabelled", concepts=concepts,
                         edges=tuple(edges[i] for i in perm)), rename)


def with_core(core: BeliefSystem, extra: int, extra_edges: int, links: int,
              rng: np.random.Generator, *, prefix: str, name: str) -> BeliefSystem:
    """``core`` (ids prefixed) inside a larger system: ``extra`` unrelated concepts,
    ``extra_edges`` random edges among them and ``links`` edges between core and rest."""
    rest = random_system(extra, extra_edges, rng, prefix=f"{prefix}x")
    concepts = tuple(Concept(f"{prefix}{c.id}", c.kind, c.value) for c in core.concepts) + rest.concepts
    edges = [Edge(f"{prefix}{e.source}", f"{prefix}{e.target}", e.w) for e in core.edges]
    edges += list(rest.edges)
    seen = {(e.source, e.target) for e in edges}
    while links > 0:
        c = f"{prefix}{core.concepts[int(rng.integers(core.n))].id}"
        r = rest.concepts[int(rng.integers(rest.n))].id
        s, t = (c, r) if rng.random() < 0.5 else (r, c)
        if (s, t) in seen:
            continue
        seen.add((s, t))
        edges.append(Edge(s, t, round(float(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 1)), 3)))
        links -= 1
    order = rng.permutation(len(concepts))
    return BeliefSystem(name=name, concepts=tuple(concepts[i] for i in order), edges=tuple(edges))
