"""The Zendesk emulator through the real clients: zenpy on its own session, and raw requests.

Each wire-format test names the Zendesk page its shape was checked against.
"""

from __future__ import annotations

import pytest
import requests
from zenpy.lib.api_objects import Ticket
from zenpy.lib.exception import APIException, RecordNotFoundException

ZD = "https://demo.zendesk.com/api/v2"


@pytest.fixture
def zd(sandbox, session_factory) -> requests.Session:  # type: ignore[no-untyped-def]
    """A raw session with the API token, as the connector's own pager has."""
    s = session_factory()
    c = sandbox.config.credentials
    s.auth = (f"{c.zd_email}/token", c.zd_api_token)
    return s


@pytest.fixture
def anonymous(session_factory) -> requests.Session:  # type: ignore[no-untyped-def]
    return session_factory()


def _task(**fields) -> dict:  # type: ignore[no-untyped-def]
    return {
        "subject": "Support risk",
        "comment": {"body": "Three P1 tickets"},
        "type": "task",
        **fields,
    }


# -- authentication --------------------------------------------------------------------------
def test_a_wrong_api_token_answers_401_couldnt_authenticate_you(sandbox, anonymous) -> None:  # type: ignore[no-untyped-def]
    """Body as real accounts send it (quoted in zendesk-java-client#695, helpstack#38); scheme
    from support.zendesk.com/hc/en-us/articles/4408831452954 (How can I authenticate API
    requests)."""
    anonymous.auth = (f"{sandbox.config.credentials.zd_email}/token", "wrong")
    r = anonymous.get(f"{ZD}/groups.json")
    assert r.status_code == 401
    assert r.json() == {"error": "Couldn't authenticate you"}


def test_email_and_password_are_refused_like_a_wrong_token(sandbox, anonymous) -> None:  # type: ignore[no-untyped-def]
    """Password access is off on the account (article 4408831452954): only tokens work."""
    anonymous.auth = (sandbox.config.credentials.zd_email, sandbox.config.credentials.zd_api_token)
    assert anonymous.get(f"{ZD}/groups.json").status_code == 401


