"""Stories about people: NPS (detractor, persona gap, survey due), sponsors and personas.

sponsor_turnover needs a previous cycle, so its stories play in act 1: ``DemoData.acts`` lists
the edits (a sponsor leaves the company, another is deleted) to apply after the first cycle.
"""

from __future__ import annotations

from connector.sandbox.seed.accounts import (
    Acct,
    account,
    account_role,
    contact,
    opportunity,
    survey,
)
from connector.sandbox.seed.core import Org, Record
from connector.sandbox.seed.kit import answer_all, csm_owner, half, key, story
from connector.sandbox.seed.quiet import Quiet, add_person, quiet

NOBODY = Quiet(people=False, surveys=False)


def add_nps_stories(org: Org) -> None:
    """nps_detractor (score and window) and nps_persona_gap (the +30 and 0 boundaries)."""
    a = account(org, "Adventure Works")
    people = quiet(org, a)
    named = survey(org, a, people[3], 6, 10)
    anon = survey(org, a, None, 2, 5, kind="Transactional")
    story(
        org,
        a,
        "nps_detractor",
        True,
        "score 6 (<= 6) from an end user 10 days ago, and an "
        "anonymous score 2 five days ago (a CTA without addressee): one CTA per answer",
        [key("nps_detractor", named["Id"]), key("nps_detractor", anon["Id"])],
        owner=csm_owner(a),
    )
    a = account(org, "Margie's Travel")
    people = quiet(org, a)
    survey(org, a, people[3], 7, 3, kind="Transactional")
    survey(org, a, people[3], 5, 31)
    story(
        org,
        a,
        "nps_detractor",
        False,
        "the recent answer scores 7 (not <= 6); the 5 is dated 31 days ago (outside the 30 days)",
    )
    gap = [9, 10, 9, 10, 6, 7, 8, 7, 8, 7]
    a = _gap_account(org, "Lakeshore Retail", [("Marta", "Quinn", "CEO", 7)], gap)
    story(
        org,
        a,
        "nps_persona_gap",
        True,
        "End User NPS = (4 promoters - 1 detractor) / 10 = "
        "+30 >= +30; executive NPS = 0 <= 0 (the CEO's latest answer is a 7; an older 10 "
        "does not count)",
        [key("nps_persona_gap", a.id)],
        case="both sides",
        owner=csm_owner(a),
    )
    a = _gap_account(org, "Kestrel Mining", [("Paul", "Quist", "CEO", 7)], [9, 10, 9, 6, 7, 8, 7])
    story(
        org,
        a,
        "nps_persona_gap",
        False,
        "End User NPS = (3 - 1) / 7 = 28.6, rounded +29 < +30 (executive NPS 0)",
        case="End User side",
    )
    execs = [("Rita", "Voss", "CEO", 9), ("Emil", "Sato", "CFO", 7), ("Joan", "Pike", "COO", 7)]
    a = _gap_account(org, "Brightline Tours", execs, gap)
    story(
        org,
        a,
        "nps_persona_gap",
        False,
        "End User NPS +30, but executive NPS = (1 promoter - 0) / 3 = +33 > 0",
        case="executive side",
    )


def _gap_account(
    org: Org, name: str, execs: list[tuple[str, str, str, int]], scores: list[int]
) -> Acct:
    """End users scoring ``scores``; executives whose latest answer (20 days ago) is given."""
    a = account(org, name)
    quiet(org, a, NOBODY)
    for first, last, title, latest in execs:
        boss = contact(org, a, first, last, title)
        survey(org, a, boss, 10, 150)
        survey(org, a, boss, latest, 20)
    titles = ("Data Analyst", "Store Coordinator", "Buyer", "Logistics Specialist")
    for i, score in enumerate(scores):
        c = add_person(org, a, titles[i % len(titles)])
        survey(org, a, c, score, 60 if score <= 6 else 15 + 9 * i)
    return a


