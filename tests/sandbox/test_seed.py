"""The demo-org generator: deterministic, well-formed, and a story for every rule of RULES.md."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connector.sandbox import ids
from connector.sandbox.seed import (
    GENERATOR_VERSION,
    SCALES,
    Scale,
    generate,
    load_or_generate,
)
from connector.sandbox.seed.bulk_core import BULK_ID_START, FastMinter
from connector.sandbox.seed.core import FALLBACK_CUSTOM_PREFIXES, STANDARD_PREFIXES
from connector.sandbox.seed.doc import DOC_ANCHOR, regenerate, render_story_table
from connector.sandbox.seed.expect_rules import expected_outputs
from connector.sandbox.state import SandboxConfig

ANCHOR = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
DOC = Path(__file__).resolve().parents[2] / "docs" / "demo-org.md"
RULES = (  # every rule id of RULES.md's tables
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
SF_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SF_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$")
DATETIME_FIELDS = {
    "CreatedDate",
    "LastModifiedDate",
    "SystemModstamp",
    "StartDateTime",
    "EndDateTime",
    "ActivityDateTime",
    "CompletedDateTime",
    "Last_Evaluated__c",
}
DATE_FIELDS = {
    "ActivityDate",
    "CloseDate",
    "Renewal_Date__c",
    "Answer_Date__c",
    "Week_Start__c",
    "Milestone_Date__c",
    "Entry_Date__c",
    "Closed_Date__c",
    "Due_Date__c",
    "Snooze_Until__c",
    "CS_Health_Updated__c",
}
ZD_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
REFERENCES = {  # field -> sObjects it may point to
    "AccountId": ("Account",),
    "ContactId": ("Contact",),
    "OpportunityId": ("Opportunity",),
    "OwnerId": ("User",),
    "CreatedById": ("User",),
    "LastModifiedById": ("User",),
    "CSM__c": ("User",),
    "Account__c": ("Account",),
    "Contact__c": ("Contact",),
    "Opportunity__c": ("Opportunity",),
    "CTA__c": ("CS_CTA__c",),
    "WhoId": ("Contact",),
    "WhatId": ("Account", "Opportunity", "CS_CTA__c"),
}


@pytest.fixture(scope="module")
def demo():  # type: ignore[no-untyped-def]
    return generate("S", 42, ANCHOR)


def where(demo) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {r["Id"]: name for name, rows in demo.salesforce.items() for r in rows}


def test_the_same_arguments_give_identical_data(demo) -> None:  # type: ignore[no-untyped-def]
    again = generate("S", 42, ANCHOR)
    assert again.salesforce == demo.salesforce and again.zendesk == demo.zendesk
    assert again.stories == demo.stories and again.acts == demo.acts
    assert (again.users, again.id_counters, again.zendesk_next_id) == (
        demo.users,
        demo.id_counters,
        demo.zendesk_next_id,
    )


def test_ids_do_not_depend_on_the_anchor(demo) -> None:  # type: ignore[no-untyped-def]
    later = generate("S", 42, ANCHOR + timedelta(days=3, hours=7))
    assert [s.account_id for s in later.stories] == [s.account_id for s in demo.stories]
    assert later.id_counters == demo.id_counters


def test_every_rule_has_a_firing_story_and_a_silent_neighbour(demo) -> None:  # type: ignore[no-untyped-def]
    firing = {s.rule for s in demo.stories if s.fires and s.outputs}
    silent = {s.rule for s in demo.stories if not s.fires and not s.outputs}
    assert set(RULES) - firing == set()
    assert set(RULES) - silent == set()
    assert {s.rule for s in demo.stories} <= set(RULES)


@pytest.mark.parametrize(
    "anchor",
    [
        ANCHOR,
        datetime(2026, 11, 16, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 22, 23, 59, tzinfo=UTC),
        datetime(2026, 12, 31, 12, 0, tzinfo=UTC),
        datetime(2027, 1, 4, 0, 30, tzinfo=UTC),
        datetime(2027, 7, 1, 6, 0, tzinfo=UTC),
        datetime(2028, 2, 29, 18, 0, tzinfo=UTC),
    ],
)
def test_every_story_agrees_with_the_answer_key(anchor: datetime) -> None:
    data = generate("S", 42, anchor)
    key = {act: expected_outputs(data, act) for act in (0, 1)}
    for s in data.stories:
        account = key[s.act].get(s.account_id, set())
        mine = {k for k in account if k.split(":")[0] in (s.rule, f"{s.rule}_review")}
        assert set(s.outputs) == mine, (s.account_name, s.rule, s.case)
        assert set(s.account_outputs) == account, (s.account_name, s.rule)


def test_story_accounts_yield_nothing_but_their_stories(demo) -> None:  # type: ignore[no-untyped-def]
    told: dict[str, set[str]] = {}
    for s in demo.stories:
        told.setdefault(s.account_id, set()).update(k.split(":")[0] for k in s.outputs)
    for s in demo.stories:
        if s.act == 0:
            extra = {k.split(":")[0] for k in s.account_outputs} - told[s.account_id]
            extra -= {"persona_assignment", "health_scorecard", "risk_escalation_review"}
            assert extra <= {"bug_risk"}, (s.account_name, extra)  # get_well pair: bug Red


def test_ids_are_valid_18_character_ids_with_the_right_prefixes(demo) -> None:  # type: ignore[no-untyped-def]
    prefixes = STANDARD_PREFIXES | FALLBACK_CUSTOM_PREFIXES
    seen: set[str] = set()
    for name, rows in demo.salesforce.items():
        for r in rows:
            assert len(r["Id"]) == 18 and ids.is_valid(r["Id"]) and r["Id"][:3] == prefixes[name]
            assert r["Id"] not in seen
            seen.add(r["Id"])
    for name, rows in demo.salesforce.items():
        if rows:  # the emulator mints after the seeded ids
            assert demo.id_counters[prefixes[name]] > max(counter(r["Id"]) for r in rows)


def counter(record_id: str) -> int:
    """The minting counter behind an id (base 62 digits 7-15)."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    n = 0
    for ch in record_id[6:15]:
        n = n * 62 + digits.index(ch)
    return n


