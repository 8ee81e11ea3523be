"""``plan(desired, ledger, crm, policy, targets) -> Plan``: the contract with the CRM's people.

Pure: no I/O, no clock. DESIGN.md "Reconcile" in code:

- a desired output with no record is **created** under its key (External Id); after a person
  closed the last one and the rule's cool-down has passed, under ``key#2``, ``key#3``...;
- a CTA of the same rule and subject that is still open **absorbs** a new period (one open CTA
  per ``rule:subject``); children are keyed ``<parent External Id>/<step>``;
- an existing record is **updated** only when the hash of its connector-owned fields changed,
  and never while snoozed; user-owned fields are written on create only;
- a record a person closed or deleted is **observed** (ledger) and not written again; a CTA
  gets its closed date once;
- when a rule goes quiet its open CTA says "condition cleared on <date>", or is **closed** for
  rules that auto-close while the status still holds the connector's value;
- a persona is written only where the field is blank or still holds the connector's last value;
- a validation error waits until the desired record changes; transient errors until retry_at.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connector.reconcile.model import (
    ClosedBy,
    CrmRecord,
    LedgerEntry,
    Observation,
    Op,
    Plan,
    Policy,
    Skip,
    Write,
)
from connector.rules.model import DesiredOutput
from connector.targets import WRITE_ORDER, Target

ZENDESK = "zendesk_task"
ZENDESK_FIELDS = ("subject", "description", "risk_type", "account_id")
Key = tuple[str, str]  # (target, External Id or, by-Id targets, Id)
CrmState = Mapping[Key, CrmRecord]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def fingerprint(values: Mapping[str, Any]) -> str:
    """The ledger's hash of the owned values (stable JSON, dates as ISO text)."""
    text = json.dumps(values, sort_keys=True, default=_iso, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def identity_of(target: str, key: str) -> str:
    """``rule:subject`` for CTAs (the period is history, not identity); else the key."""
    if target != "cta":
        return key
    return ":".join(key.split("#", 1)[0].split(":")[:2])


def occurrence(external_id: str) -> tuple[int, str]:
    """Sort order of occurrences: ``key`` (1) < ``key#2`` < ... < ``key#10``."""
    _head, sep, tail = external_id.rpartition("#")
    return (int(tail), external_id) if sep and tail.isdigit() else (1, external_id)


def base_key(external_id: str) -> str:
    """The output key an External Id serves: ``key#2`` -> ``key`` (children keep theirs)."""
    head, sep, tail = external_id.rpartition("#")
    return head if sep and tail.isdigit() and "/" not in tail else external_id


def plan(
    desired: Sequence[DesiredOutput],
    ledger: Iterable[LedgerEntry],
    crm: CrmState,
    policy: Policy,
    targets: Mapping[str, Target],
) -> Plan:
    """Creates, updates, closes and skips that bring the CRM to the desired outputs: each
    object's plan (``Planner.stage``) in write order, parents before children."""
    entries = list(ledger)
    by_target: dict[str, tuple[list[DesiredOutput], list[LedgerEntry], dict[Key, CrmRecord]]]
    by_target = defaultdict(lambda: ([], [], {}))
    for d in desired:
        by_target[d.object][0].append(d)
    for e in entries:
        by_target[e.target][1].append(e)
    for k, rec in crm.items():
        by_target[k[0]][2][k] = rec
    planner = Planner(policy, targets)
    planner.tickets = ticket_ids(entries)
    out = Plan()
    for target in stage_order(by_target):
        mine, book, records = by_target.get(target, ([], [], {}))
        out.extend(planner.stage(target, mine, book, records))
    return out


def stage_order(seen: Iterable[str] = ()) -> list[str]:
    """The objects in the order they are planned and written: ``WRITE_ORDER`` (parents before
    children), then the Zendesk tickets (they link to their CTAs), then any other object the
    ledger names (only observed)."""
    first = (*WRITE_ORDER, ZENDESK)
    return [*first, *sorted(set(seen) - set(first))]


def ticket_ids(ledger: Iterable[LedgerEntry]) -> dict[str, str]:
    """CTA External Id -> the Zendesk ticket id the ledger holds for it (CTAs carry it)."""
    return {e.external_id: e.crm_id for e in ledger if e.target == ZENDESK and e.crm_id}


class Planner:
    """Plans one object at a time (``stage``), in ``stage_order``, so that only that object's
    outputs, ledger rows and CRM records need be in memory; what a later object reads of an
    earlier one is kept here: the External Ids parents were resolved to and which parents have
    a child that waits. CTAs also read their tickets' ids (``tickets``, set before the CTAs)."""

    def __init__(self, policy: Policy, targets: Mapping[str, Target]) -> None:
        self.policy, self.targets = policy, targets
        # Outputs whose resolved External Id a later object reads: parents, and the CTAs
        # (their tickets). Other objects' keys are not kept (a task per CTA step at scale L).
        self.parents = {t.parent.output for t in targets.values() if t.parent is not None}
        self.parents.add("cta")
        # (target, desired key) -> the External Id it lives under now; None: not writable now
        self.resolved: dict[Key, str | None] = {}
        # (parent output, desired parent key) with a child that waits: ``after_siblings`` holds
        self.waiting_children: set[Key] = set()
        self.tickets: Mapping[str, str] = {}  # CTA External Id -> Zendesk ticket id
        self._stage_state({}, {}, policy.in_flight)

    def _stage_state(
        self, crm: CrmState, entries: dict[Key, LedgerEntry], in_flight: frozenset[Key]
    ) -> None:
        self.crm, self.entries, self.in_flight = crm, entries, in_flight
        self.out = Plan()
        self.by_identity: dict[Key, list[LedgerEntry]] = defaultdict(list)

    def stage(
        self,
        target: str,
        desired: Sequence[DesiredOutput],
        ledger: Iterable[LedgerEntry],
        crm: CrmState,
        in_flight: frozenset[Key] | None = None,
    ) -> Plan:
        """One object's part of the plan, from its outputs, ledger rows and CRM records (and,
        unless given, the policy's writes in flight)."""
        entries = {(e.target, e.external_id): e for e in ledger}
        self._stage_state(crm, entries, self.policy.in_flight if in_flight is None else in_flight)
        self._adopt_from_crm()
        self._observe()
        self._group_identities()
        if target in (*WRITE_ORDER, ZENDESK):
            for d in sorted(desired, key=lambda d: d.key):
                if d.object == target:
                    self._one(d)
        if target == "cta":
            self._quiet(desired)
        if target == "health_snapshot":
            self._expire_snapshots()
        out = self.out
        self._stage_state({}, {}, frozenset())  # this object's inputs are no longer needed
        return out

    def _group_identities(self) -> None:
        """Each identity's records, oldest first: a CTA's latest occurrence is the last."""
        for e in self.entries.values():
            self.by_identity[(e.target, e.identity)].append(e)
        for group in self.by_identity.values():
            group.sort(key=lambda e: (e.created_at or EPOCH, occurrence(e.external_id)))

    # -- the ledger as the CRM shows it ---------------------------------------------------
    def _adopt_from_crm(self) -> None:
        """Records the CRM holds under an External Id the ledger lacks (a rebuilt store)."""
        for (target, ext), rec in self.crm.items():
            t = self.targets.get(target)
            if t is None or t.by_id:
                continue
            known = self.entries.get((target, ext))
            if known is not None:
                # Known without an Id (seen closed by a person, or a create whose answer was
                # lost): the record exists, so writing it is an update, never a create again.
                if known.crm_id is None and rec.crm_id:
                    self.entries[(target, ext)] = _replace(known, crm_id=rec.crm_id)
                continue
            key = base_key(ext)
            self.entries[(target, ext)] = LedgerEntry(
                target=target,
                external_id=ext,
                key=key,
                identity=identity_of(target, key),
                rule=key.split(":", 1)[0],
                crm_id=rec.crm_id,
                hash=rec.sync_hash,
                created_at=EPOCH,
            )

    def _observe(self) -> None:
        """A record closed or deleted by a person is closed in the ledger, once; one a person
        reopened is open again (and loses its closed date)."""
        for k, e in sorted(self.entries.items()):
            if self._by_id(e.target):
                continue
            rec = self.crm.get(k)
            if rec is None:
                continue
            if e.closed_at is not None:
                if e.closed_by != "deleted" and not rec.deleted and not rec.closed:
                    self._reopened(k, e)
                continue
            by: ClosedBy | None = "deleted" if rec.deleted else "person" if rec.closed else None
            if by is None:
                continue
            self.out.observations.append(Observation(e.target, e.external_id, self.policy.now, by))
            self.entries[k] = _replace(e, closed_at=self.policy.now, closed_by=by)
            t = self.targets.get(e.target)
            if by == "person" and t is not None and "closed_date" in t.fields and e.written:
                self._closed_date(self.entries[k], t)

    def _reopened(self, k: tuple[str, str], e: LedgerEntry) -> None:
        self.out.observations.append(Observation(e.target, e.external_id, None, None))
        self.entries[k] = _replace(e, closed_at=None, closed_by=None)
        t = self.targets.get(e.target)
        if t is not None and (e.written or {}).get("closed_date"):
            hashed = {**(e.written or {}), "closed_date": None}
            self._emit(
                "update",
                t,
                self.entries[k],
                {"closed_date": None},
                hashed,
                ("closed_date",),
                e.crm_id,
                reason="reopened by a person: closed date cleared",
            )

    def _closed_date(self, e: LedgerEntry, t: Target) -> None:
        hashed = {**(e.written or {}), "closed_date": self.policy.today.isoformat()}
        self._emit(
            "update",
            t,
            e,
            {"closed_date": self.policy.today.isoformat()},
            hashed,
            ("closed_date",),
            e.crm_id,
            reason="closed by a person: record the day",
        )

    def _by_id(self, target: str) -> bool:
        t = self.targets.get(target)
        return t is not None and t.by_id

    # -- desired outputs ------------------------------------------------------------------
    def _one(self, d: DesiredOutput) -> None:
        if d.object == ZENDESK:
            self._zendesk(d)
            return
        t = self.targets.get(d.object)
        if t is None:
            self._skip(d.object, d.key, "no output mapping for this object")
            return
        if t.by_id:
            self._by_id_write(d, t)
        elif d.object == "cta":
            self._cta(d, t)
        else:
            self._keyed(d, t)

    def _cta(self, d: DesiredOutput, t: Target) -> None:
        identity = identity_of("cta", d.key)
        group = self.by_identity.get(("cta", identity), [])
        latest = group[-1] if group else None
        if latest is not None and latest.closed_at is None:
            rec = self.crm.get(("cta", latest.external_id))
            if rec is not None and rec.snooze_until and rec.snooze_until > self.policy.today:
                self._resolve(d, None)
                self._skip("cta", d.key, f"snoozed until {rec.snooze_until.isoformat()}")
                return
            self._resolve(d, latest.external_id)
            self._write_existing(d, t, latest)
            return
        if latest is not None and latest.closed_at is not None:
            until = latest.closed_at + timedelta(days=self.policy.cool_down(d.rule))
            if self.policy.now < until:
                self._resolve(d, None)
                who = "deleted" if latest.closed_by == "deleted" else "closed"
                self._skip(
                    "cta",
                    d.key,
                    f"{latest.external_id} {who} on {latest.closed_at.date().isoformat()}; "
                    f"cool-down until {until.date().isoformat()}",
                )
                return
        ext = self._next_external_id("cta", d.key)
        self._resolve(d, ext)
        self._create(d, t, ext, identity)

    def _keyed(self, d: DesiredOutput, t: Target) -> None:
        ext = self._external_id(d, t)
        if ext is None:
            return
        self._resolve(d, ext)
        entry = self.entries.get((t.output, ext))
        if (entry is None or entry.crm_id is None) and self._sibling_waits(d, t):
            return
        if entry is None:
            self._create(d, t, ext, ext)
        elif entry.closed_at is not None:
            self._resolve(d, None)
            self._skip(t.output, d.key, f"{ext} {_closed_words(entry)}: not written again")
        else:
            self._write_existing(d, t, entry)

    def _sibling_waits(self, d: DesiredOutput, t: Target) -> bool:
        """An ``after_siblings`` record (the IVM milestone) is not created while a sibling waits
        for a retry: the rule reads it as "done" and would forget the sibling."""
        if t.parent is None or not t.parent.after_siblings or not d.parent_key:
            return False
        if (t.parent.output, d.parent_key) not in self.waiting_children:
            return False
        self._resolve(d, None)
        self._skip(t.output, d.key, f"waits until the other records of {d.parent_key} are written")
        return True

    def _external_id(self, d: DesiredOutput, t: Target) -> str | None:
        """The key, or for a child the parent's current External Id + the step."""
        if not d.parent_key or t.parent is None:
            return d.key
        parent_ext = self.resolved.get((t.parent.output, d.parent_key), d.parent_key)
        if (t.parent.output, d.parent_key) not in self.resolved:
            parent_ext = d.parent_key  # the parent is not a desired output now: keep the key
        if parent_ext is None:
            self._skip(
                t.output, d.key, "its parent is not written now (closed, cool-down or snoozed)"
            )
            return None
        suffix = d.key[len(d.parent_key) :] if d.key.startswith(d.parent_key) else ""
        return parent_ext + suffix if suffix else d.key

    def _in_job(self, d: DesiredOutput, target: str, ext: str, unresolve: bool) -> bool:
        """A write still in a Bulk or Zendesk job is not planned again (nor its children
        while it is a create)."""
        if (target, ext) not in self.in_flight:
            return False
        if unresolve:
            self._resolve(d, None)
        self.out.waiting_on_jobs += 1
        self._skip(target, d.key, f"{ext} is in a job that has not finished yet")
        return True

    def _write_existing(self, d: DesiredOutput, t: Target, entry: LedgerEntry) -> None:
        if self._in_job(d, t.output, entry.external_id, entry.crm_id is None):
            return
        values = self._values(d, t)
        hashed = self._hashed(t, values, entry)
        digest = fingerprint(hashed)
        if digest == entry.hash:
            return
        wait = digest if entry.crm_id is not None else _create_digest(t, hashed, values)
        if self._waiting(t.output, d.key, entry, wait):
            if t.parent is not None and d.parent_key:
                self.waiting_children.add((t.parent.output, d.parent_key))
            if entry.crm_id is None:  # never created: its children wait with it
                self._resolve(d, None)
            return
        send = {k: values.get(k, hashed.get(k)) for k in (*t.fields, *t.unhashed)}
        op = "create" if entry.crm_id is None else "update"
        if op == "create":
            send.update({k: values[k] for k in t.on_create if values.get(k) is not None})
        changed = tuple(k for k in t.fields if (entry.written or {}).get(k) != hashed.get(k))
        status = None
        if op == "create" and t.status is not None and t.status.field:
            status = t.constants.get(t.status.field)  # a retried create still sets Status New
        self._emit(
            op,
            t,
            entry,
            send,
            hashed,
            changed,
            entry.crm_id,
            parent=self._parent_of(d, t),
            status_set=status,
            wait_hash=wait,
        )

    def _create(self, d: DesiredOutput, t: Target, ext: str, identity: str) -> None:
        if self._in_job(d, t.output, ext, True):
            return
        values = self._values(d, t)
        hashed = self._hashed(t, values, None)
        send = {k: values.get(k, hashed.get(k)) for k in (*t.fields, *t.unhashed)}
        send.update({k: values[k] for k in t.on_create if values.get(k) is not None})
        entry = LedgerEntry(
            target=t.output,
            external_id=ext,
            key=d.key,
            identity=identity,
            rule=d.rule,
            account_id=d.account_id,
        )
        status = t.constants.get(t.status.field) if t.status and t.status.field else None
        self._emit(
            "create",
            t,
            entry,
            send,
            hashed,
            tuple(hashed),
            None,
            parent=self._parent_of(d, t),
            status_set=status,
            wait_hash=_create_digest(t, hashed, values),
        )

    def _parent_of(self, d: DesiredOutput, t: Target) -> str | None:
        if t.parent is None or t.parent.relationship is None or not d.parent_key:
            return None
        return self.resolved.get((t.parent.output, d.parent_key)) or d.parent_key

    def _values(self, d: DesiredOutput, t: Target) -> dict[str, Any]:
        values: dict[str, Any] = {k: _plain(v) for k, v in d.fields.items()}
        if d.owner_id is not None:
            values["owner_id"] = d.owner_id
        if d.due_date is not None:
            values["due_date"] = d.due_date.isoformat()
        for name, value in values.items():  # ticket text is data: cut to the field's length
            limit = t.lengths.get(t.crm_field(name) or "")
            if limit and isinstance(value, str) and len(value) > limit:
                values[name] = value[: limit - 1] + "…"
        return values

    def _hashed(
        self, t: Target, values: Mapping[str, Any], entry: LedgerEntry | None
    ) -> dict[str, Any]:
        """The connector-owned values; fields the rules do not set are carried forward."""
        before = (entry.written or {}) if entry is not None else {}
        hashed = {k: values.get(k, before.get(k)) for k in t.fields}
        if t.output == "cta" and entry is not None:
            ticket = self.tickets.get(entry.external_id)
            if ticket is not None:
                hashed["zendesk_ticket_id"] = ticket
        return hashed

    def _waiting(self, target: str, key: str, entry: LedgerEntry, digest: str) -> bool:
        if entry.retry_at is not None and entry.retry_at > self.policy.now:
            self._skip(
                target, key, f"retrying after {entry.retry_at.isoformat()}: {entry.error_code}"
            )
            return True
        if entry.error_hash is not None and entry.error_hash == digest:
            self._skip(
                target,
                key,
                f"waits for a change: {entry.error_code}: {entry.error_message}",
            )
            return True
        return False

    # -- by-Id targets: persona, current health ------------------------------------------
    def _by_id_write(self, d: DesiredOutput, t: Target) -> None:
        assert t.id_from is not None
        crm_id = d.fields.get(t.id_from) or getattr(d, t.id_from, None)
        if not crm_id:
            self._skip(t.output, d.key, f"no {t.id_from}")
            return
        if self._in_job(d, t.output, d.key, False):
            return
        rec = self.crm.get((t.output, str(crm_id)))
        if rec is None or rec.deleted:
            self._skip(t.output, d.key, f"{crm_id} is not in the CRM")
            return
        entry = self.entries.get((t.output, d.key)) or LedgerEntry(
            target=t.output,
            external_id=d.key,
            key=d.key,
            identity=d.key,
            rule=d.rule,
            account_id=d.account_id,
        )
        values = self._values(d, t)
        hashed = {k: values.get(k) for k in t.fields}
        if t.guard is not None:
            want, now = hashed.get(t.guard), rec.guard_value
            last = (entry.written or {}).get(t.guard)
            if now == want:
                return
            if now not in (None, "") and now != last:
                self._skip(t.output, d.key, f"a person set {t.guard} {now!r}: kept")
                return
        digest = fingerprint(hashed)
        if digest == entry.hash:  # written already (the pulled value may lag a Bulk job)
            return
        if self._waiting(t.output, d.key, entry, digest):
            return
        send = {k: values.get(k) for k in (*t.fields, *t.unhashed)}
        changed = tuple(k for k in t.fields if (entry.written or {}).get(k) != hashed.get(k))
        self._emit("update", t, entry, send, hashed, changed, str(crm_id))

    # -- Zendesk task tickets ------------------------------------------------------------
    def _zendesk(self, d: DesiredOutput) -> None:
        parent = d.parent_key or d.key
        cta_ext = self.resolved.get(("cta", parent))
        if cta_ext is None:
            self._skip(ZENDESK, d.key, "its CTA is not written now (closed, cool-down or snoozed)")
            return
        if self._in_job(d, ZENDESK, cta_ext, False):
            return
        entry = self.entries.get((ZENDESK, cta_ext))
        values = {k: _plain(d.fields.get(k, getattr(d, k, None))) for k in ZENDESK_FIELDS}
        values["cta_key"] = cta_ext
        digest = fingerprint(values)
        if entry is None:
            entry = LedgerEntry(
                target=ZENDESK,
                external_id=cta_ext,
                key=d.key,
                identity=cta_ext,
                rule=d.rule,
                account_id=d.account_id,
            )
            self.out.writes.append(
                Write(
                    "create",
                    ZENDESK,
                    cta_ext,
                    d.key,
                    cta_ext,
                    d.rule,
                    d.account_id,
                    values,
                    values,
                    digest,
                    tuple(values),
                    None,
                    cta_ext,
                )
            )
            return
        if entry.closed_at is not None:
            self._skip(
                ZENDESK, d.key, f"ticket {entry.crm_id} {_closed_words(entry)}: never reopened"
            )
            return
        if digest == entry.hash or self._waiting(ZENDESK, d.key, entry, digest):
            return
        op: Op = "create" if entry.crm_id is None else "update"
        changed = tuple(k for k in values if (entry.written or {}).get(k) != values[k])
        self.out.writes.append(
            Write(
                op,
                ZENDESK,
                cta_ext,
                entry.key,
                entry.identity,
                entry.rule,
                entry.account_id,
                values,
                values,
                digest,
                changed,
                entry.crm_id,
                cta_ext,
            )
        )

    # -- records whose rule went quiet ---------------------------------------------------
    def _quiet(self, desired: Sequence[DesiredOutput]) -> None:
        wanted = {identity_of("cta", d.key) for d in desired if d.object == "cta"}
        t = self.targets.get("cta")
        if t is None:
            return
        for (target, _identity), group in sorted(self.by_identity.items()):
            latest = group[-1]
            if target != "cta" or latest.identity in wanted or latest.closed_at is not None:
                continue
            if self.policy.evaluated is not None and latest.rule not in self.policy.evaluated:
                continue
            if latest.rule in self.policy.keep_on_clear or not latest.written:
                continue
            rec = self.crm.get(("cta", latest.external_id))
            if rec is not None and rec.snooze_until and rec.snooze_until > self.policy.today:
                continue
            if latest.written.get("rule_state") == "Cleared":
                continue
            self._clear(latest, t, rec)

    def _clear(self, e: LedgerEntry, t: Target, rec: CrmRecord | None) -> None:
        written = dict(e.written or {})
        today = self.policy.today.isoformat()
        hashed = {**written, "rule_state": "Cleared"}
        hashed["evidence"] = f"{written.get('evidence') or ''}\nCondition cleared on {today}."
        if self._waiting("cta", e.key, e, fingerprint({**hashed, "closed_date": None})) or (
            self._waiting("cta", e.key, e, fingerprint({**hashed, "closed_date": today}))
        ):
            return
        status_now = rec.status if rec is not None else e.status_set
        auto = (
            e.rule in self.policy.auto_close
            and t.status is not None
            and t.status.auto_close is not None
            and status_now is not None
            and status_now == e.status_set
        )
        if auto:
            assert t.status is not None
            hashed["closed_date"] = self.policy.today.isoformat()
            send = {**hashed, "status": t.status.auto_close}
            self._emit(
                "close",
                t,
                e,
                send,
                hashed,
                ("rule_state", "evidence", "closed_date"),
                e.crm_id,
                status_set=t.status.auto_close,
                reason="auto-close: cleared",
            )
        else:
            self._emit(
                "update",
                t,
                e,
                hashed,
                hashed,
                ("rule_state", "evidence"),
                e.crm_id,
                reason=f"condition cleared on {today}",
            )

    def _expire_snapshots(self) -> None:
        t = self.targets.get("health_snapshot")
        if t is None:
            return
        oldest = self.policy.today - timedelta(weeks=self.policy.keep_weeks)
        for (target, _ext), e in sorted(self.entries.items()):
            if target != "health_snapshot" or e.closed_at is not None or e.crm_id is None:
                continue
            start = (e.written or {}).get("week_start")
            if e.retry_at is not None and e.retry_at > self.policy.now:
                continue
            if start and date.fromisoformat(str(start)) < oldest:
                self._emit(
                    "delete",
                    t,
                    e,
                    {},
                    {},
                    (),
                    e.crm_id,
                    reason=f"older than {self.policy.keep_weeks} weeks",
                )

    # -- helpers -------------------------------------------------------------------------
    def _next_external_id(self, target: str, key: str) -> str:
        if (target, key) not in self.entries:
            return key
        n = 2
        while (target, f"{key}#{n}") in self.entries:
            n += 1
        return f"{key}#{n}"

    def _resolve(self, d: DesiredOutput, ext: str | None) -> None:
        if d.object in self.parents:
            self.resolved[(d.object, d.key)] = ext

    def _skip(self, target: str, key: str, reason: str) -> None:
        self.out.skips.append(Skip(target, key, reason))

    def _emit(
        self,
        op: Any,
        t: Target,
        e: LedgerEntry,
        send: Mapping[str, Any],
        hashed: Mapping[str, Any],
        changed: tuple[str, ...],
        crm_id: str | None,
        *,
        parent: str | None = None,
        status_set: str | None = None,
        reason: str = "",
        wait_hash: str = "",
    ) -> None:
        self.out.writes.append(
            Write(
                op=op,
                target=t.output,
                external_id=e.external_id,
                key=e.key,
                identity=e.identity,
                rule=e.rule,
                account_id=e.account_id,
                values=dict(send),
                hashed=dict(hashed),
                hash=fingerprint(hashed) if op != "delete" else "",
                changed=changed,
                crm_id=crm_id,
                parent_external_id=parent,
                status_set=status_set or e.status_set,
                reason=reason,
                wait_hash=wait_hash,
            )
        )


def _create_digest(t: Target, hashed: Mapping[str, Any], values: Mapping[str, Any]) -> str:
    """A create refused for a create-only value (an inactive owner) retries when that changes."""
    create_only = {f"on_create:{k}": _plain(values.get(k)) for k in sorted(t.on_create)}
    return fingerprint({**hashed, **create_only})


def _closed_words(e: LedgerEntry) -> str:
    day = e.closed_at.date().isoformat() if e.closed_at else "?"
    return {"deleted": f"deleted on {day}", "connector": f"closed by the connector on {day}"}.get(
        e.closed_by or "", f"closed by a person on {day}"
    )


def _replace(e: LedgerEntry, **changes: Any) -> LedgerEntry:
    from dataclasses import replace

    return replace(e, **changes)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _iso(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")
