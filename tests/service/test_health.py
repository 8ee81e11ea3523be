"""``/healthz`` and ``/metrics``, scraped over real HTTP from a server on an ephemeral port."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import insert

from connector.health import Family, HealthServer, exposition, parse_address
from connector.model import RecordIssue
from connector.store import UnitOfWork, runs
from connector.store.schema import outbox

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
CYCLE = timedelta(minutes=15)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(hours=1))


@pytest.fixture
def server(engine, clock) -> Iterator[HealthServer]:
    with HealthServer(
        engine, CYCLE, port=0, clock=clock, targets=["cta", "task"], poll_interval=0.02
    ) as running:
        yield running


def url(server: HealthServer, path: str) -> str:
    return f"http://{server.host}:{server.port}{path}"


def record_run(
    engine,
    job,
    started,
    minutes,
    state="completed",
    *,
    api_calls=0,
    error=None,
    streams=(),
    issues=0,
):
    with UnitOfWork(engine) as uow:
        run_id = runs.start(uow.conn, job, started_at=started)
        for name, records in streams:
            runs.add_stream(uow.conn, run_id, name, records=records)
        if issues:
            bad = [RecordIssue(record_id=f"003{i}", reason="bad") for i in range(issues)]
            runs.add_record_errors(uow.conn, run_id, "contact", bad, at=started)
        if state != "running":
            runs.finish(
                uow.conn,
                run_id,
                state,
                api_calls=api_calls,
                error=error,
                ended_at=started + timedelta(minutes=minutes),
            )
        uow.commit()


def add_outbox(engine, target, state, n=1):
    with UnitOfWork(engine) as uow:
        for i in range(n):
            uow.conn.execute(
                insert(outbox).values(
                    target=target,
                    external_id=f"{target}-{state}-{i}",
                    op="upsert",
                    write={},
                    status=state,
                    created_at=T0,
                )
            )
        uow.commit()


# -- /healthz ------------------------------------------------------------------------------
def test_healthz_is_200_when_the_last_cycle_completed_recently(engine, server, clock):
    record_run(engine, "cycle", clock.now - timedelta(minutes=22), 2)  # ended 20 min ago

    answer = requests.get(url(server, "/healthz"), timeout=5)

    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["age_seconds"]) == ("ok", 1200)
    assert body["last_cycle"] == (clock.now - timedelta(minutes=20)).isoformat()


def test_healthz_is_503_when_the_last_completed_cycle_is_overdue(engine, server, clock):
    record_run(engine, "cycle", clock.now - timedelta(minutes=50), 3)  # ended 47 min ago > 45

    answer = requests.get(url(server, "/healthz"), timeout=5)

    assert answer.status_code == 503
    assert answer.json()["status"] == "overdue"
    assert "2820 s ago" in answer.json()["reason"]


def test_healthz_is_503_when_the_last_cycle_failed(engine, server, clock):
    record_run(engine, "cycle", clock.now - timedelta(minutes=20), 1)
    record_run(engine, "cycle", clock.now - timedelta(minutes=5), 1, "failed", error="auth refused")

    answer = requests.get(url(server, "/healthz"), timeout=5)

    assert answer.status_code == 503
    assert "failed" in answer.json()["reason"] and "auth refused" in answer.json()["reason"]


def test_healthz_is_503_before_any_cycle_completed(engine, server):
    record_run(engine, "sweep", T0, 1)

    answer = requests.get(url(server, "/healthz"), timeout=5)

    assert answer.status_code == 503
    assert answer.json()["reason"] == "no run of job cycle has completed yet"


def test_healthz_ignores_a_stopped_cycle_after_a_recent_completed_one(engine, server, clock):
    record_run(engine, "cycle", clock.now - timedelta(minutes=20), 1)
    record_run(engine, "cycle", clock.now - timedelta(minutes=5), 1, "stopped")

    assert requests.get(url(server, "/healthz"), timeout=5).status_code == 200


def test_an_unknown_path_is_404(server):
    assert requests.get(url(server, "/nope"), timeout=5).status_code == 404


# -- /metrics ------------------------------------------------------------------------------
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")


def scrape(server) -> tuple[requests.Response, dict[str, float], list[str]]:
    answer = requests.get(url(server, "/metrics"), timeout=5)
    samples, comments = {}, []
    for line in answer.text.splitlines():
        if line.startswith("#"):
            comments.append(line)
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        samples[match[1] + (match[2] or "")] = float(match[3])
    return answer, samples, comments


def test_metrics_are_served_in_the_prometheus_text_format(server):
    answer, _, comments = scrape(server)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert answer.text.endswith("\n")
    for name, kind in [
        ("cs_connector_last_run_timestamp_seconds", "gauge"),
        ("cs_connector_run_duration_seconds", "gauge"),
        ("cs_connector_runs_total", "counter"),
        ("cs_connector_api_calls_total", "counter"),
        ("cs_connector_outbox_pending", "gauge"),
        ("cs_connector_record_errors_total", "counter"),
    ]:
        assert f"# TYPE {name} {kind}" in comments
        assert any(c.startswith(f"# HELP {name} ") for c in comments)


def test_metrics_report_the_last_run_and_its_duration_per_job(engine, server):
    record_run(engine, "cycle", T0, 1)
    record_run(engine, "cycle", T0 + timedelta(minutes=15), 2.5)

    _, samples, _ = scrape(server)

    ended = (T0 + timedelta(minutes=17.5)).timestamp()
    assert samples['cs_connector_last_run_timestamp_seconds{job="cycle"}'] == ended
    assert samples['cs_connector_run_duration_seconds{job="cycle"}'] == 150


def test_metrics_count_runs_by_job_and_status_and_api_calls_by_job(engine, server):
    record_run(engine, "cycle", T0, 1, api_calls=10)
    record_run(engine, "cycle", T0, 1, "failed", api_calls=3)
    record_run(engine, "sweep", T0, 1, api_calls=5)

    _, samples, _ = scrape(server)

    assert samples['cs_connector_runs_total{job="cycle",status="completed"}'] == 1
    assert samples['cs_connector_runs_total{job="cycle",status="failed"}'] == 1
    assert samples['cs_connector_api_calls_total{job="cycle"}'] == 13
    assert samples['cs_connector_api_calls_total{job="sweep"}'] == 5


def test_metrics_report_the_outbox_backlog_per_target_with_zero_for_idle_ones(engine, server):
    add_outbox(engine, "cta", "pending", 2)
    add_outbox(engine, "cta", "failed", 1)
    add_outbox(engine, "cta", "done", 4)
    add_outbox(engine, "zendesk_task", "sent", 1)

    _, samples, _ = scrape(server)

    assert samples['cs_connector_outbox_pending{target="cta"}'] == 3
    assert samples['cs_connector_outbox_pending{target="task"}'] == 0
    assert samples['cs_connector_outbox_pending{target="zendesk_task"}'] == 1


def test_metrics_count_record_errors_and_records_pulled(engine, server):
    record_run(engine, "cycle:pull", T0, 1, streams=[("account", 7), ("contact", 3)], issues=2)
    record_run(engine, "cycle:pull", T0, 1, streams=[("account", 1)], issues=1)

    _, samples, _ = scrape(server)

    assert samples["cs_connector_record_errors_total"] == 3
    assert samples['cs_connector_records_pulled_total{stream="account"}'] == 8


def test_label_values_and_help_are_escaped():
    family = Family("m", "gauge", "a \\ b\nc", [((("job", 'x"y\\z\n'),), 1.5)])

    assert exposition([family]) == (
        '# HELP m a \\\\ b\\nc\n# TYPE m gauge\nm{job="x\\"y\\\\z\\n"} 1.5\n'
    )


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:9108", ("127.0.0.1", 9108)),
        (":9200", ("127.0.0.1", 9200)),
        ("[::1]:9108", ("::1", 9108)),
    ],
)
def test_parse_address_reads_host_and_port(text, address):
    assert parse_address(text) == address


def test_parse_address_refuses_a_missing_port():
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_address("localhost")


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_the_server_binds_an_ipv6_loopback_address(engine):
    with HealthServer(engine, CYCLE, host="::1", port=0, poll_interval=0.02) as running:
        answer = requests.get(f"http://[::1]:{running.port}/metrics", timeout=5)
    assert answer.status_code == 200
