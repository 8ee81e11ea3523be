"""persona_assignment (RULES.md, personas): ordered role and title rules, first match wins."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import World

from connector.demo import default_mappings_dir
from connector.errors import ConfigErrors
from connector.rules.persona import (
    ADMIN_TITLE,
    BIG_BOSS_TITLE,
    PersonaAssignment,
    PersonaConfig,
    PersonaRow,
    compute_personas,
    effective_persona,
    load_personas,
)

RULE = PersonaAssignment()


def person(
    world: World, account: str, title: str | None = None, *, name: str = "Pat Doe", **values
) -> str:
    first, _, last = name.partition(" ")
    return world.add(
        "contact",
        account_id=account,
        first_name=first,
        last_name=last,
        name=name,
        title=title,
        **values,
    )


def opp_role(world: World, contact: str, role: str, account: str | None = None, **kw) -> str:
    opp = world.add("opportunity", account_id=account, name="Deal", type="New Business")
    return world.add(
        "opportunity_contact_role", opportunity_id=opp, contact_id=contact, role=role, **kw
    )


def account_role(world: World, contact: str, role: str, account: str | None = None) -> str:
    return world.add("account_contact_role", account_id=account, contact_id=contact, role=role)


def personas(world: World, ctx=None) -> dict[str, str]:
    return {o.fields["contact_id"]: o.fields["persona"] for o in world.run(RULE, ctx)}


def test_persona_assignment_fires_on_every_contact_of_a_customer(world) -> None:
    acme = world.customer("Acme")
    prospect = world.customer("Prospect", type="Prospect")
    ann, bob = person(world, acme, "Analyst"), person(world, acme, "CEO", inactive=True)
    person(world, acme, "CFO", deleted=True)
    person(world, prospect, "CEO")
    (out_ann, out_bob) = sorted(world.run(RULE), key=lambda o: o.key)
    assert world.keys(RULE) == {f"persona_assignment:{ann}", f"persona_assignment:{bob}"}
    assert out_ann.object == "persona" and out_ann.account_id == acme
    assert dict(out_ann.fields) == {"persona": "End User", "contact_id": ann}


def test_persona_assignment_stays_silent_on_a_customer_without_contacts(world) -> None:
    acme = world.customer("Acme")
    assert world.rows(RULE, account_id=acme) == [] and world.keys(RULE) == set()


@pytest.mark.parametrize("role", ["Executive Sponsor", "Economic Buyer", "Decision Maker"])
def test_persona_assignment_fires_executive_sponsor_on_a_sponsor_role(world, role) -> None:
    acme = world.customer("Acme")
    erin = person(world, acme, "Director of Procurement")
    opp_role(world, erin, role, account=acme)
    (output,) = world.run(RULE)
    assert output.fields["persona"] == "Executive Sponsor"
    assert f"role '{role}'" in output.evidence


def test_persona_assignment_reads_roles_of_any_opportunity_and_account_any_case(world) -> None:
    acme = world.customer("Acme")
    other = world.customer("Elsewhere", type="Prospect")
    tom, ann = person(world, acme, "Analyst"), person(world, acme, "Analyst")
    account_role(world, tom, "  decision MAKER ", account=other)
    opp_role(world, ann, "ECONOMIC BUYER", account=other)
    assert personas(world) == {tom: "Executive Sponsor", ann: "Executive Sponsor"}


def test_persona_assignment_stays_silent_on_economic_decision_maker(world) -> None:
    acme = world.customer("Acme")
    ivy = person(world, acme, "Sales Analyst")
    opp_role(world, ivy, "Economic Decision Maker", account=acme)
    account_role(world, ivy, "Decision Makers")
    assert personas(world) == {ivy: "End User"}


def test_persona_assignment_ignores_deleted_roles(world) -> None:
    acme = world.customer("Acme")
    ann = person(world, acme, "Analyst")
    opp_role(world, ann, "Executive Sponsor", account=acme, deleted=True)
    assert personas(world) == {ann: "End User"}


@pytest.mark.parametrize(
    "title",
    [
        "CEO",
        "Chief Revenue Officer",
        "Co-Founder & CTO",
        "President",
        "founder",
        "VP and CISO",
        "cfo (interim)",
    ],
)
def test_persona_assignment_fires_big_boss_on_an_executive_title(world, title) -> None:
    acme = world.customer("Acme")
    boss = person(world, acme, title)
    (output,) = world.run(RULE)
    assert output.fields == {"persona": "Big Boss", "contact_id": boss}
    assert f"title '{title}' matches the Big Boss pattern" in output.evidence


@pytest.mark.parametrize(
    "title",
    [
        "Vice President of Sales",
        "Chief of Staff",
        "Directorate",
        "Conductor",
        "Co-Chief Analyst",
        None,
    ],
)
def test_persona_assignment_stays_silent_on_titles_that_only_look_senior(world, title) -> None:
    acme = world.customer("Acme")
    person(world, acme, title)
    (output,) = world.run(RULE)
    assert output.fields["persona"] == "End User"
    assert "no role or title rule matches" in output.evidence


@pytest.mark.parametrize("title", ["Systems Administrator", "Admin Assistant", "IT ADMIN"])
def test_persona_assignment_fires_admin_on_an_admin_title(world, title) -> None:
    acme = world.customer("Acme")
    person(world, acme, title)
    assert [o.fields["persona"] for o in world.run(RULE)] == ["Admin"]


def test_persona_assignment_stays_silent_on_administrative_titles(world) -> None:
    acme = world.customer("Acme")
    person(world, acme, "Administrative Coordinator")
    assert [o.fields["persona"] for o in world.run(RULE)] == ["End User"]


def test_persona_assignment_fires_adoption_champion_on_a_champion_role(world) -> None:
    acme = world.customer("Acme")
    leo = person(world, acme, "Marketing Ops")
    account_role(world, leo, "Champion", account=acme)
    (output,) = world.run(RULE)
    assert output.fields["persona"] == "Adoption Champion" and "role 'Champion'" in output.evidence


def test_persona_assignment_first_matching_rule_wins(world) -> None:
    acme = world.customer("Acme")
    zoe = person(world, acme, "CEO")
    sam = person(world, acme, "Systems Administrator")
    ada = person(world, acme, "Administrator")
    opp_role(world, zoe, "Champion", account=acme)
    opp_role(world, sam, "Decision Maker", account=acme)
    opp_role(world, ada, "Champion", account=acme)
    assert personas(world) == {zoe: "Big Boss", sam: "Executive Sponsor", ada: "Admin"}


def test_compute_personas_returns_each_contact_with_crm_value_and_active_flag(world) -> None:
    acme = world.customer("Acme")
    uma = person(world, acme, "Analyst", persona="Admin")
    gone = person(world, acme, "CEO", inactive=True)
    with world.engine.connect() as conn:
        rows = sorted(compute_personas(conn, world.ctx()), key=lambda r: r.contact_id)
    assert rows == sorted(
        [
            PersonaRow(uma, acme, "End User", "Admin", True),
            PersonaRow(gone, acme, "Big Boss", None, False),
        ],
        key=lambda r: r.contact_id,
    )


def test_effective_persona_keeps_a_value_a_person_set() -> None:
    assert effective_persona("Admin", "End User", "End User") == "Admin"
    assert effective_persona("Admin", None, "End User") == "Admin"


def test_effective_persona_replaces_the_value_the_connector_last_wrote() -> None:
    assert effective_persona("End User", "End User", "Big Boss") == "Big Boss"
    assert effective_persona("  ", None, "Big Boss") == "Big Boss"
    assert effective_persona(None, "Admin", "Big Boss") == "Big Boss"


def test_the_shipped_personas_toml_holds_rules_md_defaults() -> None:
    shipped = load_personas(default_mappings_dir() / "personas.toml")
    assert shipped == PersonaConfig()
    assert [r.title for r in shipped.rule if r.title] == [BIG_BOSS_TITLE, ADMIN_TITLE]


def test_persona_rules_default_to_rules_md_when_the_file_is_absent(tmp_path) -> None:
    assert load_personas(tmp_path / "personas.toml") == PersonaConfig()


def test_a_bad_persona_pattern_is_a_file_and_key_error(tmp_path) -> None:
    path = tmp_path / "personas.toml"
    path.write_text(
        '[[rule]]\npersona = "X"\ntitle = "(ceo"\n'
        '[[rule]]\npersona = "Y"\nroles = ["a"]\ntitle = "b"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigErrors) as caught:
        load_personas(path, "mappings/personas.toml")
    lines = [e.line() for e in caught.value.errors]
    assert lines[0].startswith("mappings/personas.toml:rule.0: title is not a valid regular")
    assert lines[1] == "mappings/personas.toml:rule.1: give either roles or title"


def test_persona_assignment_follows_an_admins_persona_mapping(world, tmp_path) -> None:
    (tmp_path / "personas.toml").write_text(
        'default = "Other"\n[[rule]]\npersona = "Tech"\ntitle = \'\\bengineer\\b\'\n'
        '[[rule]]\npersona = "Buyer"\nroles = ["Purchaser"]\n',
        encoding="utf-8",
    )
    ctx = replace(world.ctx(), mappings_dir=tmp_path)
    acme = world.customer("Acme")
    eng, buyer, ceo = (person(world, acme, t) for t in ("Lead Engineer", "Clerk", "CEO"))
    account_role(world, buyer, "purchaser", account=acme)
    assert personas(world, ctx) == {eng: "Tech", buyer: "Buyer", ceo: "Other"}
