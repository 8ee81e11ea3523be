"""`python -m connector.bench.push`: its floor. The run itself is smoke-tested at S through
`cs-connector bench` (tests/e2e/test_bench_all.py): both write paths settle, then idle at 0."""

from __future__ import annotations

from connector.bench.push import floor_calls


def test_the_floor_is_200_records_a_salesforce_call_and_100_a_zendesk_job_plus_polls():
    assert floor_calls({"cta": 201, "task": 200, "zendesk_task": 101}) == {
        "salesforce": 3,
        "zendesk": 3,
    }
