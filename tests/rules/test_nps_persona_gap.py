"""nps_persona_gap (RULES.md, Risk): End User NPS >= +30 while executive NPS <= 0.

Also the NPS arithmetic every NPS figure shares (``account_nps``, the scorecard's measure).
"""

from __future__ import annotations

from datetime import timedelta

from conftest import NOW, OWNERS, World
from sqlalchemy import insert, select

from connector.rules.nps import NpsPersonaGap
from connector.rules.nps_data import account_nps
from connector.rules.params import NpsParams, RuleParams
from connector.store.schema import persona_state

RULE = NpsPersonaGap()
TODAY = NOW.date()
GAP = [9, 10, 9, 10, 6, 7, 8, 7, 8, 7]  # 4 promoters, 1 detractor of 10: +30


def person(world: World, account: str, persona: str, **state) -> str:
    contact = world.add("contact", account_id=account, name=f"{persona} person")
    with world.engine.begin() as conn:
        values = {"computed": persona, "effective": persona, "active": True, **state}
        conn.execute(
            insert(persona_state).values(
                contact_id=contact, account_id=account, evaluated_at=NOW, **values
            )
        )
    return contact


def answer(
    world: World,
    account: str,
    contact: str | None,
    score: int | None,
    days_ago: int,
    answer_id: str | None = None,
    **values,
) -> str:
    values.setdefault("kind", "Relationship")
    return world.add(
        "survey_answer",
        answer_id,
        account_id=account,
        contact_id=contact,
        score=score,
        answer_date=TODAY - timedelta(days=days_ago),
        **values,
    )


def group(world: World, account: str, persona: str, scores: list[int], days_ago: int = 20) -> None:
    for score in scores:
        answer(world, account, person(world, account, persona), score, days_ago)


def test_nps_persona_gap_fires_on_end_users_at_30_and_executives_at_0(world) -> None:
    csm = world.user()
    acme = world.customer("Acme", csm_id=csm)
    group(world, acme, "End User", GAP)
    group(world, acme, "Executive Sponsor", [7])
    (cta,) = world.run(RULE)
    assert cta.key == f"nps_persona_gap:{acme}" and cta.fields["name"] == "Executive sentiment gap"
    assert (cta.fields["type"], cta.fields["reason"]) == ("Risk", "NPS")
    assert cta.owner_id == csm and cta.due_date == TODAY + timedelta(days=14)


def test_nps_persona_gap_stays_silent_on_end_users_at_29(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "End User", [9, 10, 9, 6, 7, 8, 7])  # 28.6 -> +29
    group(world, acme, "Big Boss", [7])
    assert world.keys(RULE) == set()
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and (row["eu_nps"], row["ex_nps"]) == (29, 0)


def test_nps_persona_gap_stays_silent_on_executives_at_plus_1(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "End User", GAP)
    group(world, acme, "Executive Sponsor", [9] + [8] * 99)  # +1
    assert world.keys(RULE) == set()


def test_nps_persona_gap_counts_big_boss_and_executive_sponsor_as_executives(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "End User", GAP)
    group(world, acme, "Big Boss", [10])
    group(world, acme, "Executive Sponsor", [3])
    group(world, acme, "Admin", [0, 0])
    (row,) = world.rows(RULE, account_id=acme)
    assert (row["ex_n"], row["ex_promoters"], row["ex_detractors"], row["ex_nps"]) == (2, 1, 1, 0)
    assert row["fires"]


def test_nps_persona_gap_stays_silent_without_an_executive_response(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "End User", [10, 10])
    person(world, acme, "Executive Sponsor")
    assert world.keys(RULE) == set()


def test_nps_persona_gap_stays_silent_without_an_end_user_response(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "Admin", [10, 10])
    group(world, acme, "Executive Sponsor", [0])
    assert world.keys(RULE) == set()


def test_nps_persona_gap_takes_each_contacts_latest_answer(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "End User", [10])
    boss = person(world, acme, "Big Boss")
    answer(world, acme, boss, 10, 150)
    answer(world, acme, boss, 7, 20)
    assert world.keys(RULE) == {f"nps_persona_gap:{acme}"}


def test_nps_persona_gap_breaks_date_ties_by_the_later_created(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "End User", [10])
    boss = person(world, acme, "Big Boss")
    answer(world, acme, boss, 0, 5, "a0Z000000000000002", created_at=NOW - timedelta(hours=1))
    answer(world, acme, boss, 9, 5, "a0Z000000000000001", created_at=NOW - timedelta(hours=2))
    answer(world, acme, boss, 10, 5, "a0Z000000000000003")  # no created date: the earliest
    assert world.keys(RULE) == {f"nps_persona_gap:{acme}"}


def test_nps_persona_gap_breaks_full_ties_by_the_higher_id_in_byte_order(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "End User", [10])
    boss = person(world, acme, "Big Boss")
    created = NOW - timedelta(days=5)
    answer(world, acme, boss, 0, 5, "a0Z00000000000000b", created_at=created)  # 'b' > 'C'
    answer(world, acme, boss, 10, 5, "a0Z00000000000000C", created_at=created)
    assert world.keys(RULE) == {f"nps_persona_gap:{acme}"}


def test_nps_persona_gap_window_includes_180_days_and_not_181(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "End User", [10], days_ago=180)
    group(world, acme, "Executive Sponsor", [0], days_ago=181)
    assert world.keys(RULE) == set()
    group(world, acme, "Executive Sponsor", [0], days_ago=180)
    assert world.keys(RULE) == {f"nps_persona_gap:{acme}"}


def test_nps_persona_gap_ignores_anonymous_answers(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "End User", [10])
    answer(world, acme, None, 0, 3)
    assert world.keys(RULE) == set()


def test_nps_persona_gap_uses_the_effective_persona(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "End User", [10])
    set_by_a_person = person(world, acme, "Executive Sponsor", computed="End User")
    answer(world, acme, set_by_a_person, 5, 3)
    assert world.keys(RULE) == {f"nps_persona_gap:{acme}"}


def test_nps_persona_gap_rounds_half_away_from_zero(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "End User", [10, 8, 8, 8, 8, 8, 8, 8])  # +12.5 -> +13
    group(world, acme, "Executive Sponsor", [0, 8, 8, 8, 8, 8, 8, 8])  # -12.5 -> -13
    params = RuleParams(nps=NpsParams(gap_end_user_min=13, gap_exec_max=-13))
    assert world.keys(RULE, world.ctx(params=params)) == {f"nps_persona_gap:{acme}"}
    (row,) = world.rows(RULE, account_id=acme)
    assert (row["eu_nps"], row["ex_nps"]) == (13, -13)


def test_nps_persona_gap_goes_to_the_fallback_when_csm_and_ae_are_inactive(world) -> None:
    acme = world.customer(
        "Acme", csm_id=world.user(active=False), owner_id=world.user(active=False)
    )
    group(world, acme, "End User", [10])
    group(world, acme, "Big Boss", [1])
    assert [o.owner_id for o in world.run(RULE)] == [OWNERS["fallback"]]


def test_nps_persona_gap_evidence_carries_both_groups_figures(world) -> None:
    acme = world.customer("Acme")
    group(world, acme, "End User", GAP)
    boss = person(world, acme, "Big Boss")
    a = answer(world, acme, boss, 7, 20)
    (cta,) = world.run(RULE)
    assert "End User: NPS +30 (4 promoters, 1 detractors of 10)" in cta.evidence
    assert "NPS +0 (0 promoters, 0 detractors of 1)" in cta.evidence
    assert ">= +30" in cta.evidence and "<= +0" in cta.evidence
    assert f"{a} 7" in cta.evidence and "2026-05-22 to 2026-11-18" in cta.evidence


def test_explain_shows_an_account_without_answers(world) -> None:
    acme = world.customer("Acme")
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["eu_n"] == 0 and row["eu_nps"] is None
    assert "no response" in RULE.evidence(row, world.ctx())


def test_account_nps_counts_every_response_of_180_days_anonymous_included(world) -> None:
    acme, quiet = world.customer("Acme"), world.customer("Quiet")
    for score, days_ago in ((10, 0), (9, 180), (6, 181), (0, 3), (7, 5), (5, -1)):
        answer(world, acme, None, score, days_ago)
    answer(world, acme, None, None, 3)
    with world.engine.connect() as conn:
        rows = {r.account_id: r for r in conn.execute(select(account_nps(world.ctx())))}
    assert (rows[acme].promoters, rows[acme].detractors, rows[acme].responses) == (2, 1, 4)
    assert rows[acme].nps == 25
    assert (rows[quiet].responses, rows[quiet].nps) == (0, None)


def test_account_nps_rounds_half_away_from_zero(world) -> None:
    up, down = world.customer("Up"), world.customer("Down")
    for account, odd in ((up, 10), (down, 0)):
        for score in [odd] + [8] * 39:  # +-2.5 -> +-3
            answer(world, account, None, score, 1)
    with world.engine.connect() as conn:
        rows = {r.account_id: r.nps for r in conn.execute(select(account_nps(world.ctx())))}
    assert (rows[up], rows[down]) == (3, -3)