def add_sponsor_stories(org: Org) -> None:
    """exec_sponsor_missing (HT) and sponsor_turnover (act 1)."""
    a = account(org, "Harbor Freight Lines", segment="Enterprise", owner="ae3")
    quiet(org, a, Quiet(ht=True, people=False, surveys=False))
    vp = contact(org, a, "Victor", "Hale", "Vice President, Operations")
    gone = contact(org, a, "Celia", "Stone", "CEO", left=True)
    rest = [
        contact(org, a, "Ari", "Lund", "Platform Administrator"),
        contact(org, a, "Bea", "Moss", "Dispatch Analyst"),
    ]
    opportunity(
        org,
        a,
        "Initial subscription",
        type_="New Business",
        stage="Closed Won",
        close_in=-400,
        roles=((vp, "Economic Decision Maker"),),
    )
    answer_all(org, a, [vp, *rest])
    story(
        org,
        a,
        "exec_sponsor_missing",
        True,
        f"Enterprise; the CEO {gone['Name']} left the "
        "company; the VP's role 'Economic Decision Maker' is not 'Decision Maker' (whole "
        "values) and 'Vice President' is not 'President'",
        [key("exec_sponsor_missing", a.id)],
        owner=csm_owner(a),
    )
    a = account(org, "Oakridge Schools", segment="Strategic", type_="Customer - Channel")
    quiet(org, a, Quiet(ht=True, people=False, surveys=False))
    head = contact(org, a, "Hugo", "Park", "Head of IT")
    account_role(org, a, head, "Decision Maker")
    rest = [
        contact(org, a, "Iris", "Cole", "Systems Administrator"),
        contact(org, a, "Jude", "Ames", "Teacher"),
    ]
    answer_all(org, a, [head, *rest])
    story(
        org,
        a,
        "exec_sponsor_missing",
        False,
        "Strategic; Head of IT has the account role 'Decision Maker', so is an Executive Sponsor",
    )
    _turnover(org)


def _turnover(org: Org) -> None:
    a = account(org, "Meridian Travel")
    quiet(org, a, NOBODY)
    kim = contact(org, a, "Kim", "Yoshida", "Director of Finance")
    lars = contact(org, a, "Lars", "Berg", "Chief Financial Officer")
    paula = contact(org, a, "Paula", "Reyes", "Operations Analyst", persona="Executive Sponsor")
    ola = contact(org, a, "Ola", "Nord", "Support Analyst")
    opportunity(
        org,
        a,
        "Initial subscription",
        type_="New Business",
        stage="Closed Won",
        close_in=-400,
        roles=((kim, "Executive Sponsor"),),
    )
    answer_all(org, a, [kim, lars, paula, ola])
    _act(org, kim, "update", "Kim Yoshida (Executive Sponsor by role) leaves the company")
    _act(org, lars, "delete", "Lars Berg (Big Boss: CFO) is deleted")
    _act(org, paula, "update", "Paula Reyes (Executive Sponsor set by a person) leaves")
    story(
        org,
        a,
        "sponsor_turnover",
        False,
        "first cycle: no previous cycle to compare with",
        case="first cycle",
    )
    story(
        org,
        a,
        "sponsor_turnover",
        True,
        "act 1: Kim Yoshida (sponsor by role) and Paula "
        "Reyes (persona set by a person) leave the company, Lars Berg (CFO) is deleted: one "
        "CTA each",
        [key("sponsor_turnover", c["Id"]) for c in (kim, lars, paula)],
        case="act 1",
        owner=csm_owner(a),
        act=1,
    )
    a = account(org, "Northstar Credit")
    quiet(org, a, NOBODY)
    ravi = contact(org, a, "Ravi", "Shah", "Credit Analyst")
    sue = contact(org, a, "Sue", "Long", "CRM Administrator")
    boss = contact(org, a, "Tom", "Frey", "Chief Operating Officer")
    answer_all(org, a, [ravi, sue, boss])
    _act(org, ravi, "update", "Ravi Shah (End User) leaves the company")
    _act(org, sue, "delete", "Sue Long (Admin) is deleted")
    story(
        org,
        a,
        "sponsor_turnover",
        False,
        "act 1: an End User leaves and an Admin is deleted; the COO (Big Boss) stays",
        case="act 1",
        act=1,
    )