def test_the_fast_background_minter_mints_what_the_id_minter_mints() -> None:
    fast, slow = FastMinter(BULK_ID_START), ids.IdMinter(start=BULK_ID_START)
    for _ in range(3000):
        for prefix in ("001", "00T", "a07"):
            assert fast.mint(prefix) == slow.mint(prefix)
    assert fast.state() == slow.state()


def assert_references_resolve(data) -> None:  # type: ignore[no-untyped-def]
    kinds = where(data)
    for name, rows in data.salesforce.items():
        for r in rows:
            for field, targets in REFERENCES.items():
                value = r.get(field)
                if value is not None:
                    assert kinds.get(value) in targets, (name, r["Id"], field, value)
    zd = {name: {r["id"] for r in rows} for name, rows in data.zendesk.items()}
    for t in data.zendesk["tickets"]:
        assert t["requester_id"] in zd["users"] and t["submitter_id"] in zd["users"]
        assert t["assignee_id"] is None or t["assignee_id"] in zd["users"]
        assert t["organization_id"] is None or t["organization_id"] in zd["organizations"]
        assert t["group_id"] is None or t["group_id"] in zd["groups"]
        assert {f["id"] for f in t["custom_fields"]} <= zd["ticket_fields"]
    for u in data.zendesk["users"]:
        assert u["organization_id"] is None or u["organization_id"] in zd["organizations"]
        assert u["default_group_id"] is None or u["default_group_id"] in zd["groups"]
    accounts = {r["Id"] for r in data.salesforce["Account"]}
    for o in data.zendesk["organizations"]:
        assert o["external_id"] is None or ids.to18(o["external_id"]) in accounts


