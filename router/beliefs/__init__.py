"""Belief systems as declared objects, and how far two of them converge.

    from router.beliefs import load_belief_system, load_mapping, compare
    a = load_belief_system("beliefs/stoicism.yaml")
    b = load_belief_system("beliefs/buddhism.yaml")
    result = compare(a, b, load_mapping("beliefs/stoicism-buddhism.yaml", a, b))
    print(result.explain())

numpy and scipy are imported here, never by ``import router``.
"""

from .comparison import CAVEAT, VERDICTS, Comparison, compare
from .measures import FEATURES, Figures
from .model import (
    KINDS,
    BeliefSystem,
    Concept,
    Edge,
    Mapping,
    Pair,
    json_schemas,
    load_belief_system,
    load_mapping,
)
from .search import SearchSettings

__all__ = [
    "BeliefSystem", "CAVEAT", "Comparison", "Concept", "Edge", "FEATURES", "Figures", "KINDS",
    "Mapping", "Pair", "SearchSettings", "VERDICTS", "compare", "json_schemas",
    "load_belief_system", "load_mapping",
]