def _act(org: Org, c: Record, op: str, why: str) -> None:
    org.acts.append(
        {
            "act": 1,
            "op": op,
            "sobject": "Contact",
            "id": c["Id"],
            "fields": {"Left_Company__c": True} if op == "update" else {},
            "why": why,
        }
    )


def add_persona_stories(org: Org) -> None:
    """persona_assignment over every branch of the default persona rules; nps_survey_due."""
    a = account(org, "Pinecrest Dental")
    quiet(org, a, NOBODY)
    cast = [
        ("Erin", "Walsh", "Director of Procurement"),
        ("Omar", "Haddad", "Chief Revenue Officer"),
        ("Grace", "Liu", "Co-Founder & CTO"),
        ("Victor", "Stone", "Vice President of Sales"),
        ("Nina", "Park", "President"),
        ("Sara", "Kim", "Systems Administrator"),
        ("Leo", "Marsh", "Marketing Ops"),
        ("Ivy", "Chen", "Sales Analyst"),
        ("Ben", "Ortiz", "Admin Assistant"),
        ("Zoe", "Adams", "CEO"),
        ("Tom", "Reed", "IT Administrator"),
        ("Uma", "Das", "Analyst"),
    ]
    people = {
        first: contact(org, a, first, last, title, persona="Admin" if first == "Uma" else None)
        for first, last, title in cast
    }
    opportunity(
        org,
        a,
        "Initial subscription",
        type_="New Business",
        stage="Closed Won",
        close_in=-400,
        roles=(
            (people["Erin"], "Economic Buyer"),
            (people["Ivy"], "Economic Decision Maker"),
            (people["Zoe"], "Champion"),
        ),
    )
    account_role(org, a, people["Leo"], "Champion")
    account_role(org, a, people["Tom"], "decision maker")
    answer_all(org, a, people.values())
    story(
        org,
        a,
        "persona_assignment",
        True,
        "one per contact: Erin (role Economic Buyer), Tom "
        "(role 'decision maker', any case) -> Executive Sponsor; Omar (Chief Revenue "
        "Officer), Grace (Co-Founder & CTO), Nina (President), Zoe (CEO, despite role "
        "Champion) -> Big Boss; Sara, Ben (Admin Assistant) -> Admin; Leo (role Champion) -> "
        "Adoption Champion; Victor (Vice President), Ivy (role Economic Decision Maker) -> "
        "End User; Uma -> End User computed, but a person set Admin: nothing is written",
        [key("persona_assignment", c["Id"]) for c in people.values()],
    )
    a = account(org, "Summit Outdoor", type_="Prospect")
    quiet(org, a)
    story(
        org,
        a,
        "persona_assignment",
        False,
        "a Prospect: not a customer, so none of its contacts, tickets or answers reach the rules",
    )
    _survey_due(org)


def _survey_due(org: Org) -> None:
    a = account(org, "Copperfield Media", type_="Customer - Channel")
    quiet(org, a, Quiet(surveys=False))
    people = a.contacts
    for c, days in zip(people, (20, 45, 70, 181), strict=True):
        survey(org, a, c, 9, days)
    survey(org, a, people[3], 9, 10, kind="Transactional")
    story(
        org,
        a,
        "nps_survey_due",
        True,
        f"{people[3]['Name']}'s last relationship answer is "
        "181 days old (a transactional answer 10 days ago does not count)",
        [key("nps_survey_due", a.id, half(org))],
        owner=csm_owner(a),
    )
    b = account(org, "Ironwood Capital")
    quiet(org, b, Quiet(surveys=False))
    sponsor, admin, champion, user = b.contacts
    survey(org, b, sponsor, 10, 180)
    survey(org, a, admin, None, 30)  # recorded on Copperfield Media's account, unscored
    survey(org, b, champion, 9, 50)
    survey(org, b, user, 10, 60)
    contact(org, b, "Lena", "Gray", "Treasury Analyst", left=True)
    story(
        org,
        b,
        "nps_survey_due",
        False,
        "the sponsor answered exactly 180 days ago; the "
        "admin's (unscored) answer is recorded on another account, which counts; the "
        "contact with no answer left the company",
    )
