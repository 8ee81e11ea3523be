"""Measure the sandbox's own serving speed with a bare pager (``requests`` + ``json``, no store).

This is the floor the connector's pull is compared against: the same endpoints and page sizes,
nothing done with the records. ``python -m connector.sandbox.throughput --scale M``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass

import requests
from simple_salesforce.format import format_soql

from connector.http.session import ConnectTo, TransportSettings, new_session
from connector.sandbox.server import Sandbox
from connector.sandbox.state import SandboxConfig


@dataclass
class PagerResult:
    """Records, pages and wall time of one full sweep."""

    stream: str
    records: int
    pages: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def salesforce_login(session: requests.Session, sandbox: Sandbox) -> tuple[str, str]:
    """OAuth password grant; returns (instance_url, access_token)."""
    c = sandbox.config.credentials
    r = session.post(
        "https://login.salesforce.com/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": c.sf_consumer_key,
            "client_secret": c.sf_consumer_secret,
            "username": c.sf_username,
            "password": c.sf_password + c.sf_security_token,
        },
    )
    r.raise_for_status()
    body = r.json()
    return body["instance_url"], body["access_token"]


def page_soql(session: requests.Session, sandbox: Sandbox, soql: str, stream: str) -> PagerResult:
    """Follow ``nextRecordsUrl`` from a queryAll to the last page."""
    instance, token = salesforce_login(session, sandbox)
    session.headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    records = pages = 0
    r = session.get(f"{instance}/services/data/v62.0/queryAll/", params={"q": soql})
    while True:
        r.raise_for_status()
        body = json.loads(r.content)
        records += len(body["records"])
        pages += 1
        if body["done"]:
            break
        r = session.get(instance + body["nextRecordsUrl"])
    return PagerResult(stream, records, pages, round(time.perf_counter() - started, 3))


def page_tickets(session: requests.Session, sandbox: Sandbox) -> PagerResult:
    """Follow the cursor-based incremental ticket export to ``end_of_stream``."""
    c = sandbox.config.credentials
    session.auth = (f"{c.zd_email}/token", c.zd_api_token)
    url = f"https://{sandbox.zendesk_host}/api/v2/incremental/tickets/cursor.json"
    started = time.perf_counter()
    records = pages = 0
    params: dict[str, str | int] = {"start_time": 0, "per_page": 1000}
    while True:
        r = session.get(url, params=params)
        r.raise_for_status()
        body = json.loads(r.content)
        records += len(body["tickets"])
        pages += 1
        if body["end_of_stream"]:
            break
        params = {"cursor": body["after_cursor"], "per_page": 1000}
    return PagerResult("tickets", records, pages, round(time.perf_counter() - started, 3))


def measure(scale: str) -> list[PagerResult]:
    """Start a sandbox at ``scale`` with rate limits off and sweep the biggest streams."""
    config = SandboxConfig(scale=scale, zendesk_incremental_per_min=0, zendesk_per_min=0)
    with Sandbox(config, port=0) as sandbox:
        transport = TransportSettings(
            connect_to=ConnectTo(("127.0.0.1", sandbox.port), sandbox.ca_path)
        )
        fields = (
            "Id, IsDeleted, Subject, Status, ActivityDate, WhatId, WhoId, OwnerId, SystemModstamp"
        )
        return [
            page_soql(
                new_session(transport),
                sandbox,
                format_soql("SELECT {:literal} FROM Task ORDER BY SystemModstamp, Id", fields),
                "Task",
            ),
            page_tickets(new_session(transport), sandbox),
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="S", choices=["S", "M", "L"])
    args = parser.parse_args()
    for result in measure(args.scale):
        print(json.dumps({**asdict(result), "per_second": round(result.per_second)}))


if __name__ == "__main__":
    main()
