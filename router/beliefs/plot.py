"""Draw two maps side by side as SVG: mapped concepts level, edges coloured by agreement."""

from __future__ import annotations

import importlib
import importlib.util
from html import escape
from pathlib import Path

from ..errors import Location, SpecError
from .comparison import Comparison

AGREE = "#1b7f3b"
DISAGREE = "#c0392b"
ROW = 28
WIDTH = 900


def svg(result: Comparison) -> str:
    a, b = result.a, result.b
    pairs = [(p.a, p.b) for p in result.mapping.pairs]
    mapped_a = {x for x, _ in pairs}
    mapped_b = {y for _, y in pairs}
    ya: dict[str, float] = {}
    yb: dict[str, float] = {}
    top = 60
    for k, (ca, cb) in enumerate(pairs):
        ya[ca] = yb[cb] = top + k * ROW
    rest_a = [c.id for c in a.concepts if c.id not in mapped_a]
    rest_b = [c.id for c in b.concepts if c.id not in mapped_b]
    start = top + len(pairs) * ROW + ROW
    for k, cid in enumerate(rest_a):
        ya[cid] = start + k * ROW
    for k, cid in enumerate(rest_b):
        yb[cid] = start + k * ROW
    height = int(start + max(len(rest_a), len(rest_b), 0) * ROW + 40)
    xa, xb = WIDTH * 0.3, WIDTH * 0.7
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{xa}" y="24" text-anchor="middle" font-weight="bold">{escape(a.name)}</text>',
           f'<text x="{xb}" y="24" text-anchor="middle" font-weight="bold">{escape(b.name)}</text>',
           f'<text x="{WIDTH / 2}" y="44" text-anchor="middle" fill="#555">'
           f'{escape(result.verdict)}; green: edge agrees under the mapping, red: it does not</text>']

    def edges(system_edges: dict[tuple[str, str], bool], ys: dict[str, float], x: float,
              outward: float) -> None:
        for (s, t), ok in system_edges.items():
            y1, y2 = ys[s], ys[t]
            bend = outward * (30 + 0.35 * abs(y2 - y1))
            colour = AGREE if ok else DISAGREE
            out.append(f'<path d="M {x:.1f} {y1:.1f} Q {x + bend:.1f} {(y1 + y2) / 2:.1f} {x:.1f} {y2:.1f}" '
                       f'fill="none" stroke="{colour}" stroke-width="1.4" opacity="0.75"/>')

    edges(result.edge_agreement, ya, xa, -1.0)
    edges(result.b_edge_agreement, yb, xb, 1.0)
    for ca, cb in pairs:
        out.append(f'<line x1="{xa + 6}" y1="{ya[ca]}" x2="{xb - 6}" y2="{yb[cb]}" stroke="#bbb" '
                   'stroke-dasharray="3 3"/>')
    for system, ys, x, anchor, dx in ((a, ya, xa, "start", 8), (b, yb, xb, "end", -8)):
        for c in system.concepts:
            y = ys[c.id]
            fill = "#2c3e50" if c.value >= 0 else "#7f8c8d"
            out.append(f'<circle cx="{x}" cy="{y}" r="5" fill="{fill}"><title>{escape(c.id)} '
                       f'({c.kind}, value {c.value:+.2f})</title></circle>')
            out.append(f'<text x="{x + dx}" y="{y + 4}" text-anchor="{anchor}">{escape(c.label or c.id)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_plot(result: Comparison, path: Path) -> None:
    """Write ``path`` as SVG (or PNG when matplotlib is importable)."""
    suffix = path.suffix.lower()
    if suffix == ".svg":
        text = svg(result)
    elif suffix == ".png":
        if importlib.util.find_spec("matplotlib") is None:
            raise SpecError(f"cannot write `{path}`: PNG output needs matplotlib, which is not installed",
                            hint="write an `.svg` file instead")
        _png(result, path)
        return
    else:
        raise SpecError(f"cannot write `{path}`: the plot must be an `.svg` or `.png` file")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot write `{path}`: {exc.strerror}", at=Location(str(path))) from None


def _png(result: Comparison, path: Path) -> None:  # pragma: no cover - needs matplotlib
    # optional dependency: imported by name, so the module type-checks without it
    importlib.import_module("matplotlib").use("Agg")
    plt = importlib.import_module("matplotlib.pyplot")

    a, b = result.a, result.b
    pairs = [(p.a, p.b) for p in result.mapping.pairs]
    ya = {x: -k for k, (x, _) in enumerate(pairs)}
    yb = {y: -k for k, (_, y) in enumerate(pairs)}
    for k, c in enumerate(x for x in a.ids if x not in ya):
        ya[c] = -(len(pairs) + 1 + k)
    for k, c in enumerate(x for x in b.ids if x not in yb):
        yb[c] = -(len(pairs) + 1 + k)
    fig, ax = plt.subplots(figsize=(9, max(4, 0.35 * max(len(ya), len(yb)))))
    for edges, ys, x in ((result.edge_agreement, ya, 0.0), (result.b_edge_agreement, yb, 1.0)):
        for (s, t), ok in edges.items():
            ax.plot([x, x + (0.15 if x else -0.15), x], [ys[s], (ys[s] + ys[t]) / 2, ys[t]],
                    color=AGREE if ok else DISAGREE, alpha=0.7)
    for cid, y in ya.items():
        ax.text(0.02, y, cid, va="center")
    for cid, y in yb.items():
        ax.text(0.98, y, cid, va="center", ha="right")
    ax.set_title(f"{a.name} vs {b.name}: {result.verdict}")
    ax.axis("off")
    fig.savefig(path)
    plt.close(fig)
