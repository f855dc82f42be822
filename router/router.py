"""The Router: load a policy once, then route contexts (check → score → decide →
record). Holds no mutable state of its own, so one Router can serve many threads."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .decision import Decision, decide
from .description import DESCRIPTION, MatcherCache, read_description
from .loader import load_policy
from .policy import Policy
from .scoring import evaluate_conditions, evaluate_rules, score_tools

if TYPE_CHECKING:  # the store is imported only when recording is asked for
    from .audit import AuditStore


class Router:
    """Routes contexts to tools under one compiled policy.

    >>> r = Router.load()                       # the shipped default policy
    >>> d = r.route({"goal": "decide", "stakes": "high"})
    >>> d.tool, d.confident, d.robust, d.unknowns
    """

    def __init__(self, policy: Policy, audit: AuditStore | None = None) -> None:
        self.policy = policy
        self.audit = audit
        self._matchers = MatcherCache()

    @classmethod
    def load(cls, policy: str | os.PathLike[str] | None = None, *, audit: Any = None) -> Router:
        """A Router for a policy file (default: the shipped default policy). ``audit``, a
        path or a store, makes every ``route`` record its decision."""
        compiled = load_policy(Path(policy) if policy is not None else None)
        store = None
        if audit is not None:
            from .audit import open_store

            store = open_store(audit)
        return cls(compiled, store)

    @property
    def features(self) -> Any:
        return self.policy.features

    def route(self, context: Mapping[str, object]) -> Decision:
        """The decision for a context (feature → value; missing features are unknown).
        Raises ContextError for an unknown feature or a bad value."""
        checked = self.policy.features.check_context(context)
        reading = None
        if isinstance(checked.get(DESCRIPTION), str):
            reading = read_description(self.policy, checked, context, lambda: self._matchers.get(self.policy))
            checked = reading.context
        truths = evaluate_conditions(self.policy, checked)
        scores = score_tools(self.policy, truths, reading.contributions if reading else None)
        decision = decide(self.policy, checked, scores, evaluate_rules(self.policy, truths),
                          reading.inferred if reading else ())
        if reading is not None:
            decision.notes[:0] = reading.notes
        if self.audit is not None:
            self.audit.record(decision, given=context)
        return decision
