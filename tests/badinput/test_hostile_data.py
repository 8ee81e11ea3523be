"""Hostile or odd data from the CRM and Zendesk, through one full cycle on the demo org.

People type anything into Salesforce and Zendesk: template syntax and SOQL quotes in names,
emoji, right-to-left text and combining marks, 100 kB tickets, blanks where the rules expect a
value, dates at the ends of Salesforce's range, text that is not the date a mapping says it is,
tickets without an organization, NUL characters. Each test edits the sandbox as a person would,
runs ``run_cycle`` in-process and checks: the run completes; a record the connector cannot read
is skipped and reported with its id while the rest proceeds; names are data in Email Assist
drafts, never template code; text is cut to the target field's length, so no write fails.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from connector.bootstrap import Deps, bootstrap
from connector.demo import default_mappings_dir, sandbox_settings
from connector.sandbox.zendesk.store import us_to_iso
from connector.store.schema import ledger, record_errors
from connector.sync import CycleReport, run_cycle

JINJA_NAME = "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %} {{ config }} Ltd"
JINJA_FIRST_NAME = "{% raw %}{{ 7*7 }}{% endraw %}{#"
UNICODE_NAME = "عميل ‮RTL‬ Zoë Ångström é́́ 🚀👩‍👩‍👧 株式会社"
SOQL_NAME = "O'Brien \\\"; DROP TABLE Account; -- \\' OR Name != '"
TASK_DESCRIPTION = 32000  # Task.Description in the sandbox's (and Salesforce's) describe
TASK_SUBJECT = 255


@pytest.fixture(autouse=True)
def cycles_back_to_back(sandbox, monkeypatch) -> None:
    """No Zendesk export pacing between the seconds-apart cycles here (tests/sources has it)."""
    monkeypatch.setattr(sandbox.config, "zendesk_incremental_per_min", 0)
    # Zendesk leaves changes of the last minute out of its exports; the edits here are fresh.
    monkeypatch.setattr(sandbox.emulators["zendesk"], "export_delay_s", 0)


class Org:
    """The sandbox's demo org, edited as people do in the UI (no integration faults)."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.sf = sandbox.emulators["salesforce"]
        self.zd = sandbox.emulators["zendesk"]

    def records(self, sobject: str) -> list[dict[str, Any]]:
        return [r for r in self.sf.all_records(sobject) if not r.get("IsDeleted")]

    def account(self, name: str) -> dict[str, Any]:
        (found,) = [r for r in self.records("Account") if r["Name"] == name]
        return found

    def where(self, sobject: str, **values: Any) -> list[dict[str, Any]]:
        return [r for r in self.records(sobject) if all(r.get(k) == v for k, v in values.items())]

    def update(self, sobject: str, record_id: str, values: dict[str, Any]) -> None:
        result = self.sf.person_update(sobject, record_id, values)
        assert result.success, result.errors

    def rename(self, name: str, new: str) -> str:
        account_id = self.account(name)["Id"]
        self.update("Account", account_id, {"Name": new})
        return account_id

    def tasks(self, about: str = "", subject: str = "") -> list[dict[str, Any]]:
        """The connector's tasks whose output key names ``about`` (an account or answer id)
        and whose subject starts with ``subject``."""
        return [
            r
            for r in self.records("Task")
            if about in (r.get("CS_Sync_Key__c") or "")
            and r.get("CS_Sync_Key__c")
            and (r.get("Subject") or "").startswith(subject)
        ]

    def walk_in_requester(self) -> int:
        """An end user who belongs to no organization."""
        users = self.zd.store.users.values()
        return next(
            int(u["id"]) for u in users if u["role"] == "end-user" and not u["organization_id"]
        )

    def edit_organization(self, org_id: int, **changes: Any) -> None:
        """An admin edits an organization in Zendesk (bumps ``updated_at``)."""
        store = self.zd.store
        with self.sandbox.state.lock:
            orgs = store.collection("organizations")
            ts = store.clock.stamp()
            orgs.put({**orgs.get(org_id), **changes, "updated_at": us_to_iso(ts)}, ts)


@pytest.fixture
def org(sandbox) -> Org:
    return Org(sandbox)


Cycle = Callable[..., tuple[Deps, CycleReport]]


