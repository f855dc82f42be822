"""Cost and quality of reading a description: the safety screen, the features read from the
words, and the TF-IDF tool match.

Run from the repository root:  python benchmarks/bench_words.py
Prints the cost per description after loading, the screen's recall and false-alarm rate
(all items and the holdout, and on the held-out tests/data/words/screen_heldout.yaml and the
ordinary descriptions of described_heldout.yaml with and without the learned screen), feature
accuracy per feature (also on tests/data/words/described_fresh.yaml, described_unseen.yaml and
described_final.yaml, rules alone; and on the held-out described_heldout.yaml with and without the learned reading of goal
and stakes), and tool-matching top-1 / top-3 on tests/data/words/described.yaml against the
shipped tools/*.yaml when they exist.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from router.matching import DEFAULT_FLOOR, TextMatcher, tool_documents
from router.screen import screen_text
from router.screen_model import learned_hit
from router.words import read_features

DATA = ROOT / "tests" / "data" / "words"


def items(name: str) -> list[Any]:
    loaded: list[Any] = yaml.safe_load((DATA / f"{name}.yaml").read_text("utf-8"))["items"]
    return loaded


def same_value(feature: str, want: Any, got: Any) -> bool:
    if got is None:
        return False
    if feature == "emotional_intensity":
        return abs(float(got) - float(want)) <= 2
    if feature == "time_available":
        w, g = float(want), float(got)
        return abs(w - g) <= 5 or (g <= 2.5 * w and w <= 2.5 * g)
    return bool(got == want)


def pct(a: int, b: int) -> str:
    return f"{a}/{b} = {a / b:.1%}" if b else "n/a"


def main() -> None:
    risk, harmless, described, offtopic = items("risk"), items("harmless"), items("described"), items("offtopic")

    print("== screen")
    for label, keep in (("all", lambda i: True), ("holdout", lambda i: i.get("split") == "holdout")):
        r = [i for i in risk if keep(i)]
        h = [i for i in harmless if keep(i)]
        caught = sum(bool(screen_text(i["text"])) for i in r)
        alarms = sum(bool(screen_text(i["text"])) for i in h)
        print(f"  {label:8s} recall {pct(caught, len(r))}   false alarms {pct(alarms, len(h))}")
    # the held-out measure: statements never used for rules, training or the model's settings
    held_out: Any = yaml.safe_load((DATA / "screen_heldout.yaml").read_text())
    # ordinary descriptions the learned screen never saw; those that show a present risk of
    # harm (`risk: true`) should be read as risk
    ordinary = [i["text"] for i in items("described_heldout") if not i.get("risk")]
    at_risk = [i["text"] for i in items("described_heldout") if i.get("risk")]
    for label, hit in (("rules", lambda t: bool(screen_text(t))),
                       ("rules+model", lambda t: bool(screen_text(t)) or learned_hit(t) is not None)):
        caught = sum(hit(i["text"]) for i in held_out["risk"])
        alarms = sum(hit(i["text"]) for i in held_out["harmless"])
        readings = sum(hit(t) for t in ordinary)
        read = sum(hit(t) for t in at_risk)
        print(f"  held out, {label:11s} recall {pct(caught, len(held_out['risk']))}   "
              f"false alarms {pct(alarms, len(held_out['harmless']))}  (screen_heldout.yaml); "
              f"described_heldout.yaml: readings of risk in ordinary descriptions {pct(readings, len(ordinary))}, "
              f"descriptions of a present risk read {pct(read, len(at_risk))}")

    print("== features (numbers: intensity within 2 points, time within x2.5)")
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    spurious: dict[str, int] = defaultdict(int)
    for item in described:
        hold = item.get("split") == "holdout"
        got = {r.feature: r.value for r in read_features(item["text"], learned=False)}
        for feature, want in item["features"].items():
            ok = same_value(feature, want, got.get(feature))
            s = stats[feature]
            s[0] += 1
            s[1] += ok
            if hold:
                s[2] += 1
                s[3] += ok
        for feature in got:
            if feature not in item["features"]:
                spurious[feature] += 1
    for feature, (n, ok, hn, hok) in sorted(stats.items()):
        print(
            f"  {feature:24s} all {pct(ok, n):16s} holdout {pct(hok, hn):16s} unlabelled readings {spurious[feature]}"
        )

    for name, label, note in (
        ("described_fresh", "fresh", "wording the rules were later adjusted on"),
        ("described_unseen", "unseen", "wording the goal and stakes rules were later adjusted on"),
        ("described_final", "final", "wording never used to write or adjust the rules"),
    ):
        print(f"== features on {name}.yaml ({note})")
        set_stats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for item in items(name):
            got = {r.feature: r.value for r in read_features(item["text"], learned=False)}
            for feature, want in item["features"].items():
                set_stats[feature][0] += 1
                set_stats[feature][1] += same_value(feature, want, got.get(feature))
        for feature, (n, ok) in sorted(set_stats.items()):
            print(f"  {feature:24s} {label:6s} {pct(ok, n)}")

    # the held-out measure of the goal and stakes readings: never used for rules or training
    print("== goal and stakes on described_heldout.yaml (never used to write rules or to train)")
    held: list[Any] = items("described_heldout")
    for label, learned in (("rules", False), ("rules+learned", True)):
        right: dict[str, int] = defaultdict(int)
        for item in held:
            got = {r.feature: r.value for r in read_features(item["text"], learned=learned)}
            for feature, want in item["features"].items():
                right[feature] += same_value(feature, want, got.get(feature))
        print("  " + "   ".join(f"{feature} {label:13s} {pct(right[feature], len(held))}" for feature in ("goal", "stakes")))

    print("== tool matching")
    documents = tool_documents(ROOT / "tools")
    if not documents:
        print("  no tools/*.yaml: skipped")
    else:
        start = time.perf_counter()
        from router.encoders import DENSE_WEIGHT, available_encoder

        encoder = available_encoder()  # the `embed` extra, when installed
        matcher = TextMatcher.fit(documents, encoder=encoder, dense_weight=DENSE_WEIGHT if encoder else 0.0)
        kind = "hybrid TF-IDF + MiniLM" if encoder else "TF-IDF"
        print(
            f"  {len(documents)} tools, {kind}, fit in {time.perf_counter() - start:.2f} s (first fit imports scikit-learn)"
        )
        best_in = []
        for label, keep in (("all", lambda i: True), ("holdout", lambda i: i.get("split") == "holdout")):
            top1 = top3 = n = 0
            for item in described:
                if not keep(item):
                    continue
                scores = matcher.scores(item["text"])
                ranked = sorted(scores, key=lambda t: -scores[t])
                if label == "all":
                    best_in.append(scores[ranked[0]])
                n += 1
                top1 += ranked[0] in item["tools"]
                top3 += bool(set(ranked[:3]) & set(item["tools"]))
            print(f"  {label:8s} top-1 {pct(top1, n)}   top-3 {pct(top3, n)}   (chance top-1 about 7 %)")
        best_off = [max(matcher.scores(t).values()) for t in offtopic]
        deciles = lambda xs: " ".join(f"{x:.3f}" for x in statistics.quantiles(xs, n=10))
        print(f"  best raw similarity deciles, situations: {deciles(best_in)}")
        print(f"  best raw similarity deciles, off-topic:  {deciles(best_off)}")
        for label, keep in (("all", lambda i: True), ("holdout", lambda i: i.get("split") == "holdout")):
            chosen = [i for i in described if keep(i)]
            kept_in = sum(bool(matcher.match(i["text"])) for i in chosen)
            print(f"  {label:8s} situations with a match {pct(kept_in, len(chosen))}")
        kept_off = sum(bool(matcher.match(t)) for t in offtopic)
        print(f"  floor {DEFAULT_FLOOR}: off-topic with a match {pct(kept_off, len(offtopic))}")

    print("== cost per description (after load)")
    texts = [i["text"] for i in described + risk + harmless]
    screen_text(texts[0])
    read_features(texts[0])
    for name, fn in (("screen", screen_text), ("features", read_features)):
        start = time.perf_counter()
        for t in texts:
            fn(t)
        print(f"  {name:9s} {(time.perf_counter() - start) / len(texts) * 1000:.3f} ms")
    if documents:
        matcher.match(texts[0])
        matcher._cache.clear()  # time the computation, not the per-text cache
        start = time.perf_counter()
        for t in texts:
            matcher.match(t)
        print(f"  {'match':9s} {(time.perf_counter() - start) / len(texts) * 1000:.3f} ms")
        matcher._cache.clear()
        start = time.perf_counter()
        for t in texts:
            screen_text(t)
            read_features(t)
            matcher.match(t)
        print(f"  {'all three':9s} {(time.perf_counter() - start) / len(texts) * 1000:.3f} ms")


if __name__ == "__main__":
    main()
