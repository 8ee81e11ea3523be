"""nps_detractor (RULES.md, Risk): an NPS response of 0-6 dated in the last 30 days."""

from __future__ import annotations

from datetime import date, timedelta

from conftest import NOW, OWNERS, World

from connector.rules.nps import NpsDetractor
from connector.rules.params import NpsParams, RuleParams

RULE = NpsDetractor()
TODAY = NOW.date()


def person(world: World, account: str, name: str = "Dana Scully", **values) -> str:
    first, _, last = name.partition(" ")
    return world.add(
        "contact", account_id=account, first_name=first, last_name=last, name=name, **values
    )


def answer(
    world: World,
    account: str,
    contact: str | None,
    score: int | None,
    days_ago: int,
    kind: str = "Relationship",
    **values,
) -> str:
    return world.add(
        "survey_answer",
        account_id=account,
        contact_id=contact,
        score=score,
        kind=kind,
        answer_date=TODAY - timedelta(days=days_ago),
        **values,
    )


def test_nps_detractor_fires_on_a_6_dated_exactly_30_days_ago(world) -> None:
    csm = world.user(name="Carla CSM")
    acme = world.customer("Acme", csm_id=csm)
    dana = person(world, acme)
    a = answer(world, acme, dana, 6, 30, comment="Too slow")
    (cta, task) = world.run(RULE)
    assert cta.key == f"nps_detractor:{a}" and cta.object == "cta"
    assert (cta.fields["type"], cta.fields["reason"], cta.fields["priority"]) == (
        "Risk",
        "NPS",
        "High",
    )
    assert cta.owner_id == csm and cta.due_date == TODAY + timedelta(days=2)
    assert cta.fields["contact_id"] == dana
    assert task.key == f"nps_detractor:{a}/email" and task.fields["who_id"] == dana
    assert task.owner_id == csm and task.due_date == TODAY + timedelta(days=2)
    assert "Hi Dana," in task.fields["description"] and "score of\n6" in task.fields["description"]
    assert "Carla CSM" in task.fields["description"]


def test_nps_detractor_stays_silent_on_a_7(world) -> None:
    acme = world.customer("Acme")
    answer(world, acme, person(world, acme), 7, 0)
    assert world.keys(RULE) == set()


def test_nps_detractor_stays_silent_on_a_6_dated_31_days_ago(world) -> None:
    acme = world.customer("Acme")
    answer(world, acme, person(world, acme), 6, 31)
    assert world.keys(RULE) == set()


def test_nps_detractor_stays_silent_on_an_answer_dated_after_today(world) -> None:
    acme = world.customer("Acme")
    answer(world, acme, person(world, acme), 0, -1)
    assert world.keys(RULE) == set()


def test_nps_detractor_fires_once_per_response(world) -> None:
    acme = world.customer("Acme")
    dana = person(world, acme)
    first, second = answer(world, acme, dana, 0, 3), answer(world, acme, dana, 5, 10)
    answer(world, acme, dana, 9, 1)
    assert world.keys(RULE) == {f"nps_detractor:{first}", f"nps_detractor:{second}"}


def test_nps_detractor_on_an_anonymous_answer_has_no_addressee(world) -> None:
    acme = world.customer("Acme")
    a = answer(world, acme, None, 2, 5, kind="Transactional")
    (cta, task) = world.run(RULE)
    assert cta.key == f"nps_detractor:{a}" and cta.fields["contact_id"] is None
    assert task.fields["who_id"] is None and "Hi ," in task.fields["description"]
    assert "anonymous" in cta.evidence


def test_nps_detractor_ignores_unscored_and_out_of_range_answers(world) -> None:
    acme = world.customer("Acme")
    dana = person(world, acme)
    answer(world, acme, dana, None, 2)
    answer(world, acme, dana, -1, 2)
    answer(world, acme, dana, 3, 2, deleted=True)
    assert world.keys(RULE) == set()


def test_nps_detractor_counts_only_the_configured_kinds(world) -> None:
    acme = world.customer("Acme")
    dana = person(world, acme)
    kept = answer(world, acme, dana, 1, 2, kind="Relationship")
    answer(world, acme, dana, 1, 2, kind="Transactional")
    ctx = world.ctx(params=RuleParams(nps=NpsParams(kinds=("Relationship",))))
    assert world.keys(RULE, ctx) == {f"nps_detractor:{kept}"}


def test_nps_detractor_ignores_answers_of_accounts_outside_the_customer_filter(world) -> None:
    prospect = world.customer("Prospect", type="Prospect")
    answer(world, prospect, person(world, prospect), 0, 1)
    assert world.keys(RULE) == set()


def test_nps_detractor_goes_to_the_account_owner_when_the_csm_is_inactive(world) -> None:
    ae = world.user()
    acme = world.customer("Acme", csm_id=world.user(active=False), owner_id=ae)
    answer(world, acme, person(world, acme), 4, 1)
    assert {o.owner_id for o in world.run(RULE)} == {ae}


def test_nps_detractor_goes_to_the_fallback_owner_when_csm_and_ae_are_inactive(world) -> None:
    acme = world.customer(
        "Acme", csm_id=world.user(active=False), owner_id=world.user(active=False)
    )
    answer(world, acme, person(world, acme), 4, 1)
    assert {o.owner_id for o in world.run(RULE)} == {OWNERS["fallback"]}


def test_nps_detractor_evidence_carries_the_answer_score_and_dates(world) -> None:
    acme = world.customer("Acme")
    dana = person(world, acme)
    a = answer(world, acme, dana, 6, 12, kind="Transactional")
    (cta, _) = world.run(RULE)
    assert a in cta.evidence and dana in cta.evidence and "Dana Scully" in cta.evidence
    assert "score 6" in cta.evidence and str(date(2026, 11, 6)) in cta.evidence
    assert "0-6" in cta.evidence and "2026-10-19 to 2026-11-18" in cta.evidence


def test_explain_shows_a_silent_accounts_answers_with_fires_false(world) -> None:
    acme = world.customer("Acme")
    a = answer(world, acme, person(world, acme), 8, 4)
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and (row["answer_id"], row["score"]) == (a, 8)
    assert "not a detractor" in RULE.evidence(row, world.ctx())


def test_explain_shows_an_account_without_answers(world) -> None:
    acme = world.customer("Acme")
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["answer_id"] is None
    assert "No NPS response" in RULE.evidence(row, world.ctx())