@pytest.fixture
def cycle(sandbox, store_url) -> Iterator[Cycle]:
    """Run one full cycle (pull, evaluate, reconcile, push) at the demo org's anchor."""
    made: list[Deps] = []

    def run(mappings: Path | None = None) -> tuple[Deps, CycleReport]:
        deps = bootstrap(sandbox_settings(sandbox, store_url, mappings))
        made.append(deps)
        report = run_cycle(deps, as_of=sandbox.state.demo.anchor.isoformat())
        assert report.status == "completed", report.error
        return deps, report

    yield run
    for deps in made:
        deps.engine.dispose()


def assert_every_write_landed(deps: Deps, report: CycleReport) -> None:
    """No output failed: no STRING_TOO_LONG, no bad value, nothing left for a retry."""
    assert report.push is not None
    failed = {t: c.failed for t, c in report.push.counts.items() if c.failed}
    assert failed == {}
    with deps.engine.connect() as conn:
        errors = conn.execute(
            select(ledger.c.target, ledger.c.key, ledger.c.error_code).where(
                ledger.c.error_code.is_not(None)
            )
        ).all()
    assert errors == []


def mirrored(deps: Deps, stream: str, record_id: str) -> dict[str, Any] | None:
    with deps.engine.connect() as conn:
        row = (
            conn.execute(text(f"SELECT * FROM mirror_{stream} WHERE id = :id"), {"id": record_id})
            .mappings()
            .first()
        )
    return dict(row) if row else None


def issues(deps: Deps) -> list[tuple[str, str, str]]:
    with deps.engine.connect() as conn:
        return [
            (r.stream, r.record_id, r.message)
            for r in conn.execute(select(record_errors).order_by(record_errors.c.id))
        ]


def custom_mappings(tmp_path: Path) -> Path:
    root = tmp_path / "mappings"
    shutil.copytree(default_mappings_dir(), root)
    return root


# -- template syntax is data ------------------------------------------------------------------
def test_template_syntax_in_names_is_rendered_literally(org: Org, cycle: Cycle) -> None:
    usage_account = org.rename("Consolidated Messenger", JINJA_NAME)
    nps_account = org.account("Adventure Works")["Id"]
    (pia,) = org.where("Contact", AccountId=nps_account, FirstName="Pia")
    org.update("Contact", pia["Id"], {"FirstName": JINJA_FIRST_NAME})

    deps, report = cycle()

    assert_every_write_landed(deps, report)
    (usage,) = org.tasks(usage_account, "Usage dropped at")
    assert JINJA_NAME in usage["Description"] and JINJA_NAME in usage["Subject"]
    assert "49" not in usage["Description"] and "looploop" not in usage["Description"]
    (nps,) = [t for t in org.tasks(subject="Follow up on NPS") if t["WhoId"] == pia["Id"]]
    assert f"Hi {JINJA_FIRST_NAME}," in nps["Description"]
    assert "49" not in nps["Description"]


def test_soql_quotes_and_backslashes_in_names_round_trip(org: Org, cycle: Cycle) -> None:
    account_id = org.rename("Consolidated Messenger", SOQL_NAME)

    deps, report = cycle()

    assert (mirrored(deps, "account", account_id) or {})["name"] == SOQL_NAME
    assert_every_write_landed(deps, report)
    (task,) = org.tasks(account_id, "Usage dropped at")
    assert SOQL_NAME in task["Description"] and SOQL_NAME in task["Subject"]
    # The next cycle's incremental queries (cursor values through format_soql) still work.
    org.update("Account", account_id, {"Name": SOQL_NAME + "'"})
    deps, report = cycle()
    assert (mirrored(deps, "account", account_id) or {})["name"] == SOQL_NAME + "'"


def test_unicode_names_are_kept_exactly(org: Org, cycle: Cycle) -> None:
    account_id = org.rename("Quartz Semiconductors", UNICODE_NAME)

    deps, report = cycle()

    assert (mirrored(deps, "account", account_id) or {})["name"] == UNICODE_NAME  # no NFC
    assert_every_write_landed(deps, report)
    (renewal,) = org.tasks(account_id, "Send renewal email")
    assert UNICODE_NAME in renewal["Description"]


