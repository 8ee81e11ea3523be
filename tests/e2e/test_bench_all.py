"""`python -m connector.bench.all`: every benchmark in one run, the goals, the chart.

The smoke test runs the whole command at scale S with ``--quick`` (the Zendesk-limit stage over
15 export pages, not waiting for a clock minute: about one minute of pacing instead of two to
three); about three minutes in all. No timing is asserted: timings depend on the machine.
"""

from __future__ import annotations

import builtins
import json
import subprocess
import sys

import pytest

from connector.bench import all_report, chart
from connector.bench.zendesk_limit import clock_bound_s, export_pages, lower_bound_s, page_size


def test_one_command_at_scale_s_writes_every_section_the_goals_and_the_chart(tmp_path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "connector.bench.all", "--scale", "S", "--out", str(tmp_path)]
        + ["--quick"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-4000:]

    result = json.loads((tmp_path / "bench-S.json").read_text())
    assert result["scale"] == "S"
    assert {"nproc", "cpu", "date"} <= result["machine"].keys()
    assert result["pull"]["summary"]["records"] > 0
    assert result["evaluate"]["phases"]["first"]["total_outputs"] > 0
    assert set(result["push"]["modes"]) == {"collections", "bulk"}
    for mode in result["push"]["modes"].values():  # both write paths settle, then idle at 0
        assert mode["records"] > 500 and mode["idle_write_calls"] == 0
    zd = result["zendesk_limit"]
    assert zd["limit_per_min"] == 10 and zd["pull"]["status"] == "completed"
    assert zd["calls"]["pages"] > 10, "the page size is lowered until the limit binds"
    assert zd["bound"]["documented_s"] == lower_bound_s(zd["calls"]["pages"])
    for stage in ("pull", "evaluate", "push", "zendesk-limit"):
        assert (tmp_path / f"bench-{stage}-S.json").exists()

    goals = {g["goal"]: g["status"] for g in result["goals"]}
    assert set(goals.values()) <= {"met", "missed", "n/a", "reported"}
    assert goals["evaluate at L < 5 s"] == "n/a"  # judged at L only
    assert "push calls ≤ 1.02 × floor" in goals
    assert "| goal | figure | status |" in out.stdout

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert result["chart"] is None and "matplotlib" in result["chart_note"]
    else:
        png = tmp_path / "bench-time-vs-scale.png"
        assert result["chart"] == str(png)
        assert png.read_bytes().startswith(b"\x89PNG")


def test_the_lower_bound_lets_the_first_ten_go_and_adds_a_minute_per_further_ten() -> None:
    assert lower_bound_s(3) == 0
    assert lower_bound_s(10) == 0
    assert lower_bound_s(11) == 60
    assert lower_bound_s(20) == 60
    assert lower_bound_s(278) == 27 * 60  # scale M's export pages
    # clock-minute windows: a run starting 20 s into a minute reaches its 2nd window 40 s later
    assert clock_bound_s(16, 20.0) == 40.0
    assert clock_bound_s(9, 20.0) == 0.0


def test_the_page_size_is_lowered_only_when_the_natural_one_does_not_bind() -> None:
    small = {"tickets": 330, "users": 343, "organizations": 78}
    assert export_pages(small, 1000) == 3
    size = page_size(small, 25, 10)
    assert export_pages(small, size) <= 25 < export_pages(small, size - 1)
    big = {"tickets": 247_224, "users": 23_984, "organizations": 5_001}
    assert page_size(big, 25, 10) == 1000


def _write(path, data) -> None:
    path.write_text(json.dumps(data))


def _fake_runs(out, scale, records, seconds) -> None:
    _write(
        out / f"bench-pull-{scale}.json",
        {
            "summary": {"records": records},
            "phases": {"connector": {"wall_s": seconds * 3}, "bare": {"wall_s": seconds}},
        },
    )
    _write(out / f"bench-evaluate-{scale}.json", {"phases": {"first": {"evaluate_s": seconds}}})
    _write(
        out / f"bench-push-{scale}.json",
        {"modes": {"bulk": {"push_s": seconds / 2}, "collections": {"push_s": seconds}}},
    )


def test_the_chart_takes_every_scale_found_in_the_folder(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    _fake_runs(tmp_path, "S", 2_451, 1.0)
    _fake_runs(tmp_path, "M", 611_538, 25.0)
    found = chart.points(tmp_path)
    assert found["pull: bare pager"] == [("S", 2_451, 1.0), ("M", 611_538, 25.0)]
    path, note = chart.write_chart(tmp_path)
    assert path == tmp_path / chart.CHART and path.exists()
    assert "scales S, M" in note


def test_without_matplotlib_the_chart_is_skipped_with_a_message(tmp_path, monkeypatch) -> None:
    _fake_runs(tmp_path, "S", 2_451, 1.0)
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    path, note = chart.write_chart(tmp_path)
    assert path is None and "matplotlib is not installed" in note
    assert not (tmp_path / chart.CHART).exists()


def test_goals_stated_at_l_are_judged_only_at_l() -> None:
    evaluate = {"phases": {"first": {"evaluate_s": 3.0, "total_outputs": 10, "rss_mb": {}}}}
    at = {s: all_report.evaluate_goals(evaluate, s)[0]["status"] for s in ("S", "L")}
    assert at == {"S": "n/a", "L": "met"}
    assert all_report.rss_goal({"evaluate": 665.0}, "L")["status"] == "missed"
    assert all_report.rss_goal({"evaluate": 665.0}, "M")["status"] == "n/a"
    push = {
        "modes": {
            "bulk": {
                "calls": {"salesforce": 12, "zendesk": 2},
                "floor": {"salesforce": 11, "zendesk": 2},
            },
        }
    }
    goal = all_report.push_goals(push)[0]
    assert goal["status"] == "missed" and "14 / 13 = 1.077" in goal["figure"]
