"""Literal inputs for the pure reconcile plan: desired outputs, ledger rows, CRM records, a policy.

``plan(desired, ledger, crm, policy, targets)`` reads nothing but its arguments, so each test
writes the few records its sentence needs with these builders and reads the plan back. The
targets are the shipped output mappings (``mappings/salesforce/outputs``), loaded once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from connector.reconcile.model import CrmRecord, LedgerEntry, Plan, Policy
from connector.reconcile.plan import ZENDESK, base_key, fingerprint, identity_of, plan
from connector.rules.model import DesiredOutput
from connector.targets import load_targets

TARGETS = load_targets(Path(__file__).resolve().parents[2] / "mappings")

NOW = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)  # a Friday
TODAY = NOW.date()
ACCOUNT = "001000000000001AAA"
CSM = "005000000000001AAA"
MANAGER = "005000000000002AAA"
DUE = date(2026, 10, 16)
EVIDENCE = "3 tickets open at 2026-10-09: #101, #102, #103 (threshold 3)"

_AUTO: Any = object()  # "derive it": a ledger hash from the written values, a CRM id from the key


# -- the policy ---------------------------------------------------------------------------------
def policy(now: datetime = NOW, *, cool_down: Mapping[str, int] | None = None, **kw: Any) -> Policy:
    """The evaluation instant (today is its UTC date) and per-rule settings."""
    return Policy(now=now, today=now.date(), cool_down_days=dict(cool_down or {}), **kw)


def days_ago(n: int) -> datetime:
    return NOW - timedelta(days=n)


def run(
    desired: Sequence[DesiredOutput] = (),
    ledger: Iterable[LedgerEntry] = (),
    crm: Mapping[tuple[str, str], CrmRecord] | None = None,
    pol: Policy | None = None,
) -> Plan:
    """``plan`` with the shipped targets and, unless given, the default policy at ``NOW``."""
    return plan(list(desired), list(ledger), dict(crm or {}), pol or policy(), TARGETS)


# -- desired outputs (the shapes ``connector.rules.outputs`` builds) ------------------------------
def rule_of(key: str) -> str:
    return key.split(":", 1)[0]


def cta(
    key: str,
    *,
    evidence: str = EVIDENCE,
    owner_id: str = CSM,
    due_date: date = DUE,
    priority: str = "High",
    name: str = "Support risk",
    type_: str = "Risk",
    reason: str = "Support",
    account_id: str = ACCOUNT,
) -> DesiredOutput:
    fields = {
        "name": name,
        "type": type_,
        "reason": reason,
        "priority": priority,
        "rule_id": rule_of(key),
        "evidence": evidence,
        "rule_state": "Active",
        "contact_id": None,
        "opportunity_id": None,
        "account_id": account_id,
    }
    return DesiredOutput(
        key, rule_of(key), "cta", account_id, owner_id, due_date, fields, None, evidence
    )


def task(
    parent: str,
    step: str,
    *,
    subject: str = "Stay informed: support tickets at Acme",
    owner_id: str = CSM,
    due_date: date = DUE,
    description: str | None = None,
) -> DesiredOutput:
    """A Task under a CTA, keyed ``<parent key>/<step>``."""
    fields = {"subject": subject, "who_id": None, "description": description, "what_key": parent}
    return DesiredOutput(
        f"{parent}/{step}", rule_of(parent), "task", ACCOUNT, owner_id, due_date, fields, parent
    )


def ticket(
    cta_key: str, *, subject: str = "Support risk: Acme", description: str = EVIDENCE
) -> DesiredOutput:
    """A Zendesk task ticket for the support managers, keyed like its CTA."""
    fields = {
        "subject": subject,
        "description": description,
        "risk_type": "support",
        "cta_key": cta_key,
    }
    return DesiredOutput(
        cta_key, rule_of(cta_key), ZENDESK, ACCOUNT, None, None, fields, cta_key, description
    )


def persona(contact: str, value: str) -> DesiredOutput:
    return DesiredOutput(
        f"persona_assignment:{contact}",
        "persona_assignment",
        "persona",
        ACCOUNT,
        fields={"persona": value, "contact_id": contact},
        evidence=f"title matched: {value}",
    )


def account_health(account: str, score: int, color: str, updated: date = TODAY) -> DesiredOutput:
    return DesiredOutput(
        f"health_scorecard:{account}",
        "health_scorecard",
        "account_health",
        account,
        fields={"health_score": score, "health_color": color, "health_updated": updated},
        evidence=f"overall {color} {score}",
    )


# -- the ledger ----------------------------------------------------------------------------------
def crm_id_of(external_id: str) -> str:
    return "a0X" + hashlib.sha1(external_id.encode()).hexdigest()[:15].upper()


def owned(d: DesiredOutput, **changes: Any) -> dict[str, Any]:
    """The connector-owned values of ``d`` as its create writes them (the target's [fields])."""
    values = {name: d.fields.get(name) for name in TARGETS[d.object].fields}
    values = {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
    return {**values, **changes}


def entry(
    target: str,
    external_id: str,
    *,
    written: Mapping[str, Any] | None = None,
    key: str | None = None,
    crm_id: str | None = _AUTO,
    hash: str | None = _AUTO,  # noqa: A002
    status_set: str | None = None,
    closed_at: datetime | None = None,
    closed_by: str | None = None,
    created_at: datetime | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    error_hash: str | None = None,
    retry_at: datetime | None = None,
) -> LedgerEntry:
    """One ledger row; by default written and hashed like a successful write of ``written``."""
    key = key if key is not None else base_key(external_id)
    return LedgerEntry(
        target=target,
        external_id=external_id,
        key=key,
        identity=identity_of(target, key),
        rule=rule_of(key),
        account_id=ACCOUNT,
        crm_id=crm_id_of(external_id) if crm_id is _AUTO else crm_id,
        hash=(fingerprint(written) if written is not None else None) if hash is _AUTO else hash,
        written=dict(written) if written is not None else None,
        status_set=status_set,
        closed_at=closed_at,
        closed_by=closed_by,  # type: ignore[arg-type]
        created_at=created_at if created_at is not None else days_ago(30),
        error_code=error_code,
        error_message=error_message,
        error_hash=error_hash,
        retry_at=retry_at,
    )


def cta_entry(d: DesiredOutput, external_id: str | None = None, **kw: Any) -> LedgerEntry:
    """The ledger after the CTA ``d`` was created (status New), optionally under ``key#n``."""
    written = kw.pop("written", None) or owned(d)
    kw.setdefault("status_set", "New")
    return entry("cta", external_id or d.key, written=written, key=d.key, **kw)


def task_entry(d: DesiredOutput, external_id: str | None = None, **kw: Any) -> LedgerEntry:
    written = kw.pop("written", None) or owned(d)
    return entry("task", external_id or d.key, written=written, key=d.key, **kw)


def apply(ledger: Iterable[LedgerEntry], done: Plan) -> list[LedgerEntry]:
    """The ledger after push wrote every write of ``done`` (as ``push.ledger`` records it)."""
    rows = {(e.target, e.external_id): e for e in ledger}
    for o in done.observations:
        e = rows[(o.target, o.external_id)]
        rows[(o.target, o.external_id)] = replace(e, closed_at=o.closed_at, closed_by=o.closed_by)
    for w in done.writes:
        before = rows.get((w.target, w.external_id))
        closing = w.op in ("close", "delete")
        keep_status = w.op == "update" and w.status_set is None and before is not None
        rows[(w.target, w.external_id)] = LedgerEntry(
            target=w.target,
            external_id=w.external_id,
            key=w.key,
            identity=w.identity,
            rule=w.rule,
            account_id=w.account_id,
            crm_id=w.crm_id or (before.crm_id if before else None) or crm_id_of(w.external_id),
            hash=w.hash or None,
            written=dict(w.hashed) if w.op != "delete" else None,
            status_set=before.status_set if keep_status and before else w.status_set,
            closed_at=NOW if closing else (before.closed_at if before else None),
            closed_by="connector" if closing else (before.closed_by if before else None),
            created_at=before.created_at if before else NOW,
        )
    return list(rows.values())


# -- the CRM as pulled -------------------------------------------------------------------------
def open_rec(
    e: LedgerEntry | str,
    *,
    status: str = "New",
    snooze_until: date | None = None,
    sync_hash: str | None = None,
) -> CrmRecord:
    crm_id = e if isinstance(e, str) else e.crm_id or crm_id_of(e.external_id)
    return CrmRecord(crm_id, status=status, snooze_until=snooze_until, sync_hash=sync_hash)


def closed_rec(e: LedgerEntry | str, *, status: str = "Closed - No Action") -> CrmRecord:
    crm_id = e if isinstance(e, str) else e.crm_id or crm_id_of(e.external_id)
    return CrmRecord(crm_id, status=status, closed=True)


def deleted_rec(e: LedgerEntry | str) -> CrmRecord:
    crm_id = e if isinstance(e, str) else e.crm_id or crm_id_of(e.external_id)
    return CrmRecord(crm_id, deleted=True)


def crm_of(*pairs: tuple[LedgerEntry, CrmRecord]) -> dict[tuple[str, str], CrmRecord]:
    """The CRM mirror keyed as ``plan`` reads it: (target, External Id)."""
    return {(e.target, e.external_id): rec for e, rec in pairs}


def mirror(*entries: LedgerEntry) -> dict[tuple[str, str], CrmRecord]:
    """Every entry's record open and untouched in the CRM."""
    return {(e.target, e.external_id): open_rec(e, sync_hash=e.hash) for e in entries}


# -- reading a plan ------------------------------------------------------------------------------
def writes_of(p: Plan, target: str | None = None, op: str | None = None) -> list[Any]:
    return [
        w for w in p.writes if (target is None or w.target == target) and (op is None or w.op == op)
    ]


def skips_of(p: Plan, target: str | None = None) -> list[Any]:
    return [s for s in p.skips if target is None or s.target == target]
