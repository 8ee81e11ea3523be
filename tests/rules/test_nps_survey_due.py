"""nps_survey_due (RULES.md, Lifecycle and relationship): active contacts without a
relationship-survey answer dated in the last 180 days, one task per half-year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import NOW, OWNERS, World

from connector.rules.nps_survey import NpsSurveyDue
from connector.rules.params import NpsParams, RuleParams

RULE = NpsSurveyDue()
TODAY = NOW.date()


def person(world: World, account: str, name: str = "Dana Scully", **values) -> str:
    return world.add("contact", account_id=account, name=name, **values)


def answer(
    world: World,
    account: str,
    contact: str | None,
    days_ago: int,
    score: int | None = 9,
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


def test_nps_survey_due_fires_on_a_contact_whose_last_answer_is_181_days_old(world) -> None:
    csm = world.user()
    acme = world.customer("Acme", csm_id=csm)
    dana = person(world, acme, "Dana Scully")
    answer(world, acme, dana, 181)
    answer(world, acme, person(world, acme, "Fox Mulder"), 20)
    (task,) = world.run(RULE)
    assert task.key == f"nps_survey_due:{acme}:2026-H2" and task.object == "task"
    assert task.owner_id == csm and task.due_date == TODAY + timedelta(days=14)
    assert task.parent_key is None and task.fields["what_id"] == acme
    assert f"- Dana Scully ({dana})" in task.fields["description"]
    assert "Fox Mulder" not in task.fields["description"]


def test_nps_survey_due_stays_silent_on_an_answer_exactly_180_days_old(world) -> None:
    acme = world.customer("Acme")
    answer(world, acme, person(world, acme), 180)
    assert world.keys(RULE) == set()


def test_nps_survey_due_fires_on_a_contact_who_never_answered(world) -> None:
    acme = world.customer("Acme")
    person(world, acme)
    assert world.keys(RULE) == {f"nps_survey_due:{acme}:2026-H2"}


def test_nps_survey_due_stays_silent_on_an_unscored_answer_on_another_account(world) -> None:
    acme = world.customer("Acme")
    elsewhere = world.customer("Elsewhere", type="Prospect")
    answer(world, elsewhere, person(world, acme), 30, score=None)
    assert world.keys(RULE) == set()


def test_nps_survey_due_fires_when_only_other_kinds_were_answered(world) -> None:
    acme = world.customer("Acme")
    dana = person(world, acme)
    answer(world, acme, dana, 10, kind="Transactional")
    answer(world, acme, dana, 100, deleted=True)
    answer(world, acme, dana, -3)  # dated after today
    assert world.keys(RULE) == {f"nps_survey_due:{acme}:2026-H2"}


def test_nps_survey_due_reads_the_configured_relationship_kinds(world) -> None:
    acme = world.customer("Acme")
    answer(world, acme, person(world, acme), 10, kind="Quarterly")
    params = RuleParams(nps=NpsParams(relationship_kinds=("Quarterly", "Relationship")))
    assert world.keys(RULE, world.ctx(params=params)) == set()
    assert world.keys(RULE) == {f"nps_survey_due:{acme}:2026-H2"}


def test_nps_survey_due_stays_silent_on_inactive_and_deleted_contacts(world) -> None:
    acme = world.customer("Acme")
    person(world, acme, "Lena Gray", inactive=True)
    person(world, acme, "Gone Person", deleted=True)
    answer(world, acme, person(world, acme), 1)
    assert world.keys(RULE) == set()


def test_nps_survey_due_lists_every_lapsed_contact_once(world) -> None:
    acme = world.customer("Acme")
    a = person(world, acme, "Smith, Jr. Al")
    b = person(world, acme, "Bea Moss")
    answer(world, acme, b, 200)
    answer(world, acme, b, 190)
    (task,) = world.run(RULE)
    lines = task.fields["description"].splitlines()
    assert lines[1:] == sorted([f"- Smith Jr. Al ({a})", f"- Bea Moss ({b})"])
    assert "2 of 2 active contacts" in task.evidence and "2026-05-22 to 2026-11-18" in lines[0]


def test_nps_survey_due_keys_by_the_half_year_of_today(world) -> None:
    acme = world.customer("Acme")
    person(world, acme)
    june = world.ctx(now=datetime(2026, 6, 30, 23, 0, tzinfo=UTC))
    assert world.keys(RULE, june) == {f"nps_survey_due:{acme}:2026-H1"}


def test_nps_survey_due_ignores_accounts_outside_the_customer_filter(world) -> None:
    prospect = world.customer("Prospect", type="Prospect")
    person(world, prospect)
    assert world.keys(RULE) == set()


def test_nps_survey_due_goes_to_the_account_owner_when_the_csm_is_inactive(world) -> None:
    ae = world.user()
    acme = world.customer("Acme", csm_id=world.user(active=False), owner_id=ae)
    person(world, acme)
    assert [o.owner_id for o in world.run(RULE)] == [ae]


def test_nps_survey_due_goes_to_the_fallback_when_csm_and_ae_are_inactive(world) -> None:
    acme = world.customer(
        "Acme", csm_id=world.user(active=False), owner_id=world.user(active=False)
    )
    person(world, acme)
    assert [o.owner_id for o in world.run(RULE)] == [OWNERS["fallback"]]


def test_explain_shows_a_silent_accounts_figures(world) -> None:
    acme = world.customer("Acme")
    answer(world, acme, person(world, acme), 3)
    person(world, acme, inactive=True)
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and (row["active"], row["lapsed"]) == (1, 0)
    assert "0 of 1 active contacts" in RULE.evidence(row, world.ctx())
