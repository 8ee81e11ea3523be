"""deployment_expansion (RULES.md, Expansion): Green deployment; the AE gets the whitespace."""

from __future__ import annotations

from conftest import NOW, OWNERS, days

from connector.rules.deployment import DeploymentExpansion
from connector.rules.params import ExpansionParams, RuleParams

RULE = DeploymentExpansion()


def test_deployment_expansion_fires_on_green_exactly_at_80_percent(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=80)
    assert world.keys(RULE) == {f"deployment_expansion:{acme}"}


def test_deployment_expansion_stays_silent_on_yellow_at_79_percent(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=79)
    assert world.keys(RULE) == set()
    (row,) = world.rows(RULE, account_id=acme)
    assert row["colour"] == "Yellow" and not row["fires"]


def test_deployment_expansion_fires_above_100_percent(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=120)
    assert world.keys(RULE) == {f"deployment_expansion:{acme}"}


def test_deployment_expansion_stays_silent_without_deployment_data(world) -> None:
    world.customer("Blank", licenses_purchased=None, licenses_active=90)
    world.customer("Zero", licenses_purchased=0, licenses_active=0)
    assert world.keys(RULE) == set()


def test_deployment_expansion_creates_a_csm_cta_and_an_ae_task(world) -> None:
    csm, ae = world.user(), world.user()
    acme = world.customer(
        "Acme", csm_id=csm, owner_id=ae, licenses_purchased=100, licenses_active=90
    )
    (cta, task) = world.run(RULE)
    assert cta.key == f"deployment_expansion:{acme}" and cta.owner_id == csm
    assert cta.fields["name"] == "High deployment: expansion opportunity"
    assert cta.fields["type"] == "Expansion" and cta.due_date == NOW.date() + days(30)
    assert task.key == f"deployment_expansion:{acme}/whitespace" and task.owner_id == ae


def test_deployment_expansion_task_lists_the_whitespace_in_catalog_order(world) -> None:
    world.customer(
        "Acme",
        licenses_purchased=100,
        licenses_active=80,
        products_owned=["Automation", "Analytics"],
    )
    (cta, task) = world.run(RULE)
    listing = "Whitespace (catalog products not owned): Journeys, Integrations, Mobile"
    assert listing in task.fields["description"] and listing in cta.evidence
    assert task.fields["subject"].endswith("Journeys, Integrations, Mobile")


def test_deployment_expansion_with_no_products_lists_the_whole_catalog(world) -> None:
    world.customer("Acme", licenses_purchased=100, licenses_active=80, products_owned=None)
    (_, task) = world.run(RULE)
    assert "Analytics, Automation, Journeys, Integrations, Mobile" in task.fields["description"]


def test_deployment_expansion_without_whitespace_still_fires_and_says_so(world) -> None:
    acme = world.customer(
        "Acme",
        licenses_purchased=100,
        licenses_active=120,
        products_owned=["Analytics", "Automation", "Journeys", "Integrations", "Mobile"],
    )
    (cta, task) = world.run(RULE)
    assert cta.key == f"deployment_expansion:{acme}"
    assert "No whitespace" in task.fields["description"]


def test_deployment_expansion_whitespace_follows_the_configured_catalog(world) -> None:
    world.customer("Acme", licenses_purchased=10, licenses_active=9, products_owned=["core"])
    params = RuleParams(expansion=ExpansionParams(catalog=("Core", "Edge", "Cloud")))
    (_, task) = world.run(RULE, world.ctx(params=params))
    assert "not owned): Edge, Cloud" in task.fields["description"]


def test_deployment_expansion_ae_task_falls_back_when_the_owner_is_inactive(world) -> None:
    csm = world.user()
    world.customer(
        "Acme",
        csm_id=csm,
        owner_id=world.user(active=False),
        licenses_purchased=100,
        licenses_active=100,
    )
    (cta, task) = world.run(RULE)
    assert cta.owner_id == csm and task.owner_id == OWNERS["fallback"]


def test_deployment_expansion_evidence_carries_the_licences_and_ratio(world) -> None:
    world.customer("Acme", licenses_purchased=100, licenses_active=80)
    (cta, _) = world.run(RULE)
    assert "80 of 100 licences active" in cta.evidence and "ratio 0.8" in cta.evidence
    assert "Green >= 0.80" in cta.evidence


def test_explain_shows_a_silent_accounts_expansion_figures(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=60)
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["colour"] == "Yellow" and row["ratio"] == 0.6
