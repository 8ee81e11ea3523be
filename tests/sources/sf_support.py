"""Helpers for the Salesforce source tests: hand-built stream specs, logins, call counting.

Imported by the test modules and by ``conftest.py`` (a plain module, so no name clashes with the
other ``conftest`` files): PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from connector.model import Column, JsonDict, Page, StreamSpec
from connector.sources.salesforce import SalesforceLogin, SalesforceSource

CONTACT = StreamSpec(
    name="contact",
    source="salesforce",
    source_object="Contact",
    columns=(
        Column("email", "text", "Email"),
        Column("title", "text", "Title"),
        Column("account_id", "text", "AccountId"),
        Column("account_name", "text", "Account.Name"),
        Column("left_company", "bool", "Left_Company__c"),
        Column("created", "datetime", "CreatedDate"),
    ),
    cursor_field="SystemModstamp",
    origin="tests/sources/contact",
)
TASK = StreamSpec(
    name="task",
    source="salesforce",
    source_object="Task",
    columns=(
        Column("subject", "text", "Subject"),
        Column("status", "text", "Status"),
        Column("due", "date", "ActivityDate"),
        Column("what_id", "text", "WhatId"),
    ),
    cursor_field="SystemModstamp",
    origin="tests/sources/task",
)
USER = StreamSpec(
    name="user",
    source="salesforce",
    source_object="User",
    columns=(Column("username", "text", "Username"), Column("active", "bool", "IsActive")),
    cursor_field="SystemModstamp",
    origin="tests/sources/user",
    options={"has_is_deleted": False},
)


def sf_login_for(sandbox: Any, method: str) -> SalesforceLogin:
    """The demo org's credentials for one login method."""
    creds = sandbox.config.credentials
    if method == "jwt":
        return SalesforceLogin(
            "jwt",
            username=creds.sf_username,
            consumer_key=creds.sf_consumer_key,
            private_key_file=str(sandbox.jwt_private_key_path),
        )
    if method == "client_credentials":
        return SalesforceLogin(
            "client_credentials",
            domain=f"{sandbox.config.my_domain}.my",
            consumer_key=creds.sf_consumer_key,
            consumer_secret=creds.sf_consumer_secret,
        )
    if method == "password":
        return SalesforceLogin(
            "password",
            username=creds.sf_username,
            password=creds.sf_password,
            security_token=creds.sf_security_token,
        )
    return SalesforceLogin(
        "refresh_token",
        consumer_key=creds.sf_consumer_key,
        consumer_secret=creds.sf_consumer_secret,
        refresh_token=creds.sf_refresh_token,
    )


def read_all(
    source: SalesforceSource,
    spec: StreamSpec,
    state: JsonDict | None = None,
    *,
    run_start: datetime | None = None,
    full: bool = False,
) -> list[Page]:
    """Every page of one read."""
    when = run_start or datetime.now(UTC)
    return list(source.read(spec, state, run_start=when, full=full))


def row_ids(pages: list[Page]) -> list[str]:
    return [row.id for page in pages for row in page.rows]


def data_calls(sandbox: Any, part: str = "") -> list[Any]:
    """Salesforce calls against the daily allowance whose path contains ``part``."""
    return [
        c
        for c in sandbox.calls.calls("salesforce")
        if c.path.startswith("/services/data/v") and part in c.path
    ]


def query_calls(sandbox: Any) -> list[Any]:
    """Query and query-more calls that are not a COUNT()."""
    return [
        c
        for c in data_calls(sandbox, "/query")
        if "/jobs/" not in c.path and "COUNT()" not in unquote_plus(c.query)
    ]


def live_ids(sandbox: Any, sobject: str, *, with_deleted: bool = True) -> set[str]:
    records = sandbox.emulators["salesforce"].all_records(sobject)
    return {r["Id"] for r in records if with_deleted or not r.get("IsDeleted")}


def pages_for(rows: int, page_size: int = 2000) -> int:
    return max(1, math.ceil(rows / page_size))
