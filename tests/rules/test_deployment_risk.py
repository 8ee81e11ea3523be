"""deployment_risk (RULES.md, Risk): the deployment colour is Orange or Red."""

from __future__ import annotations

from conftest import NOW, OWNERS, days

from connector.rules.deployment import DeploymentRisk

RULE = DeploymentRisk()


def test_deployment_risk_fires_on_orange_at_59_percent(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=59)
    assert world.keys(RULE) == {f"deployment_risk:{acme}"}


def test_deployment_risk_stays_silent_on_yellow_at_exactly_60_percent(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=60)
    (row,) = world.rows(RULE, account_id=acme)
    assert row["colour"] == "Yellow" and not row["fires"]
    assert world.keys(RULE) == set()


def test_deployment_risk_fires_on_orange_exactly_at_40_percent(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=40)
    (row,) = world.rows(RULE, account_id=acme)
    assert row["colour"] == "Orange" and row["fires"]


def test_deployment_risk_fires_on_red_below_40_percent(world) -> None:
    acme = world.customer("Acme", licenses_purchased=300, licenses_active=119)
    zero = world.customer("Zero", licenses_purchased=10, licenses_active=0)
    assert world.keys(RULE) == {f"deployment_risk:{acme}", f"deployment_risk:{zero}"}
    assert world.rows(RULE, account_id=zero)[0]["colour"] == "Red"


def test_deployment_risk_stays_silent_without_deployment_data(world) -> None:
    world.customer("No active", licenses_purchased=100, licenses_active=None)
    world.customer("No purchased", licenses_purchased=None, licenses_active=3)
    world.customer("Nothing bought", licenses_purchased=0, licenses_active=0)
    assert world.keys(RULE) == set()


def test_deployment_risk_reports_no_data_when_nothing_is_purchased(world) -> None:
    acme = world.customer("Acme", licenses_purchased=0, licenses_active=5)
    (row,) = world.rows(RULE, account_id=acme)
    assert row["colour"] is None and row["ratio"] is None and not row["fires"]


def test_deployment_risk_creates_an_adoption_cta_and_a_csm_task(world) -> None:
    csm = world.user()
    acme = world.customer("Acme", csm_id=csm, licenses_purchased=200, licenses_active=50)
    (cta, task) = world.run(RULE)
    assert cta.key == f"deployment_risk:{acme}" and cta.owner_id == csm
    assert cta.fields["name"] == "Deploy undeployed licenses"
    assert cta.fields["type"] == "Risk" and cta.fields["reason"] == "Adoption"
    assert cta.due_date == NOW.date() + days(14)
    assert task.key == f"deployment_risk:{acme}/deploy" and task.owner_id == csm
    assert "150 licences purchased but not active" in task.fields["description"]


def test_deployment_risk_goes_to_the_account_owner_without_an_active_csm(world) -> None:
    ae = world.user()
    world.customer(
        "Acme",
        csm_id=world.user(active=False),
        owner_id=ae,
        licenses_purchased=100,
        licenses_active=10,
    )
    (cta, task) = world.run(RULE)
    assert cta.owner_id == ae and task.owner_id == ae


def test_deployment_risk_goes_to_the_fallback_when_csm_and_owner_are_inactive(world) -> None:
    world.customer(
        "Acme",
        csm_id=world.user(active=False),
        owner_id=world.user(active=False),
        licenses_purchased=100,
        licenses_active=59,
    )
    (cta, _) = world.run(RULE)
    assert cta.owner_id == OWNERS["fallback"]


def test_deployment_risk_evidence_carries_the_licences_ratio_and_bands(world) -> None:
    world.customer("Acme", licenses_purchased=100, licenses_active=59)
    (cta, _) = world.run(RULE)
    assert "59 of 100 licences active" in cta.evidence and "ratio 0.59" in cta.evidence
    assert "Orange" in cta.evidence and "Yellow >= 0.60" in cta.evidence


def test_deployment_risk_ignores_accounts_outside_the_customer_filter(world) -> None:
    world.customer("Prospect", type="Prospect", licenses_purchased=100, licenses_active=1)
    assert world.keys(RULE) == set()


def test_explain_shows_a_silent_accounts_deployment_figures(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=79)
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["colour"] == "Yellow"
    assert row["licenses_active"] == 79 and row["ratio"] == 0.79


def test_deployment_colour_bands_are_exact_at_every_edge(world) -> None:
    cases = {(4, 5): "Green", (3, 5): "Yellow", (2, 5): "Orange", (2, 7): "Red"}
    accounts = {
        world.customer(f"{a} of {b}", licenses_active=a, licenses_purchased=b): colour
        for (a, b), colour in cases.items()
    }
    for account, colour in accounts.items():
        assert world.rows(RULE, account_id=account)[0]["colour"] == colour
