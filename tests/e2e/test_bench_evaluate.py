"""The evaluate benchmark at scale S: it runs end to end and writes its JSON (no timing checks)."""

from __future__ import annotations

import json

import pytest

from connector.bench.evaluate import main


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    store = out / "store.db"
    result = main(["--scale", "S", "--out", str(out), "--store", str(store)])
    return out, store, result


def test_the_benchmark_writes_its_json_with_both_runs_measured(bench):
    out, _, result = bench
    written = json.loads((out / "bench-evaluate-S.json").read_text())
    assert written["scale"] == "S"
    for run in ("first", "again"):
        measured = written["phases"][run]
        assert measured["total_outputs"] > 0
        assert measured["rss_mb"]["peak_vmhwm"] > 0
        assert measured["evaluate_s"] > 0
    assert written["rows"]["account"] > 0 and written["rows"]["zendesk_ticket"] > 0


def test_every_rule_is_timed_and_its_outputs_match_evaluates_report(bench):
    _, _, result = bench
    first = result["phases"]["first"]
    assert first["attribution_ok"]
    assert {r["rule"] for r in first["rules"]} == set(first["outputs"])
    assert sum(r["outputs"] for r in first["rules"]) == first["total_outputs"]


def test_the_slowest_rules_come_with_their_sqlite_query_plans(bench):
    _, _, result = bench
    plans = result["phases"]["first"]["plans"]
    assert plans and all(p["plan"] and p["sql"] for p in plans.values())


def test_a_second_run_reuses_the_pulled_store_and_its_anchor(bench):
    out, store, result = bench
    again = main(["--scale", "S", "--out", str(out), "--store", str(store)])
    assert again["store"]["reused"] and not result["store"]["reused"]
    assert again["anchor"] == result["anchor"]
    assert again["phases"]["first"]["total_outputs"] == result["phases"]["first"]["total_outputs"]
