"""The contexts the routing benchmarks share: from a full hot decision to a bare goal."""

CONTEXTS = [
    {"goal": "decide", "stakes": "high", "reversibility": "irreversible", "emotional_intensity": 8},
    {"goal": "cope", "controllability": "none", "emotional_intensity": 6},
    {"goal": "plan", "stakes": "moderate", "controllability": "full", "time_available": 90},
    {"goal": "understand", "uncertainty": "risk", "data_available": "plenty", "time_available": 30},
    {"goal": "decide"},
]
