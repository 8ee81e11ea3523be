"""The README's first command: start the sandbox, summarise the demo org through the real clients.

It shows a newcomer, with no Salesforce or Zendesk account, that the clients reach both APIs
over verified TLS and what the demo org holds: record counts per object, the API allowance, the
Zendesk side, and the story accounts every rule of RULES.md fires on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from simple_salesforce.format import format_soql

from connector.clients import (
    SalesforcePasswordLogin,
    ZendeskTokenLogin,
    salesforce_client,
    zendesk_client,
)
from connector.http.session import ConnectTo, TransportSettings
from connector.sandbox.server import Sandbox

SUMMARY_OBJECTS = (
    "Account",
    "Contact",
    "User",
    "Opportunity",
    "OpportunityContactRole",
    "AccountContactRole",
    "Task",
    "Event",
    "Survey_Answer__c",
    "Usage_Week__c",
    "CS_CTA__c",
    "CS_Milestone__c",
    "CS_Timeline_Entry__c",
)


@dataclass
class DemoSummary:
    """What the demo found, for the console table or ``--json``."""

    salesforce_instance: str
    api_usage: str
    salesforce_counts: dict[str, int] = field(default_factory=dict)
    customers: int = 0
    zendesk_counts: dict[str, int] = field(default_factory=dict)
    tickets_by_status: dict[str, int] = field(default_factory=dict)
    stories: list[dict[str, Any]] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def transport_for(sandbox: Sandbox) -> TransportSettings:
    """Route the real host names to the sandbox's loopback port, trusting its CA."""
    return TransportSettings(connect_to=ConnectTo(("127.0.0.1", sandbox.port), sandbox.ca_path))


def summarise(sandbox: Sandbox) -> DemoSummary:
    """Log in as the integration user on both APIs and read the summary over HTTPS."""
    started = time.perf_counter()
    creds = sandbox.config.credentials
    transport = transport_for(sandbox)
    sf = salesforce_client(
        SalesforcePasswordLogin(creds.sf_username, creds.sf_password, creds.sf_security_token),
        transport,
    )
    summary = DemoSummary(salesforce_instance=sf.sf_instance, api_usage="")
    for name in SUMMARY_OBJECTS:
        soql = format_soql("SELECT COUNT() FROM {:literal}", name)
        summary.salesforce_counts[name] = sf.query(soql)["totalSize"]
    summary.customers = sf.query(
        "SELECT COUNT() FROM Account WHERE Type IN ('Customer - Direct', 'Customer - Channel')"
    )["totalSize"]
    usage = sf.api_usage.get("api-usage")
    summary.api_usage = f"{usage.used}/{usage.total}" if usage else "unknown"
    zd = zendesk_client(
        ZendeskTokenLogin(sandbox.config.zendesk_subdomain, creds.zd_email, creds.zd_api_token),
        transport,
    )
    summary.zendesk_counts["organizations"] = sum(1 for _ in zd.organizations())
    summary.zendesk_counts["groups"] = sum(1 for _ in zd.groups())
    for ticket in zd.tickets():
        summary.tickets_by_status[ticket.status] = (
            summary.tickets_by_status.get(ticket.status, 0) + 1
        )
    summary.zendesk_counts["tickets"] = sum(summary.tickets_by_status.values())
    demo = sandbox.state.demo
    summary.stories = [s.__dict__ for s in demo.stories] if demo else []
    for api in ("salesforce", "zendesk"):
        summary.api_calls[api] = len(sandbox.calls.calls(api))
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary
