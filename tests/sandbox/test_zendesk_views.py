"""Views: the support managers' view of CS risk tasks, created and counted through the API.

Shapes checked against Views (developer.zendesk.com/api-reference/ticketing/business-rules/views/:
Create View takes ``title``, ``all``, ``any``, ``output`` and needs an ``all`` condition on status,
type, group_id, assignee_id or requester_id; Count Tickets in View answers ``view_count``).
"""

from __future__ import annotations

import pytest
import requests

ZD = "https://demo.zendesk.com/api/v2"
RISK_VIEW = {
    "title": "CS risk tasks",
    "all": [
        {"field": "status", "operator": "less_than", "value": "solved"},
        {"field": "type", "operator": "is", "value": "task"},
    ],
    "any": [
        {"field": "current_tags", "operator": "includes", "value": "cs_support_risk"},
        {"field": "current_tags", "operator": "includes", "value": "cs_bug_risk"},
    ],
    "output": {"columns": ["status", "description", "priority"]},
}


@pytest.fixture
def zd(sandbox, session_factory) -> requests.Session:  # type: ignore[no-untyped-def]
    s = session_factory()
    c = sandbox.config.credentials
    s.auth = (f"{c.zd_email}/token", c.zd_api_token)
    return s


def _ticket(zd: requests.Session, tags: list[str], **fields) -> int:  # type: ignore[no-untyped-def]
    payload = {"subject": "t", "comment": {"body": "b"}, "type": "task", "tags": tags, **fields}
    return int(zd.post(f"{ZD}/tickets.json", json={"ticket": payload}).json()["ticket"]["id"])


def _count(zd: requests.Session, view_id: int) -> int:
    return int(zd.get(f"{ZD}/views/{view_id}/count.json").json()["view_count"]["value"])


def test_creating_a_view_stores_its_conditions(zd) -> None:  # type: ignore[no-untyped-def]
    r = zd.post(f"{ZD}/views.json", json={"view": RISK_VIEW})
    assert r.status_code == 200
    view = r.json()["view"]
    assert view["conditions"] == {"all": RISK_VIEW["all"], "any": RISK_VIEW["any"]}
    assert zd.get(f"{ZD}/views/{view['id']}.json").json()["view"]["title"] == "CS risk tasks"


def test_a_view_without_a_required_all_condition_is_422(zd) -> None:  # type: ignore[no-untyped-def]
    view = {
        "title": "tags only",
        "all": [{"field": "current_tags", "operator": "includes", "value": "x"}],
    }
    assert zd.post(f"{ZD}/views.json", json={"view": view}).status_code == 422


def test_views_are_listed(zd) -> None:  # type: ignore[no-untyped-def]
    zd.post(f"{ZD}/views.json", json={"view": RISK_VIEW})
    titles = [v["title"] for v in zd.get(f"{ZD}/views.json").json()["views"]]
    assert "CS risk tasks" in titles


def test_the_count_covers_open_tasks_with_a_risk_tag(zd) -> None:  # type: ignore[no-untyped-def]
    view_id = zd.post(f"{ZD}/views.json", json={"view": RISK_VIEW}).json()["view"]["id"]
    _ticket(zd, ["cs_connector", "cs_support_risk"])
    _ticket(zd, ["cs_bug_risk"], status="pending")
    _ticket(zd, ["cs_bug_risk"], status="solved")
    _ticket(zd, ["other"])
    _ticket(zd, ["cs_bug_risk"], type="question")
    assert _count(zd, view_id) == 2


def test_the_count_answers_the_documented_view_count_object(zd) -> None:  # type: ignore[no-untyped-def]
    view_id = zd.post(f"{ZD}/views.json", json={"view": RISK_VIEW}).json()["view"]["id"]
    count = zd.get(f"{ZD}/views/{view_id}/count.json").json()["view_count"]
    assert set(count) == {"view_id", "url", "value", "pretty", "fresh"}
    assert count["view_id"] == view_id and count["fresh"] is True


def test_a_group_condition_counts_only_that_groups_tickets(sandbox, zd) -> None:  # type: ignore[no-untyped-def]
    group = sandbox.state.demo.zendesk["groups"][-1]["id"]
    view = {"title": "group", "all": [{"field": "group_id", "operator": "is", "value": group}]}
    view_id = zd.post(f"{ZD}/views.json", json={"view": view}).json()["view"]["id"]
    before = _count(zd, view_id)
    _ticket(zd, [], group_id=group)
    _ticket(zd, [])
    assert _count(zd, view_id) == before + 1


def test_deleted_tickets_leave_the_count(zd) -> None:  # type: ignore[no-untyped-def]
    view_id = zd.post(f"{ZD}/views.json", json={"view": RISK_VIEW}).json()["view"]["id"]
    tid = _ticket(zd, ["cs_bug_risk"])
    zd.delete(f"{ZD}/tickets/{tid}.json")
    assert _count(zd, view_id) == 0


def test_an_unknown_view_is_404(zd) -> None:  # type: ignore[no-untyped-def]
    assert zd.get(f"{ZD}/views/999999999/count.json").status_code == 404
