"""The generated tables of ``docs/demo-org.md``: users, stories and the second act.

Ids and dates change with the anchor, so the tables name records instead (``<account>``,
``<contact: Kim Yoshida>``) and write dates relative to the anchor's date (``<today+120>``):
the document is the same whatever day it is regenerated on. Regenerate with
``python -m connector.sandbox.seed.doc docs/demo-org.md``.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from connector.sandbox.demo_data import DemoData, Story
from connector.sandbox.seed.core import DOMAIN, half_year, iso_week
from connector.sandbox.seed.users import PEOPLE

DOC_ANCHOR = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)  # any instant renders the same tables
RULE_ORDER = (
    "support_risk",
    "bug_risk",
    "product_risk",
    "usage_drop",
    "deployment_risk",
    "nps_detractor",
    "nps_persona_gap",
    "exec_sponsor_missing",
    "sponsor_turnover",
    "risk_weekly_update",
    "risk_escalation",
    "timeline_hygiene",
    "exec_checkin",
    "ebr_due",
    "sales_handoff",
    "renewal_upcoming",
    "ivm_handoff",
    "lifecycle_milestones",
    "persona_assignment",
    "nps_survey_due",
    "deployment_expansion",
    "healthy_usage_expansion",
    "health_scorecard",
    "get_well_plan",
)
_LABELS = {"003": "contact", "006": "opportunity", "001": "account"}
_ID = re.compile(r"\b[0-9a-zA-Z]{18}\b")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def render_story_table(demo: DemoData) -> str:
    """The story table: account, rule, case, fires or not, why, expected keys, other outputs."""
    names = _names(demo)
    rows = sorted(demo.stories, key=lambda s: (RULE_ORDER.index(s.rule), not s.fires, s.act))
    lines = [
        "| account | rule | case | fires | why | expected output keys | owner | "
        "all outputs of the account |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in rows:
        keys = "<br>".join(f"`{_relative(demo, k, s.account_id, names)}`" for k in s.outputs)
        lines.append(
            f"| {s.account_name} | `{s.rule}` | {s.case or '-'} | "
            f"{'**fires**' if s.fires else 'silent'}{' (act 1)' if s.act else ''} | "
            f"{s.why} | {keys or '-'} | {s.owner or '-'} | {_summary(s)} |"
        )
    return "\n".join(lines) + "\n"


def render_users_table() -> str:
    """The fixed users: role key in ``DemoData.users``, name, email, title, active."""
    lines = [
        "| role (`DemoData.users`) | name | email / username | title | active |",
        "|---|---|---|---|---|",
    ]
    for p in PEOPLE:
        lines.append(
            f"| `{p.role}` | {p.first} {p.last} | `{p.local}@{DOMAIN}` | {p.title} | "
            f"{'yes' if p.active else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


def render_acts_table(demo: DemoData) -> str:
    """The scripted edits between cycles (``DemoData.acts``)."""
    names = _names(demo)
    lines = ["| act | operation | record | change | why |", "|---|---|---|---|---|"]
    for a in demo.acts:
        change = ", ".join(f"`{k}` = `{v}`" for k, v in a["fields"].items()) or "-"
        lines.append(
            f"| {a['act']} | {a['op']} | {a['sobject']} "
            f"`{names.get(a['id'], a['id'])}` | {change} | {a['why']} |"
        )
    return "\n".join(lines) + "\n"


def _names(demo: DemoData) -> dict[str, str]:
    out = {}
    for sobject in ("Account", "Contact", "Opportunity", "CS_CTA__c", "Survey_Answer__c"):
        for r in demo.salesforce.get(sobject, []):
            label = _LABELS.get(r["Id"][:3], "cta" if sobject == "CS_CTA__c" else "answer")
            name = str(r["Name"])
            if sobject == "Opportunity":
                name = name.split(" - ", 1)[-1]
            out[r["Id"]] = f"<{label}: {name}>"
    return out


def _relative(demo: DemoData, key: str, account_id: str, names: dict[str, str]) -> str:
    today = demo.anchor.date()
    key = key.replace(account_id, "<account>")
    key = _ID.sub(lambda m: names.get(m.group(0), "<id>"), key)
    key = key.replace(f":{iso_week(today)}", ":<this week>")
    key = key.replace(f":{half_year(today)}", ":<this half>")
    return _DATE.sub(lambda m: _day(today, date.fromisoformat(m.group(0))), key)


def _day(today: date, d: date) -> str:
    n = (d - today).days
    return "<today>" if n == 0 else f"<today{n:+d}>"


def _summary(s: Story) -> str:
    counts = Counter(k.split(":", 1)[0] for k in s.account_outputs)
    text = ", ".join(f"{r}" + (f" x{n}" if n > 1 else "") for r, n in sorted(counts.items()))
    return text or "none (not a customer)"


def regenerate(path: Path, demo: DemoData) -> str:
    """The document at ``path`` with its three generated blocks replaced."""
    text = path.read_text(encoding="utf-8")
    for block, body in (
        ("users", render_users_table()),
        ("stories", render_story_table(demo)),
        ("acts", render_acts_table(demo)),
    ):
        start, end = f"<!-- generated:{block} -->\n", f"<!-- /generated:{block} -->"
        head, rest = text.split(start, 1)
        text = head + start + body + end + rest.split(end, 1)[1]
    return text


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    from connector.sandbox.seed import generate

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/demo-org.md")
    target.write_text(regenerate(target, generate("S", 42, DOC_ANCHOR)), encoding="utf-8")