def test_an_oauth_bearer_token_authenticates_as_the_integration_user(sandbox, anonymous) -> None:  # type: ignore[no-untyped-def]
    """``Authorization: Bearer oauth_access_token`` (article 4408831452954)."""
    token = sandbox.config.credentials.zd_oauth_token
    r = anonymous.get(f"{ZD}/users/me.json", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json()["user"]["email"] == sandbox.config.credentials.zd_email


def test_an_unknown_bearer_token_answers_401_invalid_token(anonymous) -> None:  # type: ignore[no-untyped-def]
    r = anonymous.get(f"{ZD}/users/me.json", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"


# -- not found -------------------------------------------------------------------------------
def test_an_unknown_ticket_is_404_record_not_found(zd) -> None:  # type: ignore[no-untyped-def]
    """``{"error": "RecordNotFound", "description": "Not found"}`` (Tickets API, Show Ticket)."""
    r = zd.get(f"{ZD}/tickets/999999999.json")
    assert r.status_code == 404
    assert r.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_an_unknown_route_is_404_invalid_endpoint(zd) -> None:  # type: ignore[no-untyped-def]
    r = zd.get(f"{ZD}/no_such_things.json")
    assert r.status_code == 404
    assert r.json() == {"error": "InvalidEndpoint", "description": "Not found"}


def test_zenpy_raises_record_not_found_for_a_missing_ticket(zenpy) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RecordNotFoundException):
        zenpy.tickets(id=999999999)


# -- lists -----------------------------------------------------------------------------------
def test_zenpy_lists_organizations_with_cursor_pagination(sandbox, zenpy) -> None:  # type: ignore[no-untyped-def]
    """zenpy sends ``page[size]=100``; the body has ``meta``/``links`` (Pagination reference,
    developer.zendesk.com/api-reference/introduction/pagination/)."""
    names = {o.name for o in zenpy.organizations()}
    seeded = {o["name"] for o in sandbox.state.demo.zendesk["organizations"]}
    assert names == seeded


def test_cursor_pages_link_to_the_next_page_until_has_more_is_false(zd) -> None:  # type: ignore[no-untyped-def]
    """``meta.has_more``/``after_cursor`` and ``links.next`` (Pagination reference)."""
    seen, url = [], f"{ZD}/users.json?page[size]=2"
    while url:
        body = zd.get(url).json()
        seen += [u["id"] for u in body["users"]]
        url = body["links"]["next"] if body["meta"]["has_more"] else None
    assert seen == sorted(seen) and len(seen) == len(set(seen)) > 2


def test_offset_pages_carry_next_page_and_count(zd) -> None:  # type: ignore[no-untyped-def]
    """``next_page``/``previous_page``/``count`` (Pagination reference, offset pagination)."""
    body = zd.get(f"{ZD}/users.json", params={"per_page": 2}).json()
    assert len(body["users"]) == 2 and body["count"] > 2
    assert "page=2" in body["next_page"] and body["previous_page"] is None


def test_zenpy_finds_an_organization_by_external_id(sandbox, zenpy) -> None:  # type: ignore[no-untyped-def]
    """zenpy's ``organizations(external_id=...)`` calls ``organizations/show_many?external_ids``
    (Organizations API, Show Many Organizations)."""
    org = next(o for o in sandbox.state.demo.zendesk["organizations"] if o["external_id"])
    found = list(zenpy.organizations(external_id=org["external_id"]))
    assert [o.id for o in found] == [org["id"]]


def test_organization_search_by_external_id_returns_the_match(sandbox, zd) -> None:  # type: ignore[no-untyped-def]
    """``GET /api/v2/organizations/search?external_id=`` (Organizations API, Search)."""
    org = next(o for o in sandbox.state.demo.zendesk["organizations"] if o["external_id"])
    body = zd.get(
        f"{ZD}/organizations/search.json", params={"external_id": org["external_id"]}
    ).json()
    assert [o["id"] for o in body["organizations"]] == [org["id"]] and body["count"] == 1


def test_groups_ticket_fields_and_me_are_served(sandbox, zenpy) -> None:  # type: ignore[no-untyped-def]
    demo = sandbox.state.demo.zendesk
    assert {g.id for g in zenpy.groups()} == {g["id"] for g in demo["groups"]}
    assert {f.id for f in zenpy.ticket_fields()} == {f["id"] for f in demo["ticket_fields"]}
    assert zenpy.users.me().email == sandbox.config.credentials.zd_email


# -- tickets ---------------------------------------------------------------------------------
def test_creating_a_ticket_answers_201_with_the_ticket_and_its_audit(zd) -> None:  # type: ignore[no-untyped-def]
    """201 ``{"ticket", "audit"}``; the comment becomes the description (Tickets API, Create
    Ticket, developer.zendesk.com/api-reference/ticketing/tickets/tickets/)."""
    r = zd.post(f"{ZD}/tickets.json", json={"ticket": _task(tags=["cs_connector"])})
    assert r.status_code == 201
    ticket, audit = r.json()["ticket"], r.json()["audit"]
    assert (ticket["description"], ticket["type"], ticket["status"]) == (
        "Three P1 tickets",
        "task",
        "new",
    )
    assert ticket["tags"] == ["cs_connector"] and audit["ticket_id"] == ticket["id"]
    assert ticket["updated_at"].endswith("Z") and isinstance(ticket["generated_timestamp"], int)


def test_zenpy_create_returns_a_ticket_audit(zenpy, zd) -> None:  # type: ignore[no-untyped-def]
    audit = zenpy.tickets.create(Ticket(**_task(external_id="cta-1")))
    stored = zd.get(f"{ZD}/tickets/{audit.ticket.id}.json").json()["ticket"]
    assert stored["external_id"] == "cta-1" == audit.ticket.external_id


def test_a_ticket_without_a_comment_is_422_description_cannot_be_blank(zd) -> None:  # type: ignore[no-untyped-def]
    """RecordInvalid with ``details.base`` "Description: cannot be blank" (BlankValue), as
    quoted in zendesk_api_client_php#231 and zendesk_api_client_rb#492; Tickets API says
    ``comment`` is the one required property."""
    r = zd.post(f"{ZD}/tickets.json", json={"ticket": {"subject": "no body"}})
    assert r.status_code == 422
    body = r.json()
    assert (body["error"], body["description"]) == ("RecordInvalid", "Record validation errors")
    assert body["details"]["base"][0]["description"] == "Description: cannot be blank"


def test_zenpy_raises_api_exception_on_a_validation_error(zenpy) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(APIException) as err:
        zenpy.tickets.create(Ticket(subject="no body"))
    assert err.value.response.status_code == 422


def test_a_group_that_does_not_exist_is_422(zd) -> None:  # type: ignore[no-untyped-def]
    r = zd.post(f"{ZD}/tickets.json", json={"ticket": _task(group_id=987654321)})
    assert r.status_code == 422 and r.json()["error"] == "RecordInvalid"


def test_a_closed_ticket_cannot_be_updated(sandbox, zd) -> None:  # type: ignore[no-untyped-def]
    """422 ``details.status`` "Status: closed prevents ticket update" (as clients quote it,
    e.g. revere's Zendesk specs); Tickets API, Update Ticket."""
    created = zd.post(f"{ZD}/tickets.json", json={"ticket": _task()}).json()["ticket"]
    sandbox.emulators["zendesk"].agent_update(created["id"], status="closed")
    r = zd.put(f"{ZD}/tickets/{created['id']}.json", json={"ticket": {"priority": "high"}})
    assert r.status_code == 422
    assert r.json()["details"]["status"][0]["description"] == (
        "Status: closed prevents ticket update"
    )


def test_an_update_changes_only_the_given_fields(zd) -> None:  # type: ignore[no-untyped-def]
    created = zd.post(f"{ZD}/tickets.json", json={"ticket": _task(priority="low")}).json()
    tid = created["ticket"]["id"]
    r = zd.put(f"{ZD}/tickets/{tid}.json", json={"ticket": {"priority": "high"}})
    assert r.status_code == 200
    assert (r.json()["ticket"]["priority"], r.json()["ticket"]["subject"]) == (
        "high",
        "Support risk",
    )


def test_a_deleted_ticket_answers_204_then_404(zd) -> None:  # type: ignore[no-untyped-def]
    """Delete Ticket answers 204 No Content (Tickets API)."""
    tid = zd.post(f"{ZD}/tickets.json", json={"ticket": _task()}).json()["ticket"]["id"]
    assert zd.delete(f"{ZD}/tickets/{tid}.json").status_code == 204
    assert zd.get(f"{ZD}/tickets/{tid}.json").status_code == 404


def test_tickets_are_listed_by_external_id(zd) -> None:  # type: ignore[no-untyped-def]
    """``GET /api/v2/tickets?external_id=`` may return several tickets (Tickets API, List
    Tickets: external ids don't have to be unique)."""
    for _ in range(2):
        zd.post(f"{ZD}/tickets.json", json={"ticket": _task(external_id="cta-7")})
    body = zd.get(f"{ZD}/tickets.json", params={"external_id": "cta-7"}).json()
    assert [t["external_id"] for t in body["tickets"]] == ["cta-7", "cta-7"]


def test_show_many_returns_the_live_tickets_asked_for(zd) -> None:  # type: ignore[no-untyped-def]
    """``GET /api/v2/tickets/show_many?ids=`` (Tickets API, Show Multiple Tickets)."""
    ids = [
        zd.post(f"{ZD}/tickets.json", json={"ticket": _task()}).json()["ticket"]["id"]
        for _ in range(2)
    ]
    body = zd.get(
        f"{ZD}/tickets/show_many.json", params={"ids": ",".join(map(str, ids + [999999999]))}
    ).json()
    assert sorted(t["id"] for t in body["tickets"]) == ids


def test_every_response_carries_the_account_rate_headers(zd) -> None:  # type: ignore[no-untyped-def]
    """``X-Rate-Limit``/``X-Rate-Limit-Remaining`` plus ``ratelimit-*`` (Rate limits reference,
    developer.zendesk.com/api-reference/introduction/rate-limits/)."""
    for r in (
        zd.get(f"{ZD}/groups.json"),
        zd.get(f"{ZD}/tickets/999999999.json"),
        zd.post(f"{ZD}/tickets.json", json={"ticket": {}}),
    ):
        assert r.headers["X-Rate-Limit"] == "700"
        assert int(r.headers["X-Rate-Limit-Remaining"]) < 700
        assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= {
            k.lower() for k in r.headers
        }


def test_records_are_shown_by_id_under_their_singular_key(sandbox, zd) -> None:  # type: ignore[no-untyped-def]
    """``{"user": ...}``, ``{"organization": ...}`` (Users API, Organizations API: Show)."""
    demo = sandbox.state.demo.zendesk
    user, org = demo["users"][0], demo["organizations"][0]
    assert zd.get(f"{ZD}/users/{user['id']}.json").json()["user"]["id"] == user["id"]
    assert zd.get(f"{ZD}/organizations/{org['id']}.json").json()["organization"] == org


def test_zenpy_update_sends_the_changed_fields(zenpy, zd) -> None:  # type: ignore[no-untyped-def]
    ticket = zenpy.tickets.create(Ticket(**_task())).ticket
    ticket.priority = "urgent"
    zenpy.tickets.update(ticket)
    assert zd.get(f"{ZD}/tickets/{ticket.id}.json").json()["ticket"]["priority"] == "urgent"
