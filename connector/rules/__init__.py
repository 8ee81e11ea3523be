"""The rule set: every rule of RULES.md, one module per family, collected here by id.

A module exports ``RULES``; the registry imports them in a fixed order so evaluation and
``explain`` list rules the same way every time.
"""

from __future__ import annotations

import importlib

from connector.rules.model import Rule

FAMILIES = (
    "support",
    "bug",
    "product",
    "usage",
    "deployment",
    "nps",
    "nps_survey",
    "relationship",
    "risk_process",
    "timeline",
    "cadence",
    "sales",
    "renewal",
    "ivm",
    "milestones",
    "persona",
    "scorecard",
    "get_well",
)


def all_rules() -> list[Rule]:
    """Every rule, in family order."""
    rules: list[Rule] = []
    for family in FAMILIES:
        module = importlib.import_module(f"connector.rules.{family}")
        rules.extend(module.RULES)
    return rules


def by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in all_rules()}
