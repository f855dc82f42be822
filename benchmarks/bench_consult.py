"""Consultation against full routing: a simulated person answers each public vignette's
questions from its context ("don't know" to every feature it does not give; its
description, if any, opens the consultation). Prints how often the consultation reaches
the tool that routing with all of the vignette's features picks, and how many questions
it took. Only the answers to the questions asked count here (what the interview alone
reaches); `consult --answers FILE` also counts the file's unasked answers, which the
"--answers" line checks.

Target: agreement >= 95 %, median <= 5 questions. The budget lines show the trade-off
between the question budget and agreement; budget 20 is, in practice, no budget: the
interview ends by itself there.

    python benchmarks/bench_consult.py [--budget N] [--cases]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml

from router import Router
from router.consult import DEFAULT_BUDGET, Consultation, consult

VIGNETTES = ROOT / "tests" / "data" / "vignettes_public.yaml"


class KnowingConsultation(Consultation):
    """A reference point, not a strategy: an interviewer that knows in advance which
    features the person can answer, and asks no others (the safety question aside)."""

    known: frozenset[str] = frozenset()

    def _askable(self, name: str) -> bool:
        return super()._askable(name) and (name in self.known or name == self._safety)


def measure(router: Router, cases: list[dict[str, Any]], budget: int, knowing: bool = False,
            count_unasked: bool = False) -> dict[str, Any]:
    agree, counts, misses, seconds, reasons, flagged = 0, [], [], 0.0, Counter(), 0
    for case in cases:
        context = case["context"]
        full = router.route(context).tool
        start = time.perf_counter()
        if knowing:
            c: Consultation = KnowingConsultation(router, context.get("description"), budget=budget)
            c.known = frozenset(context)  # type: ignore[attr-defined]
            from router.consult import answers_from, run_interview

            run_interview(c, answers_from(context))
        else:
            c = consult(router, context, budget=budget, count_unasked=count_unasked)
        tool = c.conclude().tool
        flagged += bool(c.would_rule_out)
        seconds += time.perf_counter() - start
        counts.append(len(c.questions_asked))
        reasons[c.stop_reason] += 1
        if tool == full:
            agree += 1
        else:
            misses.append((case["id"], full, tool, c.questions_asked))
    return {"agreement": agree / len(cases), "median": statistics.median(counts), "max": max(counts),
            "mean": statistics.mean(counts), "stops": dict(reasons.most_common()),
            "misses": misses, "flagged": flagged, "ms_per_question": 1000 * seconds / max(1, sum(counts)), "n": len(cases)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET, help="question budget (default: the CLI's)")
    parser.add_argument("--cases", action="store_true", help="list the vignettes where the tools differ")
    args = parser.parse_args()
    router = Router.load()
    cases = yaml.safe_load(VIGNETTES.read_text())
    result = measure(router, cases, args.budget)
    print(f"vignettes: {result['n']} (tests/data/vignettes_public.yaml), budget {args.budget} questions")
    print(f"agreement with routing on every feature: {result['agreement']:.1%}  (target >= 95%)")
    print(f"questions: median {result['median']:g}, max {result['max']}, mean {result['mean']:.2f}  "
          f"(target: median <= 5)")
    print("stopped because: " + ", ".join(f"{reason} {n}" for reason, n in result["stops"].items()))
    print(f"left open a feature that would rule the tool out (said in a note): {result['flagged']} of {result['n']}")
    print(f"time: {result['ms_per_question']:.1f} ms per question")
    scripted = measure(router, cases, args.budget, count_unasked=True)
    print(f"  --answers (the file's unasked answers counted too): agreement {scripted['agreement']:.1%}")
    for budget in sorted({4, 5, 6, 8, 10, 12, 20} - {args.budget}):
        other = measure(router, cases, budget)
        print(f"  budget {budget:>2}: agreement {other['agreement']:.1%}, median {other['median']:g}, "
              f"max {other['max']}, mean {other['mean']:.2f}")
    for budget in (5, 6, 20):
        ref = measure(router, cases, budget, knowing=True)
        print(f"  reference, asking only what the vignette gives (+ safety), budget {budget:>2}: "
              f"agreement {ref['agreement']:.1%}, median {ref['median']:g}, max {ref['max']}")
    if args.cases:
        for case_id, full, tool, asked in result["misses"]:
            print(f"  {case_id}: routing {full}, consultation {tool} after {', '.join(asked)}")


if __name__ == "__main__":
    main()
