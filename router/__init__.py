"""Discern's engine: route a situation to the reasoning tool that fits it, and say why.

>>> from router import Router
>>> d = Router.load().route({"goal": "decide", "stakes": "high"})
>>> print(d.explain())
"""

from __future__ import annotations

from ._version import __version__
from .decision import Decision, Inferred, explain_dict
from .errors import AuditError, ConditionError, ContextError, DiscernError, Location, Problem, SpecError
from .loader import default_policy_path, load_policy, load_tool
from .policy import Policy
from .router import Router

__all__ = [
    "AuditError", "ConditionError", "ContextError", "Decision", "DiscernError", "Inferred", "Location",
    "Policy", "Problem", "Router", "SpecError", "__version__", "default_policy_path", "explain_dict",
    "load_policy", "load_tool",
]