def test_references_resolve(demo) -> None:  # type: ignore[no-untyped-def]
    assert_references_resolve(demo)
    contacts = {c["Id"] for c in demo.salesforce["Contact"]}
    assert demo.acts and all(a["id"] in contacts for a in demo.acts)


def assert_derived_fields_agree(data) -> None:  # type: ignore[no-untyped-def]
    sf = data.salesforce
    owner_of = {r["Id"]: r["AccountId"] for n in ("Contact", "Opportunity") for r in sf[n]}
    owner_of |= {r["Id"]: r["Id"] for r in sf["Account"]}
    owner_of |= {r["Id"]: r["Account__c"] for r in sf["CS_CTA__c"]}
    for c in sf["Contact"] + sf["User"]:
        assert c["Name"] == f"{c['FirstName']} {c['LastName']}"
    for o in sf["Opportunity"]:
        assert (o["IsClosed"], o["IsWon"]) == (
            o["StageName"].startswith("Closed"),
            o["StageName"] == "Closed Won",
        )
    for t in sf["Task"]:
        assert t["IsClosed"] == (t["Status"] == "Completed")
    for a in sf["Task"] + sf["Event"]:
        assert a["AccountId"] == owner_of[a["WhatId"] or a["WhoId"]]
    for rows in sf.values():
        for r in rows:
            assert r["IsDeleted"] is False
            assert r["SystemModstamp"] >= r["LastModifiedDate"] >= r["CreatedDate"]
            assert r["CreatedDate"] <= data.anchor.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    for t in data.zendesk["tickets"]:
        assert t["updated_at"] >= t["created_at"]


def test_derived_fields_agree(demo) -> None:  # type: ignore[no-untyped-def]
    assert_derived_fields_agree(demo)


def test_values_are_in_wire_format(demo) -> None:  # type: ignore[no-untyped-def]
    for rows in demo.salesforce.values():
        for r in rows:
            for field, value in r.items():
                if value is None:
                    continue
                if field in DATETIME_FIELDS:
                    assert SF_DATETIME.match(value), (field, value)
                elif field in DATE_FIELDS:
                    assert SF_DATE.match(value), (field, value)
                elif field.startswith(("Is", "IVM_", "Left_")):
                    assert isinstance(value, bool), (field, value)
    for rows in demo.zendesk.values():
        for r in rows:
            assert isinstance(r["id"], int)
            assert ZD_TIME.match(r["created_at"]) and ZD_TIME.match(r["updated_at"])
    products = demo.salesforce["Account"][0]["Products_Owned__c"]
    assert products == "Analytics;Automation"


def test_records_only_use_fields_of_the_sandbox_schema(demo) -> None:  # type: ignore[no-untyped-def]
    schema = pytest.importorskip("connector.sandbox.salesforce.schema").load_schema()
    for name, rows in demo.salesforce.items():
        sobject = schema.get(name)
        assert sobject is not None and sobject.key_prefix == rows[0]["Id"][:3] if rows else True
        unknown = {f for r in rows for f in r if sobject.field(f) is None} - {"IsDeleted"}
        assert unknown == set(), (name, unknown)


def test_tickets_carry_every_documented_key(demo) -> None:  # type: ignore[no-untyped-def]
    keys = {
        "id",
        "url",
        "external_id",
        "type",
        "subject",
        "raw_subject",
        "description",
        "priority",
        "status",
        "recipient",
        "requester_id",
        "submitter_id",
        "assignee_id",
        "organization_id",
        "group_id",
        "collaborator_ids",
        "follower_ids",
        "email_cc_ids",
        "forum_topic_id",
        "problem_id",
        "has_incidents",
        "is_public",
        "due_at",
        "tags",
        "custom_fields",
        "satisfaction_rating",
        "sharing_agreement_ids",
        "fields",
        "followup_ids",
        "ticket_form_id",
        "brand_id",
        "allow_channelback",
        "allow_attachments",
        "from_messaging_channel",
        "via",
        "created_at",
        "updated_at",
    }
    assert all(keys <= set(t) for t in demo.zendesk["tickets"])
    groups = {g["name"] for g in demo.zendesk["groups"]}
    assert groups == {"Support", "Support Managers"}
    assert any(t["organization_id"] is None for t in demo.zendesk["tickets"])
    assert any(o["external_id"] is None for o in demo.zendesk["organizations"])
    assert demo.zendesk_next_id > max(r["id"] for rows in demo.zendesk.values() for r in rows)


