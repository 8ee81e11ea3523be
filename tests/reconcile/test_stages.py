"""Where a span of an object ends: never inside the records of one ``rule:subject``.

A span is a key range read at once (``connector.reconcile.stages``); the cycle over real HTTPS
with spans of 7 outputs is in tests/push/test_sync_in_parts.py.
"""

from __future__ import annotations

import pytest

from connector.reconcile.plan import identity_of
from connector.reconcile.stages import subject_of

# Keys, occurrences, children and their External Ids of three key shapes (RULES.md: keys are
# ``rule:subject[:period]``), with numeric subjects one of which begins another.
STRINGS = [
    "support_risk:001000000000001AAA",
    "support_risk:001000000000001AAA#2",
    "support_risk:001000000000001AAA/stay-informed",
    "support_risk:001000000000001AAA#2/stay-informed",
    "support_risk:001000000000002AAA",
    "renewal:001000000000001AAA:2026-Q4",
    "renewal:001000000000001AAA:2026-Q3#2",
    "renewal:001000000000001AAA:2026-Q3#2/call",
    "renewal:001000000000001AAA:2026-Q4/call",
    "escalation:123",
    "escalation:123#3/follow-up",
    "escalation:1234",
    "escalation:12340/follow-up",
    "escalation:123-",
    "health_scorecard:001000000000001AAA:2026-W41",
]


def test_a_subject_is_a_ctas_identity_and_its_childrens_too() -> None:
    assert subject_of("renewal:001000000000001AAA:2026-Q3#2/call") == "renewal:001000000000001AAA"
    for s in STRINGS:
        if "/" not in s:
            assert subject_of(s) == identity_of("cta", s)


@pytest.mark.parametrize("first_after", STRINGS)
def test_a_span_ending_at_any_subject_keeps_each_subjects_strings_together(
    first_after: str,
) -> None:
    end = f"{subject_of(first_after)};"
    assert first_after < end  # the span holds the output that ended it
    sides: dict[str, set[bool]] = {}
    for s in STRINGS:
        sides.setdefault(subject_of(s), set()).add(s < end)
    assert all(len(side) == 1 for side in sides.values()), sides
