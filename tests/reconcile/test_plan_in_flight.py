"""Writes still in a Bulk or Zendesk job are not planned again, nor are their children."""

from __future__ import annotations

from connector.reconcile.plan import ZENDESK

from .conftest import ACCOUNT, cta, policy, run, skips_of, task, ticket, writes_of

KEY = f"support_risk:{ACCOUNT}"


def test_a_cta_whose_create_is_in_a_running_job_is_not_created_again_nor_its_tasks():
    p = run(
        [cta(KEY), task(KEY, "stay-informed")],
        pol=policy(in_flight=frozenset({("cta", KEY)})),
    )

    assert writes_of(p) == []
    assert {s.target for s in skips_of(p)} == {"cta", "task"}


def test_a_ticket_in_a_running_zendesk_job_is_not_created_a_second_time():
    p = run([cta(KEY), ticket(KEY)], pol=policy(in_flight=frozenset({(ZENDESK, KEY)})))

    assert [w.target for w in writes_of(p)] == ["cta"]
    assert [s.target for s in skips_of(p)] == [ZENDESK]
