"""The reconcile plan as a spec: DESIGN.md "Reconcile — the contract with the people using the CRM".

Each test is one sentence of that contract, with literal inputs (desired outputs, ledger rows,
the CRM as pulled, a policy) and the plan read back. No store, no clock, no network.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date, timedelta

from connector.reconcile.model import LedgerEntry, Observation
from connector.reconcile.plan import ZENDESK, fingerprint
from connector.rules.model import DesiredOutput

from .conftest import (
    ACCOUNT,
    CSM,
    DUE,
    EVIDENCE,
    MANAGER,
    NOW,
    TARGETS,
    TODAY,
    account_health,
    apply,
    closed_rec,
    crm_id_of,
    crm_of,
    cta,
    cta_entry,
    days_ago,
    deleted_rec,
    entry,
    mirror,
    open_rec,
    owned,
    persona,
    policy,
    rule_of,
    run,
    skips_of,
    task,
    task_entry,
    ticket,
    writes_of,
)

SUPPORT = f"support_risk:{ACCOUNT}"
HYGIENE = f"timeline_hygiene:{ACCOUNT}"
HANDOFF = f"ivm_handoff:{ACCOUNT}"
RENEWAL_DEC = f"renewal_upcoming:{ACCOUNT}:2026-12-01"
RENEWAL_JAN = f"renewal_upcoming:{ACCOUNT}:2027-01-15"
CONTACT = "003000000000001AAA"
VALIDATION = "FIELD_CUSTOM_VALIDATION_EXCEPTION"
USER_OWNED = ("owner_id", "due_date", "priority")


def only(items: list) -> object:
    assert len(items) == 1, items
    return items[0]


# == create ======================================================================================
def test_a_desired_cta_without_a_record_is_created_under_its_key() -> None:
    p = run([cta(SUPPORT)])

    w = only(p.writes)
    assert (w.op, w.target, w.external_id, w.key) == ("create", "cta", SUPPORT, SUPPORT)
    assert w.crm_id is None


def test_a_create_sends_the_rules_owner_due_date_and_priority() -> None:
    w = only(run([cta(SUPPORT, owner_id=CSM, due_date=DUE, priority="High")]).writes)

    assert w.values["owner_id"] == CSM
    assert w.values["due_date"] == DUE.isoformat()
    assert w.values["priority"] == "High"


def test_a_create_sets_the_constant_status_new() -> None:
    w = only(run([cta(SUPPORT)]).writes)

    assert TARGETS["cta"].constants == {"Status__c": "New"}
    assert w.status_set == "New"


def test_the_hash_of_a_create_covers_only_the_connector_owned_fields() -> None:
    w = only(run([cta(SUPPORT)]).writes)

    assert set(w.hashed) == set(TARGETS["cta"].fields)
    assert not set(USER_OWNED) & set(w.hashed)
    assert w.hash == fingerprint(w.hashed)
    assert w.hashed["evidence"] == EVIDENCE


# == update ======================================================================================
def test_an_unchanged_cta_makes_no_write() -> None:
    d = cta(SUPPORT)
    e = cta_entry(d)
    assert e.hash == fingerprint(owned(d))

    p = run([d], [e], mirror(e))

    assert p.writes == []
    assert p.skips == []


def test_a_changed_evidence_makes_one_update_naming_evidence() -> None:
    e = cta_entry(cta(SUPPORT))

    p = run([cta(SUPPORT, evidence="4 tickets open at 2026-10-09")], [e], mirror(e))

    w = only(p.writes)
    assert (w.op, w.external_id, w.crm_id) == ("update", SUPPORT, e.crm_id)
    assert w.changed == ("evidence",)
    assert w.values["evidence"] == "4 tickets open at 2026-10-09"


def test_an_update_never_sends_the_user_owned_fields() -> None:
    e = cta_entry(cta(SUPPORT))

    w = only(run([cta(SUPPORT, evidence="changed")], [e], mirror(e)).writes)

    assert not set(USER_OWNED) & set(w.values)


def test_a_new_owner_due_date_or_priority_from_the_rule_makes_no_write() -> None:
    e = cta_entry(cta(SUPPORT))
    later = cta(SUPPORT, owner_id=MANAGER, due_date=DUE + timedelta(days=7), priority="Low")

    assert run([later], [e], mirror(e)).writes == []


def test_a_cycle_after_the_writes_were_pushed_writes_nothing() -> None:
    desired = [cta(SUPPORT), task(SUPPORT, "stay-informed")]
    first = run(desired)
    ledger = apply([], first)

    assert run(desired, ledger, mirror(*ledger)).writes == []


# == closed by a person ==========================================================================
def test_a_cta_closed_by_a_person_is_observed() -> None:
    e = cta_entry(cta(SUPPORT))

    p = run([cta(SUPPORT)], [e], crm_of((e, closed_rec(e))))

    assert p.observations == [Observation("cta", SUPPORT, NOW, "person")]


def test_a_cta_closed_by_a_person_gets_one_update_writing_its_closed_date() -> None:
    e = cta_entry(cta(SUPPORT))

    p = run([cta(SUPPORT)], [e], crm_of((e, closed_rec(e))))

    w = only(p.writes)
    assert (w.op, w.external_id, w.crm_id) == ("update", SUPPORT, e.crm_id)
    assert w.changed == ("closed_date",)
    assert set(w.values) == {"closed_date"}
    assert str(w.values["closed_date"]) == TODAY.isoformat()


def test_a_cta_closed_by_a_person_gets_its_closed_date_only_once() -> None:
    e = cta_entry(cta(SUPPORT))
    crm = crm_of((e, closed_rec(e)))
    ledger = apply([e], run([cta(SUPPORT)], [e], crm))

    assert run([cta(SUPPORT)], ledger, crm).writes == []


def test_a_closed_cta_is_not_recreated_within_the_cool_down() -> None:
    e = cta_entry(cta(SUPPORT), closed_at=days_ago(13), closed_by="person")

    p = run([cta(SUPPORT)], [e], crm_of((e, closed_rec(e))))

    assert p.writes == []
    assert "cool-down" in only(skips_of(p, "cta")).reason


def test_a_cta_closed_just_now_is_not_recreated_in_the_same_plan() -> None:
    e = cta_entry(cta(SUPPORT))

    p = run([cta(SUPPORT)], [e], crm_of((e, closed_rec(e))))

    assert writes_of(p, "cta", "create") == []
    assert "cool-down" in only(skips_of(p, "cta")).reason


def test_after_the_cool_down_a_closed_cta_is_created_again_as_key_2() -> None:
    e = cta_entry(cta(SUPPORT), closed_at=days_ago(15), closed_by="person")

    p = run([cta(SUPPORT)], [e], crm_of((e, closed_rec(e))))

    w = only(p.writes)
    assert (w.op, w.external_id, w.key) == ("create", f"{SUPPORT}#2", SUPPORT)
    assert w.values["owner_id"] == CSM
    assert w.status_set == "New"


def test_the_third_occurrence_is_key_3() -> None:
    first = cta_entry(cta(SUPPORT), closed_at=days_ago(60), closed_by="person")
    second = cta_entry(
        cta(SUPPORT),
        f"{SUPPORT}#2",
        closed_at=days_ago(20),
        closed_by="person",
        created_at=days_ago(40),
    )
    crm = crm_of((first, closed_rec(first)), (second, closed_rec(second)))

    w = only(run([cta(SUPPORT)], [first, second], crm).writes)

    assert (w.op, w.external_id) == ("create", f"{SUPPORT}#3")


def test_a_rules_own_cool_down_replaces_the_default() -> None:
    closed = {"closed_at": days_ago(20), "closed_by": "person"}
    usage = f"usage_drop:{ACCOUNT}"
    support_e = cta_entry(cta(SUPPORT), **closed)
    usage_e = cta_entry(cta(usage), **closed)
    crm = crm_of((support_e, closed_rec(support_e)), (usage_e, closed_rec(usage_e)))

    p = run(
        [cta(SUPPORT), cta(usage)],
        [support_e, usage_e],
        crm,
        policy(cool_down={"support_risk": 30}),
    )

    assert [w.external_id for w in writes_of(p, "cta", "create")] == [f"{usage}#2"]
    assert "cool-down" in only(skips_of(p, "cta")).reason


def test_a_cta_a_person_reopened_is_not_duplicated() -> None:
    # Closed by a person 20 days ago (ledger), set back to "In Progress" since: an open record
    # of that rule and subject exists, so there is nothing to create (DESIGN, Reconcile 1).
    e = cta_entry(cta(SUPPORT), closed_at=days_ago(20), closed_by="person")

    p = run([cta(SUPPORT)], [e], crm_of((e, open_rec(e, status="In Progress"))))

    assert writes_of(p, "cta", "create") == []


# == deleted by a person =========================================================================
def test_a_deleted_cta_counts_as_closed_by_the_person() -> None:
    e = cta_entry(cta(SUPPORT))

    p = run([cta(SUPPORT)], [e], crm_of((e, deleted_rec(e))))

    assert p.observations == [Observation("cta", SUPPORT, NOW, "deleted")]


def test_a_deleted_cta_is_not_written_not_even_its_closed_date() -> None:
    e = cta_entry(cta(SUPPORT))

    p = run([cta(SUPPORT, evidence="changed")], [e], crm_of((e, deleted_rec(e))))

    assert p.writes == []


def test_a_deleted_cta_is_not_recreated_within_the_cool_down() -> None:
    e = cta_entry(cta(SUPPORT))

    p = run([cta(SUPPORT)], [e], crm_of((e, deleted_rec(e))))

    skip = only(skips_of(p, "cta"))
    assert "deleted" in skip.reason
    assert "cool-down" in skip.reason


# == snooze ======================================================================================
def test_a_snoozed_cta_is_not_updated() -> None:
    e = cta_entry(cta(SUPPORT))
    crm = crm_of((e, open_rec(e, snooze_until=TODAY + timedelta(days=1))))

    p = run([cta(SUPPORT, evidence="changed")], [e], crm)

    assert p.writes == []
    assert "snoozed" in only(skips_of(p, "cta")).reason


def test_a_snoozed_ctas_children_are_not_written() -> None:
    e = cta_entry(cta(SUPPORT))
    crm = crm_of((e, open_rec(e, snooze_until=TODAY + timedelta(days=7))))

    p = run([cta(SUPPORT), task(SUPPORT, "stay-informed"), ticket(SUPPORT)], [e], crm)

    assert p.writes == []
    assert len(skips_of(p, "task")) == 1
    assert len(skips_of(p, ZENDESK)) == 1


def test_a_snooze_in_the_past_has_no_effect() -> None:
    e = cta_entry(cta(SUPPORT))
    crm = crm_of((e, open_rec(e, snooze_until=TODAY - timedelta(days=1))))

    p = run([cta(SUPPORT, evidence="changed")], [e], crm)

    assert [(w.op, w.external_id) for w in p.writes] == [("update", SUPPORT)]
    assert p.skips == []


def test_a_snoozed_cta_is_not_cleared_when_its_rule_goes_quiet() -> None:
    e = cta_entry(cta(SUPPORT))
    crm = crm_of((e, open_rec(e, snooze_until=TODAY + timedelta(days=3))))

    assert run([], [e], crm).writes == []


# == one open CTA per rule and subject ===========================================================
def test_a_new_period_updates_the_open_cta_of_the_same_rule_and_subject() -> None:
    e = cta_entry(cta(RENEWAL_DEC, evidence="renewal on 2026-12-01"))

    p = run([cta(RENEWAL_JAN, evidence="renewal on 2027-01-15")], [e], mirror(e))

    w = only(p.writes)
    assert (w.op, w.external_id, w.crm_id) == ("update", RENEWAL_DEC, e.crm_id)
    assert w.values["evidence"] == "renewal on 2027-01-15"


def test_a_new_periods_task_goes_under_the_open_cta_that_absorbed_it() -> None:
    e = cta_entry(cta(RENEWAL_DEC))

    p = run([cta(RENEWAL_JAN), task(RENEWAL_JAN, "prepare")], [e], mirror(e))

    w = only(writes_of(p, "task"))
    assert (w.op, w.external_id) == ("create", f"{RENEWAL_DEC}/prepare")
    assert w.parent_external_id == RENEWAL_DEC


def test_a_new_period_after_the_old_one_closed_and_cooled_down_is_created_under_its_key() -> None:
    e = cta_entry(cta(RENEWAL_DEC), closed_at=days_ago(30), closed_by="person")

    p = run([cta(RENEWAL_JAN)], [e], crm_of((e, closed_rec(e))))

    w = only(p.writes)
    assert (w.op, w.external_id) == ("create", RENEWAL_JAN)


# == children ====================================================================================
def test_a_task_is_keyed_under_its_parents_external_id() -> None:
    p = run([cta(SUPPORT), task(SUPPORT, "stay-informed")])

    w = only(writes_of(p, "task"))
    assert (w.op, w.external_id) == ("create", f"{SUPPORT}/stay-informed")
    assert w.parent_external_id == SUPPORT


def test_a_task_follows_its_parent_to_key_2() -> None:
    e = cta_entry(cta(SUPPORT), closed_at=days_ago(15), closed_by="person")

    p = run([cta(SUPPORT), task(SUPPORT, "stay-informed")], [e], crm_of((e, closed_rec(e))))

    w = only(writes_of(p, "task"))
    assert (w.op, w.external_id, w.key) == (
        "create",
        f"{SUPPORT}#2/stay-informed",
        f"{SUPPORT}/stay-informed",
    )
    assert w.parent_external_id == f"{SUPPORT}#2"


def test_a_child_of_a_parent_in_cool_down_is_skipped() -> None:
    e = cta_entry(cta(SUPPORT), closed_at=days_ago(3), closed_by="person")

    p = run([cta(SUPPORT), task(SUPPORT, "stay-informed")], [e], crm_of((e, closed_rec(e))))

    assert p.writes == []
    assert "parent" in only(skips_of(p, "task")).reason


def test_a_task_a_person_completed_is_never_written_again() -> None:
    parent = cta_entry(cta(SUPPORT))
    t = task_entry(task(SUPPORT, "stay-informed"))
    crm = {**mirror(parent), **crm_of((t, closed_rec(t, status="Completed")))}

    p = run([cta(SUPPORT), task(SUPPORT, "stay-informed", subject="changed")], [parent, t], crm)

    assert writes_of(p, "task") == []
    assert p.observations == [Observation("task", t.external_id, NOW, "person")]
    assert "not written again" in only(skips_of(p, "task")).reason


def test_a_task_a_person_deleted_is_never_written_again() -> None:
    parent = cta_entry(cta(SUPPORT))
    t = task_entry(task(SUPPORT, "stay-informed"))
    crm = {**mirror(parent), **crm_of((t, deleted_rec(t)))}

    p = run([cta(SUPPORT), task(SUPPORT, "stay-informed", subject="changed")], [parent, t], crm)

    assert writes_of(p, "task") == []
    assert p.observations == [Observation("task", t.external_id, NOW, "deleted")]


def test_a_task_seen_closed_before_stays_unwritten() -> None:
    parent = cta_entry(cta(SUPPORT))
    t = task_entry(task(SUPPORT, "stay-informed"), closed_at=days_ago(40), closed_by="person")
    crm = {**mirror(parent), **crm_of((t, closed_rec(t, status="Completed")))}

    p = run([cta(SUPPORT), task(SUPPORT, "stay-informed", subject="changed")], [parent, t], crm)

    assert p.writes == []
    assert p.observations == []


# == rules that went quiet =======================================================================
def test_a_quiet_rules_open_cta_is_marked_cleared() -> None:
    e = cta_entry(cta(SUPPORT))

    p = run([], [e], mirror(e))

    w = only(p.writes)
    assert (w.op, w.external_id, w.crm_id) == ("update", SUPPORT, e.crm_id)
    assert w.values["rule_state"] == "Cleared"
    assert w.values["evidence"].startswith(EVIDENCE)
    assert w.values["evidence"].count("Condition cleared on") == 1
    assert f"Condition cleared on {TODAY.isoformat()}" in w.values["evidence"]
    assert "status" not in w.values


def test_a_cleared_cta_is_cleared_only_once() -> None:
    e = cta_entry(cta(SUPPORT))
    ledger = apply([e], run([], [e], mirror(e)))

    assert run([], ledger, mirror(e), policy(NOW + timedelta(days=1))).writes == []


def test_timeline_hygiene_auto_closes_while_the_status_is_the_one_the_connector_set() -> None:
    e = cta_entry(cta(HYGIENE, type_="Activity", reason="Relationship"))

    p = run([], [e], crm_of((e, open_rec(e, status="New"))))

    w = only(p.writes)
    assert (w.op, w.external_id, w.crm_id) == ("close", HYGIENE, e.crm_id)
    assert TARGETS["cta"].status.auto_close == "Closed - Success"
    assert w.values["status"] == "Closed - Success"
    assert w.status_set == "Closed - Success"
    assert w.values["rule_state"] == "Cleared"
    assert f"Condition cleared on {TODAY.isoformat()}" in w.values["evidence"]


def test_timeline_hygiene_a_person_moved_on_is_only_cleared_not_closed() -> None:
    e = cta_entry(cta(HYGIENE, type_="Activity", reason="Relationship"))

    p = run([], [e], crm_of((e, open_rec(e, status="In Progress"))))

    w = only(p.writes)
    assert w.op == "update"
    assert "status" not in w.values
    assert w.values["rule_state"] == "Cleared"


def test_a_cleared_cta_whose_rule_fires_again_is_active_again() -> None:
    e = cta_entry(cta(SUPPORT))
    ledger = apply([e], run([], [e], mirror(e)))

    w = only(run([cta(SUPPORT)], ledger, mirror(e)).writes)

    assert (w.op, w.values["rule_state"], w.values["evidence"]) == ("update", "Active", EVIDENCE)


def test_a_rule_kept_on_clear_is_left_alone() -> None:
    e = cta_entry(cta(HANDOFF, type_="Lifecycle", reason="Onboarding"))
    assert "ivm_handoff" in policy().keep_on_clear

    assert run([], [e], mirror(e)).writes == []


def test_a_rule_not_evaluated_this_time_is_left_alone() -> None:
    weekly = f"risk_weekly_update:{ACCOUNT}"
    e = cta_entry(cta(weekly))

    p = run([], [e], mirror(e), policy(evaluated=frozenset({"support_risk"})))

    assert p.writes == []


def test_a_rule_evaluated_this_time_that_produced_nothing_is_cleared() -> None:
    e = cta_entry(cta(SUPPORT))

    p = run([], [e], mirror(e), policy(evaluated=frozenset({"support_risk"})))

    assert only(p.writes).values["rule_state"] == "Cleared"


def test_a_clear_that_failed_validation_waits_for_a_change() -> None:
    # DESIGN, Push: "validation errors wait until the desired record changes".
    e = cta_entry(cta(SUPPORT))
    failed = run([], [e], mirror(e))
    e = replace(
        e,
        error_code=VALIDATION,
        error_message="Evidence too long",
        error_hash=failed.writes[0].hash,
    )

    p = run([], [e], mirror(e))

    assert p.writes == []


# == persona (an update by Id, guarded) ==========================================================
def test_a_persona_is_written_where_the_field_is_blank() -> None:
    p = run([persona(CONTACT, "Admin")], [], {("persona", CONTACT): open_rec(CONTACT)})

    w = only(p.writes)
    assert (w.op, w.target, w.crm_id) == ("update", "persona", CONTACT)
    assert w.values == {"persona": "Admin"}


def test_a_persona_is_rewritten_where_it_still_holds_the_connectors_last_value() -> None:
    last = entry("persona", f"persona_assignment:{CONTACT}", written={"persona": "End User"})
    crm = {("persona", CONTACT): replace(open_rec(CONTACT), guard_value="End User")}

    p = run([persona(CONTACT, "Admin")], [last], crm)

    w = only(p.writes)
    assert (w.op, w.crm_id, w.values["persona"]) == ("update", CONTACT, "Admin")


def test_a_persona_a_person_set_is_kept() -> None:
    last = entry("persona", f"persona_assignment:{CONTACT}", written={"persona": "End User"})
    crm = {("persona", CONTACT): replace(open_rec(CONTACT), guard_value="Champion")}

    p = run([persona(CONTACT, "Admin")], [last], crm)

    assert p.writes == []
    assert "a person set" in only(skips_of(p, "persona")).reason


def test_a_persona_already_holding_the_desired_value_makes_no_write() -> None:
    crm = {("persona", CONTACT): replace(open_rec(CONTACT), guard_value="Admin")}

    p = run([persona(CONTACT, "Admin")], [], crm)

    assert p.writes == []
    assert p.skips == []


# == current health on Account (an update by Id) =================================================
def test_account_health_is_an_update_by_id() -> None:
    p = run(
        [account_health(ACCOUNT, 72, "Yellow")],
        [],
        {("account_health", ACCOUNT): open_rec(ACCOUNT)},
    )

    w = only(p.writes)
    assert (w.op, w.target, w.crm_id) == ("update", "account_health", ACCOUNT)
    assert w.values["health_score"] == 72
    assert w.values["health_color"] == "Yellow"
    assert set(w.hashed) == {"health_score", "health_color"}


def test_a_new_health_updated_date_alone_makes_no_write() -> None:
    last = entry(
        "account_health",
        f"health_scorecard:{ACCOUNT}",
        written={"health_score": 72, "health_color": "Yellow"},
    )
    crm = {("account_health", ACCOUNT): open_rec(ACCOUNT)}

    p = run([account_health(ACCOUNT, 72, "Yellow", updated=TODAY + timedelta(days=1))], [last], crm)

    assert p.writes == []


def test_a_new_health_score_sends_the_updated_date_along() -> None:
    last = entry(
        "account_health",
        f"health_scorecard:{ACCOUNT}",
        written={"health_score": 72, "health_color": "Yellow"},
    )
    crm = {("account_health", ACCOUNT): open_rec(ACCOUNT)}

    w = only(run([account_health(ACCOUNT, 55, "Orange")], [last], crm).writes)

    assert w.changed == ("health_score", "health_color")
    assert w.values["health_updated"] == TODAY.isoformat()


# == failed writes ===============================================================================
def test_a_validation_error_waits_until_the_desired_values_change() -> None:
    failing = cta(SUPPORT, evidence="too long " * 10)
    e = cta_entry(
        cta(SUPPORT),
        error_code=VALIDATION,
        error_message="Evidence: value too long",
        error_hash=fingerprint(owned(failing)),
    )

    p = run([failing], [e], mirror(e))

    assert p.writes == []
    assert VALIDATION in only(skips_of(p, "cta")).reason


def test_after_a_validation_error_a_change_is_written() -> None:
    failing = cta(SUPPORT, evidence="too long " * 10)
    e = cta_entry(cta(SUPPORT), error_code=VALIDATION, error_hash=fingerprint(owned(failing)))

    p = run([cta(SUPPORT, evidence="shorter")], [e], mirror(e))

    w = only(p.writes)
    assert (w.op, w.values["evidence"]) == ("update", "shorter")


def test_a_transient_failure_waits_until_retry_at() -> None:
    e = cta_entry(
        cta(SUPPORT), error_code="UNABLE_TO_LOCK_ROW", retry_at=NOW + timedelta(minutes=5)
    )

    p = run([cta(SUPPORT, evidence="changed")], [e], mirror(e))

    assert p.writes == []
    assert "UNABLE_TO_LOCK_ROW" in only(skips_of(p, "cta")).reason


def test_a_transient_failure_is_retried_once_retry_at_has_passed() -> None:
    e = cta_entry(
        cta(SUPPORT), error_code="UNABLE_TO_LOCK_ROW", retry_at=NOW - timedelta(minutes=1)
    )

    p = run([cta(SUPPORT, evidence="changed")], [e], mirror(e))

    assert [w.op for w in p.writes] == ["update"]


def refused_create(d: DesiredOutput, code: str) -> LedgerEntry:
    """The ledger after the create of ``d`` was refused with ``code`` (push stores the write's
    wait hash as the error hash)."""
    create = next(w for w in run([d]).writes if w.key == d.key)
    return entry(
        d.object, d.key, crm_id=None, hash=None, error_code=code, error_hash=create.wait_hash
    )


def test_a_create_that_failed_validation_keeps_its_children_waiting() -> None:
    d = cta(SUPPORT)
    e = refused_create(d, VALIDATION)

    p = run([d, task(SUPPORT, "stay-informed")], [e])

    assert p.writes == []
    assert VALIDATION in only(skips_of(p, "cta")).reason
    assert len(skips_of(p, "task")) == 1


def test_a_create_refused_for_an_inactive_owner_waits_while_the_owner_is_the_same() -> None:
    e = refused_create(cta(SUPPORT), "INACTIVE_OWNER_OR_USER")

    p = run([cta(SUPPORT)], [e])

    assert p.writes == []
    assert "INACTIVE_OWNER_OR_USER" in only(skips_of(p, "cta")).reason


def test_a_create_refused_for_an_inactive_owner_is_sent_again_to_the_new_owner() -> None:
    # The owner is written only on create, so it is outside the owned hash; a refused create
    # must still notice that the admin (or the rules' fallback) picked another owner.
    e = refused_create(cta(SUPPORT), "INACTIVE_OWNER_OR_USER")

    w = only(run([cta(SUPPORT, owner_id=MANAGER)], [e]).writes)

    assert (w.op, w.values["owner_id"]) == ("create", MANAGER)


def test_an_update_refused_by_validation_still_ignores_a_new_owner() -> None:
    # Once the record exists a person owns its owner: a new owner from the rule is no change.
    failing = cta(SUPPORT, evidence="too long " * 10)
    e = cta_entry(cta(SUPPORT), error_code=VALIDATION, error_hash=fingerprint(owned(failing)))

    p = run([cta(SUPPORT, evidence="too long " * 10, owner_id=MANAGER)], [e], mirror(e))

    assert p.writes == []


def ivm_milestone(parent: str) -> DesiredOutput:
    fields = {
        "name": "IVM Reached",
        "milestone_type": "IVM Reached",
        "milestone_date": TODAY,
        "opportunity_id": None,
        "cta_id": None,
        "notes": "pilot held two weeks",
        "account_id": ACCOUNT,
    }
    return DesiredOutput(
        f"{parent}/milestone",
        rule_of(parent),
        "milestone",
        ACCOUNT,
        fields=fields,
        parent_key=parent,
    )


IVM = f"ivm_handoff:{ACCOUNT}"


def test_the_ivm_milestone_is_written_after_its_tasks() -> None:
    p = run([cta(IVM), ivm_milestone(IVM), task(IVM, "next-steps")])

    assert [w.target for w in p.writes] == ["cta", "task", "milestone"]


def test_the_ivm_milestone_is_not_created_while_a_sibling_task_waits_for_a_retry() -> None:
    # The rule stops firing once it sees its milestone: a milestone written before the task
    # would leave the task never created.
    c = cta_entry(cta(IVM))
    t = entry(
        "task",
        f"{IVM}/next-steps",
        crm_id=None,
        hash=None,
        error_code="UNABLE_TO_LOCK_ROW",
        retry_at=NOW + timedelta(minutes=15),
    )

    p = run([cta(IVM), ivm_milestone(IVM), task(IVM, "next-steps")], [c, t], mirror(c))

    assert p.writes == []
    assert "waits until the other records" in only(skips_of(p, "milestone")).reason


def test_an_ivm_milestone_whose_tasks_landed_is_created() -> None:
    c = cta_entry(cta(IVM))
    t = entry("task", f"{IVM}/next-steps", written=owned(task(IVM, "next-steps")))

    p = run([cta(IVM), ivm_milestone(IVM), task(IVM, "next-steps")], [c, t], mirror(c, t))

    assert [(w.target, w.op) for w in p.writes] == [("milestone", "create")]


def test_a_create_retried_after_a_failure_is_still_a_create_that_sets_status_new() -> None:
    # The retried create sends the constant Status New like any create (push adds constants on
    # "create"), so the ledger must learn status_set = New: the auto-close guard compares to it.
    e = entry("cta", SUPPORT, crm_id=None, hash=None, error_code="UNABLE_TO_LOCK_ROW")

    w = only(run([cta(SUPPORT)], [e]).writes)

    assert (w.op, w.external_id) == ("create", SUPPORT)
    assert w.values["owner_id"] == CSM
    assert w.status_set == "New"


# == adopted from the CRM (a rebuilt store) ======================================================
def test_an_unchanged_cta_the_ledger_lacks_is_adopted_without_a_write() -> None:
    d = cta(SUPPORT)
    crm = {("cta", SUPPORT): open_rec("a0XADOPTED", sync_hash=fingerprint(owned(d)))}

    p = run([d], [], crm)

    assert p.writes == []
    assert p.skips == []


def test_a_changed_cta_the_ledger_lacks_is_updated_not_created() -> None:
    crm = {("cta", SUPPORT): open_rec("a0XADOPTED", sync_hash=fingerprint(owned(cta(SUPPORT))))}

    p = run([cta(SUPPORT, evidence="changed")], [], crm)

    w = only(p.writes)
    assert (w.op, w.external_id, w.crm_id) == ("update", SUPPORT, "a0XADOPTED")


def test_an_adopted_key_2_is_the_open_cta_of_its_key() -> None:
    d = cta(SUPPORT)
    crm = {
        ("cta", SUPPORT): closed_rec("a0XFIRST"),
        ("cta", f"{SUPPORT}#2"): open_rec("a0XSECOND", sync_hash=fingerprint(owned(d))),
    }

    p = run([d, task(SUPPORT, "stay-informed")], [], crm)

    assert writes_of(p, "cta") == []
    assert only(writes_of(p, "task")).external_id == f"{SUPPORT}#2/stay-informed"


def test_an_adopted_key_10_comes_after_key_9() -> None:
    # timeline_hygiene auto-closes and fires again every few weeks: ten occurrences are ordinary.
    d = cta(HYGIENE)
    crm = {("cta", HYGIENE): closed_rec("a0X1", status="Closed - Success")}
    for n in range(2, 10):
        crm[("cta", f"{HYGIENE}#{n}")] = closed_rec(f"a0X{n}", status="Closed - Success")
    crm[("cta", f"{HYGIENE}#10")] = open_rec("a0X10", sync_hash=fingerprint(owned(d)))

    p = run([d, task(HYGIENE, "log-activity")], [], crm)

    assert writes_of(p, "cta") == []
    assert only(writes_of(p, "task")).external_id == f"{HYGIENE}#10/log-activity"


# == health snapshots ============================================================================
def snapshot(week_start: date) -> object:
    week = week_start.isocalendar()
    name = f"{week.year}-W{week.week:02d}"
    return entry(
        "health_snapshot",
        f"health_scorecard:{ACCOUNT}:{name}",
        written={"name": f"Health {name}", "week": name, "week_start": week_start.isoformat()},
    )


def test_a_snapshot_older_than_keep_weeks_is_deleted() -> None:
    old = snapshot(TODAY - timedelta(weeks=105))

    p = run([], [old])

    w = only(p.writes)
    assert (w.op, w.target, w.external_id, w.crm_id) == (
        "delete",
        "health_snapshot",
        old.external_id,
        old.crm_id,
    )


def test_a_recent_snapshot_is_kept() -> None:
    assert run([], [snapshot(TODAY - timedelta(weeks=2))]).writes == []


def test_a_snapshot_delete_that_failed_transiently_waits_until_retry_at() -> None:
    # DESIGN, Push: transient failures "retry next cycle with backoff".
    old = replace(
        snapshot(TODAY - timedelta(weeks=105)),
        error_code="UNABLE_TO_LOCK_ROW",
        retry_at=NOW + timedelta(minutes=30),
    )

    assert run([], [old]).writes == []


def test_keep_weeks_comes_from_the_policy() -> None:
    p = run([], [snapshot(TODAY - timedelta(weeks=5))], pol=policy(keep_weeks=4))

    assert [w.op for w in p.writes] == ["delete"]


# == Zendesk task tickets ========================================================================
def test_a_zendesk_task_is_created_under_its_ctas_external_id() -> None:
    p = run([cta(SUPPORT), ticket(SUPPORT)])

    w = only(writes_of(p, ZENDESK))
    assert (w.op, w.external_id) == ("create", SUPPORT)
    assert w.values["cta_key"] == SUPPORT
    assert w.values["subject"] == "Support risk: Acme"


def test_a_zendesk_task_follows_its_cta_to_key_2() -> None:
    e = cta_entry(cta(SUPPORT), closed_at=days_ago(15), closed_by="person")

    p = run([cta(SUPPORT), ticket(SUPPORT)], [e], crm_of((e, closed_rec(e))))

    w = only(writes_of(p, ZENDESK))
    assert (w.op, w.external_id, w.values["cta_key"]) == ("create", f"{SUPPORT}#2", f"{SUPPORT}#2")


def test_a_closed_ticket_is_never_reopened() -> None:
    parent = cta_entry(cta(SUPPORT))
    values = {
        "subject": "Support risk: Acme",
        "description": EVIDENCE,
        "risk_type": "support",
        "account_id": ACCOUNT,
        "cta_key": SUPPORT,
    }
    t = entry(ZENDESK, SUPPORT, written=values, crm_id="9001")
    crm = {**mirror(parent), (ZENDESK, SUPPORT): closed_rec("9001", status="solved")}

    p = run([cta(SUPPORT), ticket(SUPPORT, description="changed")], [parent, t], crm)

    assert writes_of(p, ZENDESK) == []
    assert "never reopened" in only(skips_of(p, ZENDESK)).reason


def test_no_ticket_while_the_cta_is_in_cool_down() -> None:
    e = cta_entry(cta(SUPPORT), closed_at=days_ago(3), closed_by="person")

    p = run([cta(SUPPORT), ticket(SUPPORT)], [e], crm_of((e, closed_rec(e))))

    assert p.writes == []
    assert len(skips_of(p, ZENDESK)) == 1


def test_the_ticket_id_is_written_onto_its_cta_once_the_ticket_exists() -> None:
    desired = [cta(SUPPORT), ticket(SUPPORT)]
    ledger = apply([], run(desired))
    ticket_id = crm_id_of(SUPPORT)  # what ``apply`` records as the created ticket's id

    p = run(desired, ledger, mirror(*ledger))

    w = only(p.writes)
    assert (w.op, w.target, w.changed) == ("update", "cta", ("zendesk_ticket_id",))
    assert w.values["zendesk_ticket_id"] == ticket_id
    assert run(desired, apply(ledger, p), mirror(*ledger)).writes == []


# == the plan as a whole =========================================================================
def busy_inputs() -> tuple[list, list, dict]:
    """A bit of everything: creates, updates, observations, a clear, a persona, a snapshot."""
    open_e = cta_entry(cta(SUPPORT))
    closed_e = cta_entry(cta(f"usage_drop:{ACCOUNT}"))
    gone_e = cta_entry(cta(f"bug_risk:{ACCOUNT}"))
    quiet_e = cta_entry(cta(HYGIENE))
    old = snapshot(TODAY - timedelta(weeks=110))
    desired = [
        cta(SUPPORT, evidence="changed"),
        task(SUPPORT, "stay-informed"),
        ticket(SUPPORT),
        cta(f"usage_drop:{ACCOUNT}"),
        cta(f"bug_risk:{ACCOUNT}"),
        cta(RENEWAL_JAN),
        persona(CONTACT, "Admin"),
        account_health(ACCOUNT, 72, "Yellow"),
    ]
    ledger = [open_e, closed_e, gone_e, quiet_e, old]
    crm = {
        **mirror(open_e, quiet_e),
        **crm_of((closed_e, closed_rec(closed_e)), (gone_e, deleted_rec(gone_e))),
        ("persona", CONTACT): open_rec(CONTACT),
        ("account_health", ACCOUNT): open_rec(ACCOUNT),
    }
    return desired, ledger, crm


def test_the_same_inputs_give_equal_plans() -> None:
    desired, ledger, crm = busy_inputs()

    first = run(desired, ledger, crm)

    assert first.writes and first.observations and first.skips
    assert run(desired, ledger, crm) == first


def test_the_plan_does_not_depend_on_the_order_inputs_arrive_in() -> None:
    # The store reads the ledger and the mirror without an ORDER BY: a dry run and the next real
    # cycle must still agree (DESIGN, Reconcile 7).
    desired, ledger, crm = busy_inputs()
    first = run(desired, ledger, crm)

    shuffled = random.Random(7)
    for _ in range(5):
        d, led, items = list(desired), list(ledger), list(crm.items())
        shuffled.shuffle(d)
        shuffled.shuffle(led)
        shuffled.shuffle(items)
        assert run(d, led, dict(items)) == first


def test_planning_leaves_its_inputs_untouched() -> None:
    desired, ledger, crm = busy_inputs()
    before = (list(desired), list(ledger), dict(crm))

    run(desired, ledger, crm)

    assert (desired, ledger, crm) == before


def test_every_write_is_plain_json_for_the_outbox() -> None:
    # Writes are stored in the outbox's JSON column and hashed values in the ledger's.
    desired, ledger, crm = busy_inputs()
    p = run(desired, ledger, crm)
    assert {w.op for w in p.writes} >= {"create", "update", "close", "delete"}

    for w in p.writes:
        json.dumps(dict(w.values))
        json.dumps(dict(w.hashed))


def test_a_plan_of_ctas_and_tickets_alone_writes_the_ctas_the_whole_plan_writes() -> None:
    # The follow-up after Zendesk jobs finish (``sync.FOLLOW_UP``) plans from the CTA and
    # ticket rows alone, to put ticket ids onto CTAs without reading every other output again.
    from connector.reconcile.plan import plan
    from connector.sync import FOLLOW_UP

    desired, ledger, crm = busy_inputs()
    pushed = apply(ledger, run(desired, ledger, crm))  # the ticket exists now: its id is known
    for led in (ledger, pushed):
        whole = run(desired, led, crm)
        part = plan(
            [d for d in desired if d.object in FOLLOW_UP],
            [e for e in led if e.target in FOLLOW_UP],
            {k: r for k, r in crm.items() if k[0] in FOLLOW_UP},
            policy(),
            {k: t for k, t in TARGETS.items() if k in FOLLOW_UP},
        )
        ctas = [w for w in whole.writes if w.target == "cta"]
        assert ctas and [w for w in part.writes if w.target == "cta"] == ctas
    assert any(w.changed == ("zendesk_ticket_id",) for w in run(desired, pushed, crm).writes)
