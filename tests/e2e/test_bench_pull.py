"""`python -m connector.bench.pull`: the pull benchmark runs end to end and writes its JSON.

A smoke test at scale S (seconds); no timing is asserted, since timings depend on the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys

from connector.bench.pull_calls import attribute, floor


def test_the_benchmark_at_scale_s_writes_its_json_and_prints_the_table(tmp_path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "connector.bench.pull", "--scale", "S", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr

    result = json.loads((tmp_path / "bench-pull-S.json").read_text())
    assert result["scale"] == "S"
    assert {"nproc", "cpu", "ram_gb", "python", "date"} <= result["machine"].keys()
    for phase in ("bare", "connector", "idle"):
        assert {"wall_s", "peak_rss_mb", "cpu_s"} <= result["phases"][phase].keys()
    assert {
        "wall_ratio",
        "calls_ratio",
        "floor_calls",
        "stream_calls",
        "count_calls",
        "fixed_calls",
        "records_per_s",
        "idle",
        "goals",
    } <= result["summary"].keys()
    assert {"records", "stream_calls", "write_calls"} <= result["summary"]["idle"].keys()
    bare = {s["stream"] for s in result["phases"]["bare"]["reported"]["streams"]}
    streams = {s["stream"] for s in result["streams"]}
    assert streams == bare == {s["stream"] for s in result["idle_streams"]}
    assert {"zendesk_ticket", "account"} <= streams
    for row in result["streams"]:
        assert {"path", "records", "calls", "count_calls", "floor", "calls_ratio"} <= row.keys()
        assert row["floor"] >= 1
    assert "| stream | path | records |" in out.stdout


def _call(seq, path, query="", api="salesforce", method="GET", records=0):
    return {
        "seq": seq,
        "at": 0.0,
        "api": api,
        "method": method,
        "host": "demo.my.salesforce.com",
        "path": path,
        "query": query,
        "status": 200,
        "records_read": records,
        "records_written": 0,
        "duration_ms": 1.0,
    }


def test_calls_are_charged_to_the_stream_whose_query_came_last() -> None:
    data = "/services/data/v62.0"
    log = [
        _call(1, "/services/oauth2/token", method="POST"),
        _call(2, f"{data}/sobjects/Task/describe"),
        _call(3, f"{data}/queryAll/", "q=SELECT+COUNT%28%29+FROM+Task"),
        _call(4, f"{data}/jobs/query", method="POST"),
        _call(5, f"{data}/jobs/query/750x"),
        _call(6, f"{data}/sobjects/Task/describe"),
        _call(7, f"{data}/jobs/query/750x/results", records=10),
        _call(8, f"{data}/queryAll/", "q=SELECT+Id+FROM+Account+ORDER+BY+Id", records=2000),
        _call(9, f"{data}/query/01gx-2000", records=5),
        _call(10, "/api/v2/incremental/tickets/cursor.json", api="zendesk", records=7),
    ]

    spent = attribute(log, {"Task": "task", "Account": "account"}, {"tickets": "ticket"})

    assert dict(spent.fixed) == {"login": 1, "describe": 1}
    task = spent.streams["task"]
    assert task.path == "bulk"
    assert dict(task.kinds) == {
        "count": 1,
        "bulk_create": 1,
        "bulk_status": 1,
        "describe": 1,
        "bulk_results": 1,
    }
    assert spent.streams["account"].kinds == {"query": 1, "query_more": 1}
    assert spent.streams["account"].records_read == 2005
    assert spent.streams["ticket"].path == "export"
    assert spent.writes == 0


def test_the_floor_is_one_call_a_full_page_and_one_for_an_empty_stream() -> None:
    assert floor("rest", 0) == 1
    assert floor("rest", 4001) == 3
    assert floor("export", 247_224) == 248
    assert floor("list", 2) == 1
    assert floor("bulk", 98_388) == 2 + 2  # create, one status poll, two result pages


def test_the_bare_pager_reads_a_bulk_stream_through_the_same_job_endpoints(
    sandbox, session_factory
) -> None:
    """A stream the connector's first load reads by Bulk is read by Bulk in the floor too."""
    from connector.bench.pager import salesforce
    from connector.bench.pull_plan import password_grant

    task = {"stream": "task", "object": "Task", "include_deleted": True}
    plan = {
        "login_host": "login.salesforce.com",
        "api_version": "62.0",
        "page_size": 2000,
        "login": password_grant(sandbox.config.credentials),
        "streams": [
            {**task, "soql": "SELECT Id, SystemModstamp FROM Task ORDER BY SystemModstamp, Id"},
            {**task, "soql": "unused", "bulk_soql": "SELECT Id, SystemModstamp FROM Task"},
        ],
    }

    by_rest, by_bulk = salesforce(session_factory(), plan)

    assert by_bulk.records == by_rest.records > 0
    paths = [(c.method, c.path.rsplit("/v62.0/", 1)[-1]) for c in sandbox.calls.calls()]
    job = [p for p in paths if p[1].startswith("jobs/query")]
    assert job[0][0] == "POST" and job[-1][1].endswith("/results")
    assert by_bulk.calls == len(job) >= 3  # create, a status poll, a result page
