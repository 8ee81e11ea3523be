"""The bare pager: the pull's endpoints and page sizes with ``requests`` + ``json``, no store.

It is what reading the data costs with nothing done to it, the floor the connector's pull is
compared against. The benchmark runs it as a child process so the peak RSS it reports is its
own: ``python -m connector.bench.pager PLAN.json`` prints one JSON object. The plan (queries,
endpoints, page sizes, logins) is built by ``connector.bench.pull_plan`` from the shipped mappings,
so this process imports nothing heavier than ``requests``.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from connector.bench.probe import peak_rss_mb
from connector.http.session import ConnectTo, TransportSettings, new_session

Body = dict[str, Any]


@dataclass
class Swept:
    """One stream read to its end: records served, calls made, seconds spent."""

    stream: str
    records: int = 0
    calls: int = 0
    seconds: float = 0.0


def sweep(
    stream: str,
    first: Callable[[], Body],
    fetch: Callable[[str], Body],
    count: Callable[[Body], int],
    next_token: Callable[[Body], str | None],
) -> Swept:
    """Call ``first``, then follow next-page tokens to the end (a repeated token raises)."""
    result = Swept(stream)
    started = time.perf_counter()
    seen: set[str] = set()
    body = first()
    while True:
        result.calls += 1
        result.records += count(body)
        token = next_token(body)
        if token is None:
            break
        if token in seen:
            raise RuntimeError(f"{stream}: next-page token repeated: {token}")
        seen.add(token)
        body = fetch(token)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def get_json(session: requests.Session, url: str, **kwargs: Any) -> Body:
    """One GET, decoded with ``json.loads``; anything but 2xx raises."""
    response = session.get(url, **kwargs)
    response.raise_for_status()
    body = json.loads(response.content)
    if not isinstance(body, dict):
        raise TypeError(f"GET {url}: expected a JSON object")
    return body


def salesforce(session: requests.Session, plan: Body) -> list[Swept]:
    """OAuth password grant, then every stream's query paged by ``nextRecordsUrl``."""
    login = session.post(f"https://{plan['login_host']}/services/oauth2/token", data=plan["login"])
    login.raise_for_status()
    token = login.json()
    instance, version = token["instance_url"], plan["api_version"]
    session.headers["Authorization"] = f"Bearer {token['access_token']}"
    out = []
    for s in plan["streams"]:
        if "bulk_soql" in s:
            out.append(bulk_sweep(session, f"{instance}/services/data/v{version}/", s))
            continue
        resource_name = "queryAll" if s["include_deleted"] else "query"
        url = f"{instance}/services/data/v{version}/{resource_name}/"
        headers = {"Sforce-Query-Options": f"batchSize={plan['page_size']}"}

        def first(url: str = url, soql: str = s["soql"], headers: Any = headers) -> Body:
            return get_json(session, url, params={"q": soql}, headers=headers)

        out.append(
            sweep(
                s["stream"],
                first,
                lambda next_url: get_json(session, instance + next_url),
                lambda body: len(body["records"]),
                lambda body: None if body["done"] else str(body["nextRecordsUrl"]),
            )
        )
    return out


def bulk_sweep(session: requests.Session, base: str, s: Body) -> Swept:
    """A Bulk API 2.0 query job, as the connector's first load reads a big stream: create, poll
    on the connector's schedule (at once, then after 0.5 s, doubling), then the CSV result
    pages by ``Sforce-Locator``, each parsed with ``csv``."""
    result = Swept(s["stream"])
    started = time.perf_counter()
    job = {
        "operation": "queryAll" if s["include_deleted"] else "query",
        "query": s["bulk_soql"],
        "contentType": "CSV",
        "columnDelimiter": "COMMA",
        "lineEnding": "LF",
    }
    created = session.post(base + "jobs/query", json=job)
    created.raise_for_status()
    job_id = created.json()["id"]
    result.calls += 1
    delay = 0.5
    while True:
        result.calls += 1
        state = get_json(session, f"{base}jobs/query/{job_id}")["state"]
        if state == "JobComplete":
            break
        if state in ("Failed", "Aborted"):
            raise RuntimeError(f"{s['stream']}: Bulk job {job_id} ended {state}")
        time.sleep(delay)
        delay = min(delay * 2, 10.0)
    locator: str | None = None
    while True:
        response = session.get(
            f"{base}jobs/query/{job_id}/results",
            params={"locator": locator} if locator else {},
            headers={"Accept": "text/csv"},
        )
        response.raise_for_status()
        result.calls += 1
        text = io.TextIOWrapper(io.BytesIO(response.content), "utf-8-sig", newline="")
        result.records += sum(1 for row in csv.reader(text) if row) - 1  # less the header
        locator = response.headers.get("Sforce-Locator")
        if locator in (None, "", "null"):
            break
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def zendesk(session: requests.Session, plan: Body) -> list[Swept]:
    """Cursor exports (tickets, users), the time export (organizations), lists (groups)."""
    session.auth = (f"{plan['email']}/token", plan["api_token"])
    base = f"https://{plan['subdomain']}.zendesk.com/api/v2"
    return [_zendesk_stream(session, base, s) for s in plan["streams"]]


def _zendesk_stream(session: requests.Session, base: str, s: Body) -> Swept:
    endpoint, per_page = s["endpoint"], s["per_page"]

    def records(body: Body) -> int:
        return len(body.get(endpoint) or ())

    if endpoint in ("tickets", "users"):
        url = f"{base}/incremental/{endpoint}/cursor.json"
        return sweep(
            s["stream"],
            lambda: get_json(session, url, params={"per_page": per_page, "start_time": 0}),
            lambda c: get_json(session, url, params={"per_page": per_page, "cursor": c}),
            records,
            lambda body: None if body["end_of_stream"] else str(body["after_cursor"]),
        )
    if endpoint == "organizations":
        url = f"{base}/incremental/organizations.json"

        def since(start: str) -> Body:
            return get_json(session, url, params={"start_time": start, "per_page": per_page})

        return sweep(
            s["stream"],
            lambda: since("0"),
            since,
            records,
            lambda body: None if body["end_of_stream"] else str(body["end_time"]),
        )
    url = f"{base}/{endpoint}.json"
    return sweep(
        s["stream"],
        lambda: get_json(session, url, params={"page[size]": per_page}),
        lambda after: get_json(session, url, params={"page[size]": per_page, "page[after]": after}),
        records,
        lambda body: str(body["meta"]["after_cursor"]) if body["meta"]["has_more"] else None,
    )


def run(plan: Body) -> Body:
    """Both APIs, one session each (as the connector has); the result as JSON-able data."""
    c = plan["connect_to"]
    transport = TransportSettings(
        connect_to=ConnectTo((c["host"], int(c["port"])), Path(c["ca_file"]))
    )
    started = time.perf_counter()
    streams = salesforce(new_session(transport), plan["salesforce"])
    streams += zendesk(new_session(transport), plan["zendesk"])
    wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 3),
        "logins": 1,
        "calls": sum(s.calls for s in streams),
        "records": sum(s.records for s in streams),
        "peak_rss_mb": peak_rss_mb(),  # VmHWM: ru_maxrss would include the parent's
        "streams": [asdict(s) for s in streams],
    }


def main() -> None:
    """Read the plan file named on the command line, print the result as one JSON object."""
    plan = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    print(json.dumps(run(plan)))


if __name__ == "__main__":
    main()