# -- text cut to the target field --------------------------------------------------------------
def test_text_is_cut_to_the_target_fields_length(org: Org, cycle: Cycle, tmp_path: Path) -> None:
    mappings = custom_mappings(tmp_path)
    template = mappings / "templates" / "nps_detractor.j2"
    template.write_text(template.read_text() + "\nThey wrote: {{ answer.comment }}\n")
    nps_account = org.account("Adventure Works")["Id"]
    (pia,) = org.where("Contact", AccountId=nps_account, FirstName="Pia")
    answer = max(  # her detractor answer (docs/demo-org.md): score 6, ten days ago
        (a for a in org.where("Survey_Answer__c", Contact__c=pia["Id"]) if a["Score__c"] == 6),
        key=lambda a: a["Answer_Date__c"],
    )
    comment = ("Très déçu 😡 " * 3000)[:32768]  # Comment__c's own maximum
    org.update("Survey_Answer__c", answer["Id"], {"Comment__c": comment})
    long_name = ("Munson's Pickles & Preserves 🥒 " * 10)[:255]  # Account.Name's maximum
    usage_account = org.rename("Munson's Pickles", long_name)

    deps, report = cycle(mappings)

    assert_every_write_landed(deps, report)
    (nps,) = org.tasks(answer["Id"], "Follow up on NPS")
    assert len(nps["Description"]) == TASK_DESCRIPTION and nps["Description"].endswith("…")
    assert nps["Description"].startswith("Subject: Thank you for your feedback")
    (usage,) = org.tasks(usage_account, "Usage dropped at")
    assert len(usage["Subject"]) == TASK_SUBJECT and usage["Subject"].endswith("…")
    assert usage["Subject"].startswith("Usage dropped at Munson's Pickles")


def test_100_kb_tickets_and_tickets_without_an_organization(org: Org, cycle: Cycle) -> None:
    big = org.zd.create_ticket(
        subject="{{ 7*7 }} " + "s" * 100_000, comment={"body": "b" * 100_000}
    )
    orphan = org.zd.create_ticket(
        subject="No organization 🚀", requester_id=org.walk_in_requester()
    )
    assert orphan.get("organization_id") is None
    bare = org.zd.create_ticket(
        subject="", comment={"body": "only a body"}, priority=None, type=None, tags=[]
    )

    deps, report = cycle()

    assert_every_write_landed(deps, report)
    row = mirrored(deps, "zendesk_ticket", str(big["id"])) or {}
    assert row["subject"] == "{{ 7*7 }} " + "s" * 100_000
    row = mirrored(deps, "zendesk_ticket", str(orphan["id"])) or {}
    assert row["organization_id"] is None and row["subject"] == "No organization 🚀"
    row = mirrored(deps, "zendesk_ticket", str(bare["id"])) or {}
    assert row["priority"] is None and row["type"] is None
    assert issues(deps) == []


def test_nul_characters_are_dropped_not_fatal(org: Org, cycle: Cycle) -> None:
    """PostgreSQL text cannot hold U+0000: one in a name once failed the whole page."""
    account_id = org.rename("Datum Corporation", "Datum\x00 Corporation")
    ticket = org.zd.create_ticket(subject="nul \x00 here", comment={"body": "x\x00y"})

    deps, report = cycle()

    assert (mirrored(deps, "account", account_id) or {})["name"] == "Datum Corporation"
    assert (mirrored(deps, "zendesk_ticket", str(ticket["id"])) or {})["subject"] == "nul  here"
    assert_every_write_landed(deps, report)


# -- nulls and dates ---------------------------------------------------------------------------
def test_blanks_where_the_rules_expect_values(org: Org, cycle: Cycle) -> None:
    northwind = org.account("Northwind Traders")["Id"]
    org.update(
        "Account",
        northwind,
        {
            "CSM__c": None,
            "Licenses_Purchased__c": None,
            "Licenses_Active__c": None,
            "Renewal_Date__c": None,
            "Segment__c": None,
            "Products_Owned__c": None,
        },
    )
    typeless = org.account("Starling Airlines")["Id"]
    org.update("Account", typeless, {"Type": None})
    for week in org.records("Usage_Week__c")[:3]:
        org.update("Usage_Week__c", week["Id"], {"Active_Users__c": None, "Week_Start__c": None})
    for answer in org.records("Survey_Answer__c")[:3]:
        org.update("Survey_Answer__c", answer["Id"], {"Score__c": None, "Answer_Date__c": None})
    for contact in org.where("Contact", AccountId=northwind)[:2]:
        org.update("Contact", contact["Id"], {"Title": None, "Email": None})
    for opp in org.where("Opportunity", AccountId=northwind)[:2]:
        org.update("Opportunity", opp["Id"], {"Amount": None, "Type": None})

    deps, report = cycle()

    assert_every_write_landed(deps, report)
    assert (mirrored(deps, "account", northwind) or {})["csm_id"] is None
    assert (mirrored(deps, "account", typeless) or {})["type"] is None
    assert issues(deps) == []


def test_dates_at_the_ends_of_salesforces_range(org: Org, cycle: Cycle) -> None:
    far, early = "4000-12-31", "1700-01-01"  # Salesforce accepts dates from 1700 to 4000
    org.update("Account", org.account("Northwind Traders")["Id"], {"Renewal_Date__c": far})
    org.update("Account", org.account("Starling Airlines")["Id"], {"Renewal_Date__c": early})
    opportunities = org.records("Opportunity")
    org.update("Opportunity", opportunities[0]["Id"], {"CloseDate": far})
    org.update("Opportunity", opportunities[1]["Id"], {"CloseDate": early})
    weeks = org.records("Usage_Week__c")
    org.update("Usage_Week__c", weeks[0]["Id"], {"Week_Start__c": early})
    org.update("Usage_Week__c", weeks[1]["Id"], {"Week_Start__c": far})
    answers = org.records("Survey_Answer__c")
    org.update("Survey_Answer__c", answers[0]["Id"], {"Answer_Date__c": far})
    org.update("Survey_Answer__c", answers[1]["Id"], {"Answer_Date__c": early})
    tasks = [t for t in org.records("Task") if not t.get("CS_Sync_Key__c")]
    org.update("Task", tasks[0]["Id"], {"ActivityDate": early})
    org.update("Task", tasks[1]["Id"], {"ActivityDate": far})

    deps, report = cycle()

    assert_every_write_landed(deps, report)
    assert str(
        (mirrored(deps, "account", org.account("Northwind Traders")["Id"]) or {})["renewal_date"]
    ).startswith(far)
    assert issues(deps) == []


# -- records the connector cannot read: skipped, reported by id, the rest proceeds ---------------
def test_unreadable_records_are_skipped_reported_and_the_rest_proceeds(
    org: Org, cycle: Cycle, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mappings = custom_mappings(tmp_path)
    account_mapping = mappings / "salesforce" / "account.toml"
    # An org keeps a date in a text field, typed by people: mapped with the date transform.
    account_mapping.write_text(
        account_mapping.read_text().replace(
            'Name = "name"',
            'Name = "name"\nDescription = { column = "legacy_renewal", transform = "date" }',
        )
    )
    bad_date = org.account("Consolidated Messenger")["Id"]
    org.update("Account", bad_date, {"Description": "31/12/2026"})
    good_date = org.account("Quartz Semiconductors")["Id"]
    org.update("Account", good_date, {"Description": "2026-12-31"})
    zorg = next(o for o in org.zd.store.organizations.values() if o.get("external_id"))
    org.edit_organization(int(zorg["id"]), external_id="ACME-001 (see CRM)")

    with caplog.at_level(logging.WARNING, logger="connector.pull"):
        deps, report = cycle(mappings)

    reported = issues(deps)
    assert ("account", bad_date) in {(s, r) for s, r, _ in reported}
    assert ("zendesk_organization", str(zorg["id"])) in {(s, r) for s, r, _ in reported}
    (message,) = [m for s, r, m in reported if r == bad_date]
    assert message.startswith("fields.Description:") and "31/12/2026" in message
    assert len(reported) == 2
    logged = [r.getMessage() for r in caplog.records]
    assert any(f"account: skipped {bad_date}: fields.Description" in m for m in logged)
    # The rest proceeds: the other accounts are mirrored, outputs are written.
    assert mirrored(deps, "account", bad_date) is None
    assert str((mirrored(deps, "account", good_date) or {})["legacy_renewal"]) == "2026-12-31"
    assert_every_write_landed(deps, report)
    assert report.push is not None and sum(c.created for c in report.push.counts.values()) > 50