def test_the_fixed_users_are_there(demo) -> None:  # type: ignore[no-untyped-def]
    users = {u["Id"]: u for u in demo.salesforce["User"]}
    integration = users[demo.users["integration"]]
    assert integration["Username"] == integration["Email"] == "integration@demo.cs-connector.dev"
    for role in ("support_manager", "cco", "vp_cs", "product_manager", "fallback"):
        assert users[demo.users[role]]["IsActive"]
    assert not users[demo.users["csm_inactive"]]["IsActive"]
    assert not users[demo.users["inactive"]]["IsActive"]


def test_the_story_org_is_generated_in_under_a_second() -> None:
    start = time.perf_counter()
    generate("S", 7, ANCHOR)
    assert time.perf_counter() - start < 1.0


def test_the_documented_story_table_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert regenerate(DOC, generate("S", 42, DOC_ANCHOR)) == text, (
        "run: python -m connector.sandbox.seed.doc docs/demo-org.md"
    )


def test_the_story_table_reads_the_same_on_any_day(demo) -> None:  # type: ignore[no-untyped-def]
    other = generate("S", 42, datetime(2027, 3, 2, 23, 45, tzinfo=UTC))
    assert render_story_table(other) == render_story_table(demo)


def test_unknown_scales_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        generate("XL", 42, ANCHOR)


def test_background_is_cached_and_spliced_behind_fresh_stories(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(SCALES, "T", Scale(accounts=120))
    morning = SandboxConfig(scale="T", seed=5, anchor=ANCHOR, cache_dir=tmp_path)
    first = load_or_generate(morning)
    assert [p.name for p in tmp_path.iterdir()] == [
        f"bulk-T-5-{ANCHOR.date().isoformat()}-v{GENERATOR_VERSION}.pickle"
    ]
    evening = SandboxConfig(
        scale="T", seed=5, anchor=ANCHOR + timedelta(hours=9), cache_dir=tmp_path
    )
    cached = load_or_generate(evening)
    fresh = generate("T", 5, ANCHOR + timedelta(hours=9))
    assert cached.salesforce == fresh.salesforce and cached.zendesk == fresh.zendesk
    assert cached.id_counters == fresh.id_counters
    assert len(first.salesforce["Account"]) == 120
    assert_references_resolve(cached)


@pytest.mark.slow
def test_scale_m_meets_its_targets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    data = load_or_generate(SandboxConfig(scale="M", seed=42, anchor=ANCHOR, cache_dir=tmp_path))
    assert time.perf_counter() - start < 60
    counts = {n: len(v) for n, v in data.salesforce.items()} | {
        f"zendesk.{n}": len(v) for n, v in data.zendesk.items()
    }
    targets = {
        "Account": 5_000,
        "Contact": 50_000,
        "Opportunity": 25_000,
        "Task": 100_000,
        "zendesk.tickets": 250_000,
    }
    for name, target in targets.items():
        assert abs(counts[name] - target) <= target // 10, (name, counts[name])
    assert counts["Usage_Week__c"] > 10 * 4_000 and counts["Event"] > 20_000
    assert_references_resolve(data)
    assert_derived_fields_agree(data)
    for prefix in ("001", "003", "006", "00T", "00U", "00K", "02Z", "a03", "a07", "a08"):
        assert data.id_counters[prefix] > BULK_ID_START, prefix
