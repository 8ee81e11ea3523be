"""``cs-connector run --http HOST:PORT``: ``/healthz`` and ``/metrics`` for monitoring.

A stdlib HTTP server in a daemon thread; every request reads the store afresh (run history and
outbox), so the figures are the same whichever process wrote them.

``GET /healthz``: 200 ``{"status": "ok", "last_cycle": ..., "age_seconds": ...}`` when the
last finished run of the ``cycle`` job completed and ended within 3 × the cycle's interval;
otherwise 503 with ``{"status": "failing", "reason": ...}`` — the last cycle failed, none has
completed yet, or the last completed one is overdue.

``GET /metrics``: the Prometheus text exposition format (version 0.0.4).
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine, and_, func, select

from connector.store.schema import outbox, record_errors, run_streams, runs

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9108
HEALTH_JOB = "cycle"
OVERDUE_FACTOR = 3
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SETTLED = ("done", "superseded")
FINISHED = ("completed", "stopped", "failed")

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


# -- /healthz ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Health:
    ok: bool
    body: dict[str, Any]

    @property
    def code(self) -> int:
        return 200 if self.ok else 503


def health(
    engine: Engine, interval: timedelta, *, job: str = HEALTH_JOB, now: datetime | None = None
) -> Health:
    """Whether ``job`` is healthy: its last finished run did not fail, and it completed a run
    that ended within ``OVERDUE_FACTOR`` × ``interval``."""
    at = now or _utc_now()
    limit = interval * OVERDUE_FACTOR
    with engine.connect() as conn:
        last = conn.execute(
            select(runs.c.id, runs.c.status, runs.c.ended_at, runs.c.error)
            .where(and_(runs.c.job == job, runs.c.status.in_(FINISHED)))
            .order_by(runs.c.ended_at.desc(), runs.c.id.desc())
            .limit(1)
        ).first()
        done = conn.execute(
            select(runs.c.id, runs.c.ended_at)
            .where(and_(runs.c.job == job, runs.c.status == "completed"))
            .order_by(runs.c.ended_at.desc(), runs.c.id.desc())
            .limit(1)
        ).first()
    body: dict[str, Any] = {
        "job": job,
        "last_cycle": done.ended_at.isoformat() if done else None,
        "age_seconds": round((at - done.ended_at).total_seconds()) if done else None,
        "max_age_seconds": round(limit.total_seconds()),
    }
    if last is not None and last.status == "failed":
        reason = f"the last {job} run (#{last.id}) failed at {last.ended_at.isoformat()}"
        if last.error:
            reason += f": {last.error[:500]}"
        return Health(False, {"status": "failing", "reason": reason, **body})
    if done is None:
        reason = f"no run of job {job} has completed yet"
        return Health(False, {"status": "failing", "reason": reason, **body})
    if at - done.ended_at > limit:
        reason = (
            f"the last completed {job} run (#{done.id}) ended {body['age_seconds']} s ago, "
            f"more than {OVERDUE_FACTOR} × its {interval.total_seconds():g} s interval"
        )
        return Health(False, {"status": "overdue", "reason": reason, **body})
    return Health(True, {"status": "ok", **body})


# -- /metrics ------------------------------------------------------------------------------
Labels = tuple[tuple[str, str], ...]


@dataclass
class Family:
    """One metric: its name, type, help text and samples (labels → value)."""

    name: str
    kind: str  # counter, gauge
    help: str
    samples: list[tuple[Labels, float]]


def collect(engine: Engine, *, targets: Iterable[str] = ()) -> list[Family]:
    """Every metric, read from the store; ``targets`` are always reported (0 when idle)."""
    with engine.connect() as conn:
        return [
            _last_run_timestamp(conn),
            _run_duration(conn),
            _runs_total(conn),
            _api_calls_total(conn),
            _records_pulled_total(conn),
            _outbox_pending(conn, targets),
            _record_errors_total(conn),
        ]


def _last_finished(conn: Connection) -> list[Any]:
    """Per job, its last finished run (the latest started: a job's runs do not overlap)."""
    latest = (
        select(runs.c.job, func.max(runs.c.id).label("id"))
        .where(runs.c.status.in_(FINISHED))
        .group_by(runs.c.job)
        .subquery()
    )
    query = (
        select(runs.c.job, runs.c.started_at, runs.c.ended_at)
        .join(latest, runs.c.id == latest.c.id)
        .order_by(runs.c.job)
    )
    return list(conn.execute(query))


def _last_run_timestamp(conn: Connection) -> Family:
    return Family(
        "cs_connector_last_run_timestamp_seconds",
        "gauge",
        "When the last finished run of the job ended (Unix time).",
        [((("job", r.job),), r.ended_at.timestamp()) for r in _last_finished(conn)],
    )


def _run_duration(conn: Connection) -> Family:
    return Family(
        "cs_connector_run_duration_seconds",
        "gauge",
        "How long the last finished run of the job took.",
        [
            ((("job", r.job),), (r.ended_at - r.started_at).total_seconds())
            for r in _last_finished(conn)
        ],
    )


def _runs_total(conn: Connection) -> Family:
    query = (
        select(runs.c.job, runs.c.status, func.count())
        .group_by(runs.c.job, runs.c.status)
        .order_by(runs.c.job, runs.c.status)
    )
    return Family(
        "cs_connector_runs_total",
        "counter",
        "Runs recorded, by job and status (running, completed, stopped, failed).",
        [((("job", job), ("status", state)), float(n)) for job, state, n in conn.execute(query)],
    )


def _api_calls_total(conn: Connection) -> Family:
    query = select(runs.c.job, func.sum(runs.c.api_calls)).group_by(runs.c.job).order_by(runs.c.job)
    return Family(
        "cs_connector_api_calls_total",
        "counter",
        "Salesforce and Zendesk API calls made by the job's runs.",
        [((("job", job),), float(n or 0)) for job, n in conn.execute(query)],
    )


def _records_pulled_total(conn: Connection) -> Family:
    query = (
        select(run_streams.c.stream, func.sum(run_streams.c.records))
        .group_by(run_streams.c.stream)
        .order_by(run_streams.c.stream)
    )
    return Family(
        "cs_connector_records_pulled_total",
        "counter",
        "Records read from the sources, by stream.",
        [((("stream", stream),), float(n or 0)) for stream, n in conn.execute(query)],
    )


def _outbox_pending(conn: Connection, targets: Iterable[str]) -> Family:
    query = (
        select(outbox.c.target, func.count())
        .where(outbox.c.status.not_in(SETTLED))
        .group_by(outbox.c.target)
    )
    counts = {target: 0 for target in targets}
    counts.update({target: int(n) for target, n in conn.execute(query)})
    return Family(
        "cs_connector_outbox_pending",
        "gauge",
        "Outbox writes not yet done (pending, sent or failed), by target.",
        [((("target", t),), float(n)) for t, n in sorted(counts.items())],
    )


def _record_errors_total(conn: Connection) -> Family:
    n = conn.execute(select(func.count()).select_from(record_errors)).scalar_one()
    return Family(
        "cs_connector_record_errors_total",
        "counter",
        "Records skipped because they could not be read or written.",
        [((), float(n))],
    )


def exposition(families: Iterable[Family]) -> str:
    """The families in the Prometheus text format: HELP, TYPE, then one line per sample."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for labels, value in family.samples:
            lines.append(f"{family.name}{_labels(labels)} {_value(value)}")
    return "\n".join(lines) + "\n"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value == int(value) and abs(value) < 2**53 else repr(value)


# -- the server ----------------------------------------------------------------------------
class HealthServer:
    """``/healthz`` and ``/metrics`` on ``host:port`` (port 0: any free port; see ``.port``)."""

    def __init__(
        self,
        engine: Engine,
        cycle_interval: timedelta,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        job: str = HEALTH_JOB,
        targets: Iterable[str] = (),
        clock: Clock = _utc_now,
        poll_interval: float = 0.5,
    ) -> None:
        self.engine, self.cycle_interval, self.job = engine, cycle_interval, job
        self.poll_interval = poll_interval  # how soon stop() is noticed
        self.targets, self.clock = tuple(targets), clock
        server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
        self._server = server_class((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(self.poll_interval,),
            name="health-http",
            daemon=True,
        )
        self._thread.start()
        log.info("serving /healthz and /metrics on http://%s:%d", self.host, self.port)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def serve(
    engine: Engine,
    cycle_interval: timedelta,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    **kwargs: Any,
) -> HealthServer:
    """Start the server in a daemon thread; ``.stop()`` it when done."""
    return HealthServer(engine, cycle_interval, host=host, port=port, **kwargs).start()


def parse_address(text: str) -> tuple[str, int]:
    """``"127.0.0.1:9108"``, ``":9108"`` or ``"[::1]:9108"`` as (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return (host.strip("[]") or DEFAULT_HOST), int(port)


def _handler_for(server: HealthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "cs-connector"

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            path = self.path.split("?", 1)[0]
            try:
                if path == "/healthz":
                    state = health(
                        server.engine, server.cycle_interval, job=server.job, now=server.clock()
                    )
                    body = json.dumps(state.body).encode()
                    self._send(state.code, "application/json", body)
                elif path == "/metrics":
                    text = exposition(collect(server.engine, targets=server.targets))
                    self._send(200, METRICS_CONTENT_TYPE, text.encode())
                else:
                    self._send(
                        404, "text/plain; charset=utf-8", b"not found: try /healthz or /metrics\n"
                    )
            except Exception as exc:
                log.exception("%s failed", path)
                reason = f"cannot read the store: {type(exc).__name__}"
                body = json.dumps({"status": "failing", "reason": reason}).encode()
                self._send(503, "application/json", body)

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("%s - %s", self.address_string(), format % args)

    return Handler
