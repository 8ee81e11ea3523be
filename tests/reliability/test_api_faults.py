"""API faults, one class per test: the cycle completes, or stops cleanly and the next completes.

Each test starts from the seeded demo org and an empty SQLite store, injects one fault class
in the sandbox, runs a cycle, lifts the fault, runs fault-free cycles (at most three) until the
CRM holds what a run that met no fault left (computed once per module): no duplicate External
Id, no missing output, nothing extra. Retries must be bounded and visible: per record in the
cycle summary (``runs.summary["retried"]``), per call in the clients' counters
(``deps.salesforce.retries``; ``deps.zendesk.stats.retries``, which restarts every cycle).
Faults the sandbox has no switch for (a 503 on one Zendesk endpoint, a user deactivated
mid-push) are made by wrapping the emulator's ``handle``.

The rule set is the 15-minute cycle's (every rule but ``risk_weekly_update`` and
``nps_survey_due``), so that one fault-free cycle reaches the fixed point the comparison needs.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    CLI,
    Holdings,
    compare,
    holdings,
    live,
    mappings_copy,
    record_result,
    write_config,
)
from sqlalchemy import select
from werkzeug.wrappers import Response

from connector.bootstrap import Deps, bootstrap
from connector.config import PushSettings
from connector.demo import sandbox_settings
from connector.sources.salesforce.failures import RetryPolicy
from connector.store.schema import ledger, outbox, record_errors, runs, sync_state
from connector.sync import CycleReport, run_cycle

WEEKLY = ("risk_weekly_update", "nps_survey_due")
ATTEMPTS = RetryPolicy().attempts  # the Salesforce client's bound per call


@dataclass
class World:
    mappings: Path
    anchor: str
    outputs: Holdings
    calls_before_push: int  # Salesforce API calls of a clean cycle before its first write
    bootstrap_calls: int  # Salesforce API calls of a start-up (login, describes)


@pytest.fixture(scope="module")
def world(sandbox_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """What one fault-free cycle leaves in the CRM (and a second one leaves unchanged)."""
    sandbox = sandbox_server
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sandbox.config, "zendesk_incremental_per_min", 0)
        sandbox.reset()
        tmp = tmp_path_factory.mktemp("faults-reference")
        mappings = mappings_copy(tmp, disabled=WEEKLY)
        anchor = sandbox.state.demo.anchor.isoformat()
        deps = bootstrap(sandbox_settings(sandbox, f"sqlite:///{tmp / 'store.db'}", mappings))
        started = sandbox.emulators["salesforce"].api_usage
        try:
            sandbox.calls.clear()
            first = run_cycle(deps, as_of=anchor)
            assert first.status == "completed", first.error
            calls = sandbox.calls.calls("salesforce")
            first_write = next(i for i, c in enumerate(calls) if c.method == "PATCH")
            before_push = sum(1 for c in calls[:first_write] if c.path.startswith("/services/data"))
            second = run_cycle(deps, as_of=anchor)
            assert second.plan is not None and second.plan.writes == []
            outputs = holdings(sandbox)
            assert outputs.duplicates() == {}
            yield World(mappings, anchor, outputs, before_push, started)
        finally:
            deps.engine.dispose()
            sandbox.reset()


@pytest.fixture
def env(world, sandbox, tmp_path, monkeypatch) -> Iterator[Env]:
    monkeypatch.setattr(sandbox.config, "zendesk_incremental_per_min", 0)
    made = Env(world, sandbox, tmp_path)
    monkeypatch.setattr(sandbox.faults, "roll", made.counting(sandbox.faults.roll))
    yield made
    made.close()


@dataclass
class Env:
    """One test's sandbox, store and connector, and what the faults did to them."""

    world: World
    sandbox: Any
    tmp: Path
    made: list[Deps] = field(default_factory=list)
    rolled: Counter[str] = field(default_factory=Counter)  # fault dice that came up
    reports: list[CycleReport] = field(default_factory=list)
    client_retries: dict[str, int] = field(default_factory=lambda: Counter())
    force_next_roll: bool = False  # the next fault dice with a share comes up (one request)

    @property
    def store(self) -> str:
        return f"sqlite:///{self.tmp / 'store.db'}"

    def counting(self, roll: Callable[[float], bool]) -> Callable[[float], bool]:
        def counted(share: float) -> bool:
            if self.force_next_roll and share > 0:
                self.force_next_roll = False
                self.rolled["forced"] += 1
                return True
            hit = roll(share)
            if hit:
                self.rolled[str(share)] += 1
            return hit

        return counted

    def deps(self, **settings: Any) -> Deps:
        base = sandbox_settings(self.sandbox, self.store, self.world.mappings)
        made = bootstrap(base.model_copy(update=settings))
        self.made.append(made)
        return made

    def cycle(self, deps: Deps, **kwargs: Any) -> CycleReport:
        sf_before = deps.salesforce.retries
        try:
            report = run_cycle(deps, as_of=self.world.anchor, **kwargs)
        except Exception as exc:  # a fault must never escape as an exception
            pytest.fail(f"the cycle raised {type(exc).__name__}: {exc}")
        self.client_retries["salesforce"] += deps.salesforce.retries - sf_before
        if deps.zendesk is not None:
            self.client_retries["zendesk"] += deps.zendesk.stats.retries
        self.reports.append(report)
        return report

    def complete(self, deps: Deps, limit: int = 3) -> None:
        """Fault-free cycles until the CRM holds what the reference holds (none if it does)."""
        for _ in range(limit):
            if compare(self.world.outputs, holdings(self.sandbox)).clean:
                return
            report = self.cycle(deps)
            assert report.status == "completed", (report.status, report.error)
        self.check_against_reference()

    def outcomes(self) -> list[str]:
        return [r.status for r in self.reports]

    def history(self, deps: Deps) -> list[dict[str, Any]]:
        with deps.engine.connect() as conn:
            rows = conn.execute(select(runs).where(runs.c.job == "sync").order_by(runs.c.id))
            return [dict(r._mapping) for r in rows]

    def calls(self, api: str | None = None, status: int | None = None) -> int:
        found = self.sandbox.calls.calls(api)
        return sum(1 for c in found if status is None or c.status == status)

    def check_against_reference(self, *, except_keys: set[str] = frozenset()) -> None:
        diff = compare(self.world.outputs, holdings(self.sandbox))
        assert diff.duplicates == {}
        missing = [k for k in diff.missing if k.split(" ", 1)[1] not in except_keys]
        assert missing == [] and diff.extra == [] and diff.changed == {}, diff.brief()

    def record(self, fault: str, injected: str, outcome: str, **extra: Any) -> None:
        per_record: Counter[str] = Counter()
        for r in self.reports:
            if r.push is not None:
                per_record.update(r.push.retried)
        retries = (
            f"SF {self.client_retries['salesforce']} / ZD {self.client_retries['zendesk']} / "
            f"records {dict(per_record) or 0}"
        )
        record_result(
            "fault",
            {
                "fault": fault,
                "injected": injected,
                "outcome": f"{outcome} (cycles: {', '.join(self.outcomes())})",
                "retries": retries,
                "duplicates": len(holdings(self.sandbox).duplicates()),
                **extra,
            },
            self.tmp.parent,
        )

    def close(self) -> None:
        for d in self.made:
            d.engine.dispose()


class OnFirstWrite:
    """Runs ``action`` (once) when the sandbox receives the first write call of a push."""

    def __init__(self, sandbox: Any, action: Callable[[], None], api: str = "salesforce"):
        self.sandbox, self.action, self.api = sandbox, action, api
        self.done = threading.Event()
        self._saved: Any = None

    def __enter__(self) -> OnFirstWrite:
        emulator = self.sandbox.emulators[self.api]
        self._saved = emulator.handle

        def handle(ctx: Any) -> Any:
            writing = ctx.request.method in ("PATCH", "POST", "PUT", "DELETE")
            if writing and "/oauth2/" not in ctx.request.path and not self.done.is_set():
                self.done.set()
                self.action()
            return self._saved(ctx)

        emulator.handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        self.sandbox.emulators[self.api].handle = self._saved


def no_retry_storm(env: Env, deps: Deps) -> None:
    """Retries are bounded: never more client retries than (attempts - 1) per call made."""
    sf_calls = sum(r.salesforce_calls for r in env.reports)
    assert env.client_retries["salesforce"] <= (ATTEMPTS - 1) * max(1, sf_calls)


# -- REQUEST_LIMIT_EXCEEDED (TotalRequests) ----------------------------------------------------
def test_request_limit_exceeded_stops_the_cycle_cleanly_and_the_next_completes(
    env, sandbox, tmp_path
):
    """``sync --once --json`` meets the spent daily allowance mid-push: exit 0, status
    "stopped" with the cause, state kept; once the allowance is back the next cycle completes."""
    config, cli_env = write_config(tmp_path, sandbox, env.store, mappings=env.world.mappings)
    limit = env.world.bootstrap_calls + env.world.calls_before_push + 2  # the push's 3rd call
    sandbox.faults.update(request_limit_after=limit)
    argv = [*CLI, "sync", "--once", "--json", "--as-of", env.world.anchor, "--config", str(config)]

    run = subprocess.run(argv, capture_output=True, text=True, env=cli_env, cwd=tmp_path)

    assert run.returncode == 0, run.stderr[-2000:]
    data = json.loads(run.stdout)
    assert data["status"] == "stopped", data
    refused = env.calls("salesforce", 403)
    assert refused == 1, "one refusal is enough: the allowance is spent, nothing is retried"
    sandbox.faults.update(request_limit_after=None)  # the allowance is back (next day)
    deps = env.deps()
    row = env.history(deps)[-1]
    assert row["status"] == "stopped" and "TotalRequests" in (row["error"] or ""), row
    with deps.engine.connect() as conn:  # state kept: cursors, and what landed before the stop
        assert conn.execute(select(sync_state)).first() is not None
        landed = conn.execute(select(ledger).where(ledger.c.crm_id.is_not(None))).all()
    assert landed, "the batches before the limit are in the ledger"

    env.complete(deps)

    env.check_against_reference()
    env.record(
        "REQUEST_LIMIT_EXCEEDED (TotalRequests)",
        f"{refused} × 403 mid-push",
        "stopped cleanly (exit 0, status stopped), state kept; next cycle completed",
        cycles=["stopped (CLI)", *env.outcomes()],
    )


# -- INVALID_SESSION_ID mid-run --------------------------------------------------------------
def test_an_expired_session_mid_run_logs_in_again_and_completes(env, sandbox):
    deps = env.deps()
    logins = deps.salesforce.meter.logins
    sandbox.faults.update(invalid_session_after_s=1.0)  # every session dies after a second

    report = env.cycle(deps)

    expired = env.calls("salesforce", 401)
    again = deps.salesforce.meter.logins - logins
    assert report.status == "completed", report.error
    assert expired >= 1 and again >= expired  # each expiry: one new login, the call repeated
    assert again <= report.salesforce_calls  # at most one login per call: bounded
    sandbox.faults.update(invalid_session_after_s=None)
    env.complete(deps)
    env.check_against_reference()
    env.record(
        "INVALID_SESSION_ID mid-run",
        f"{expired} × 401 (sessions live 1 s)",
        f"completed; {again} logins",
    )


# -- 503 on 10 % of calls --------------------------------------------------------------------
def test_503_on_ten_percent_of_calls_is_absorbed_by_bounded_retries(env, sandbox):
    deps = env.deps()
    sandbox.faults.update(http_503_share=0.10, seed=503)

    first = env.cycle(deps)

    unavailable = env.calls(status=503)
    assert first.status == "completed", first.error
    assert unavailable > 0 and env.client_retries["salesforce"] > 0
    resent = env.history(deps)[-1]["summary"]["client_retries"]
    assert resent["salesforce"] + resent.get("zendesk", 0) == unavailable  # in the run history
    no_retry_storm(env, deps)
    sandbox.faults.update(http_503_share=0.0)
    env.complete(deps)
    env.check_against_reference()
    env.record(
        "503 on 10 % of calls (both APIs)",
        f"{unavailable} × 503 of {env.calls()} calls",
        "completed",
    )


# -- UNABLE_TO_LOCK_ROW on 5 % of records -----------------------------------------------------
def test_row_locks_on_five_percent_of_records_are_sent_again_and_counted(env, sandbox):
    deps = env.deps()
    sandbox.faults.update(lock_row_share=0.05, seed=55)

    first = env.cycle(deps)

    locked = sum(env.rolled.values())
    assert first.status == "completed", first.error
    assert first.push is not None and first.push.retried.get("UNABLE_TO_LOCK_ROW", 0) > 0
    summary = env.history(deps)[-1]["summary"]
    assert summary["retried"]["UNABLE_TO_LOCK_ROW"] == first.push.retried["UNABLE_TO_LOCK_ROW"]
    # Sent again once, at once; what still fails waits for the next cycle (bounded).
    assert first.push.retried["UNABLE_TO_LOCK_ROW"] <= locked
    sandbox.faults.update(lock_row_share=0.0)
    env.complete(deps)
    env.check_against_reference()
    env.record(
        "UNABLE_TO_LOCK_ROW on 5 % of records",
        f"{locked} records locked",
        "completed (locked records sent again at once, the rest next cycle)",
    )


# -- 429 bursts with Retry-After -------------------------------------------------------------
def test_429_bursts_are_waited_out_as_retry_after_says(env, sandbox):
    deps = env.deps()
    sandbox.faults.update(burst_429=2, retry_after_s=1)  # at the first calls of the pull
    began = time.monotonic()
    with OnFirstWrite(sandbox, lambda: sandbox.faults.update(burst_429=2)):  # and mid-push
        report = env.cycle(deps)
    seconds = time.monotonic() - began

    throttled = env.calls(status=429)
    assert report.status == "completed", report.error
    assert throttled == 4
    assert seconds >= 2  # two bursts, each waited out for Retry-After: 1
    no_retry_storm(env, deps)
    env.complete(deps)
    env.check_against_reference()
    env.record(
        "429 bursts with Retry-After",
        f"2 bursts, {throttled} × 429 (Retry-After: 1)",
        "completed",
    )


# -- read timeouts -----------------------------------------------------------------------------
def test_read_timeouts_during_the_push_are_retried_without_duplicates(env, sandbox):
    deps = env.deps(
        transport=sandbox_settings(sandbox, env.store).transport.model_copy(
            update={"timeout": (5.0, 0.5)}
        )
    )
    sandbox.faults.update(targets=["salesforce"])

    def slow_for_a_while() -> None:
        sandbox.faults.update(slow_s=0.8)  # answers come after the client gave up reading
        threading.Timer(1.5, lambda: sandbox.faults.update(slow_s=0.0)).start()

    with OnFirstWrite(sandbox, slow_for_a_while):
        report = env.cycle(deps)
    time.sleep(1.6)

    assert report.status == "completed", report.error
    assert env.client_retries["salesforce"] >= 1  # the timed-out upsert was sent again
    no_retry_storm(env, deps)
    env.complete(deps)
    env.check_against_reference()
    env.record(
        "read timeouts (0.5 s read timeout, answers 0.8 s late for 1.5 s)",
        f"{env.client_retries['salesforce']} timed-out calls re-sent",
        "completed",
    )


# -- connections dropped mid-response ----------------------------------------------------------
def test_connections_dropped_mid_response_lose_and_duplicate_nothing(env, sandbox):
    """8 % of answers cut half-way, and always the answer to Zendesk's first create_many
    (the ticket job was queued, the connector cannot know): Salesforce calls are re-sent
    (upserts repeat harmlessly), the tickets are looked up before being created again."""
    deps = env.deps()
    sandbox.faults.update(drop_share=0.08, seed=8)
    emulator = sandbox.emulators["zendesk"]
    handle = emulator.handle

    def cut_create_many(ctx: Any) -> Any:
        response = handle(ctx)
        if ctx.request.path.endswith("/tickets/create_many.json") and not env.rolled["forced"]:
            env.force_next_roll = True  # the sandbox's drop dice, right after this handler
        return response

    emulator.handle = cut_create_many
    try:
        first = env.cycle(deps)
    finally:
        emulator.handle = handle

    dropped = sum(env.rolled.values())
    assert first.status in ("completed", "stopped"), first.error
    assert env.rolled["forced"] == 1 and dropped > 1
    no_retry_storm(env, deps)
    sandbox.faults.update(drop_share=0.0)
    env.complete(deps)
    env.check_against_reference()
    env.record(
        "connections dropped mid-response (8 %, and Zendesk's create_many answer)",
        f"{dropped} answers cut half-way",
        f"{first.status}; tickets looked up, none created twice",
    )


# -- a failed Bulk job -------------------------------------------------------------------------
def test_a_failed_bulk_job_is_recorded_and_its_records_sent_again(env, sandbox):
    deps = env.deps(push=PushSettings(bulk_threshold=50))  # snapshots, personas, health: Bulk
    sandbox.faults.update(fail_bulk_jobs=True)

    first = env.cycle(deps)
    assert first.status == "completed" and first.push is not None and first.push.bulk_jobs >= 2
    second = env.cycle(deps)  # polls: the jobs ended Failed
    assert second.status == "completed", second.error
    with deps.engine.connect() as conn:
        failed = conn.execute(
            select(outbox.c.code, outbox.c.target).where(outbox.c.status == "failed")
        ).all()
    codes = Counter(r.code for r in failed)
    assert failed and set(codes) <= {"BULK_JOB_FAILED", "UNPROCESSED", "NO_RESULT"}, codes

    sandbox.faults.update(fail_bulk_jobs=False)
    env.complete(deps, limit=4)
    env.check_against_reference()
    env.record(
        "a failed Bulk job (bulk_threshold 50)",
        f"{first.push.bulk_jobs} jobs ended Failed ({sum(codes.values())} records)",
        "completed; records sent again in new jobs after the fault",
    )


# -- a validation rule rejects some records ----------------------------------------------------
def test_records_a_validation_rule_rejects_wait_with_their_error_and_the_rest_lands(env, sandbox):
    deps = env.deps()
    sandbox.faults.update(validation_rules={"CS_CTA__c": {"Type__c": "Expansion"}})

    first = env.cycle(deps)

    assert first.status == "completed", first.error
    rejected = {
        k.split(" ", 1)[1]
        for k, v in env.world.outputs.values.items()
        if k.startswith("CS_CTA__c ") and v.get("Type__c") == "Expansion"
    }
    assert rejected
    children = {k.split(" ", 1)[1] for k in env.world.outputs.values if "/" in k}
    waiting = rejected | {c for c in children if c.split("/")[0] in rejected}
    env.check_against_reference(except_keys=waiting)
    with deps.engine.connect() as conn:
        errors = {
            r.external_id: r.error_code
            for r in conn.execute(select(ledger).where(ledger.c.error_code.is_not(None)))
        }
        logged = {
            r.record_id
            for r in conn.execute(
                select(record_errors).where(
                    record_errors.c.code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
                )
            )
        }
    assert {k: errors.get(k) for k in rejected} == dict.fromkeys(
        rejected, "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    )
    assert logged == rejected
    sandbox.calls.clear()

    again = env.cycle(deps)  # the rule still rejects them: they wait, nothing is re-sent

    assert again.status == "completed" and again.plan is not None
    assert {w.external_id for w in again.plan.writes} & rejected == set()
    env.record(
        "validation rule rejecting some records (CTA Type = Expansion)",
        f"{len(rejected)} CTAs rejected (+{len(waiting) - len(rejected)} children held)",
        "completed; the rest landed, rejected ones wait with their error (ledger, record_errors)",
    )


# -- an inactive owner -------------------------------------------------------------------------
def test_an_owner_deactivated_mid_push_fails_only_their_records_then_they_reach_a_fallback(
    env, sandbox
):
    deps = env.deps()
    users = sandbox.state.demo.users
    csm = users["csm1"]  # owns most outputs of the demo org
    sf = sandbox.emulators["salesforce"]
    with OnFirstWrite(
        sandbox, lambda: sf.person_update("User", csm, {"IsActive": False}, as_user="csm3")
    ):
        first = env.cycle(deps)

    assert first.status == "completed", first.error
    with deps.engine.connect() as conn:
        inactive = {
            r.external_id
            for r in conn.execute(
                select(ledger).where(ledger.c.error_code == "INACTIVE_OWNER_OR_USER")
            )
        }
    assert inactive, "records owned by the deactivated user failed one by one"
    assert first.push is not None
    landed = sum(c.created for c in first.push.counts.values())
    assert landed > len(inactive)  # the rest of each batch landed

    for _ in range(2):  # the pull sees the user inactive; the rules pick another owner
        assert env.cycle(deps).status == "completed"

    diff = compare(env.world.outputs, holdings(sandbox))
    owned_by_inactive = [
        r.get("Sync_Key__c") or r.get("CS_Sync_Key__c")
        for sobject in ("CS_CTA__c", "Task")
        for r in live(sandbox, sobject)
        if (r.get("Sync_Key__c") or r.get("CS_Sync_Key__c")) in inactive and r["OwnerId"] == csm
    ]
    env.record(
        "inactive owner (CSM deactivated between evaluation and push)",
        f"{len(inactive)} records INACTIVE_OWNER_OR_USER",
        "the rest of each batch landed; "
        + (
            "the refused ones reached another owner next cycle"
            if not diff.missing
            else f"FAILED: {len(diff.missing)} refused outputs never written again"
        ),
    )
    assert diff.duplicates == {} and diff.extra == [] and owned_by_inactive == []
    assert diff.missing == [], (
        f"{len(diff.missing)} outputs refused for the inactive owner were not written again "
        f"with the new owner: {diff.missing[:4]} ..."
    )


# -- a field hidden from the integration user --------------------------------------------------
def test_a_field_hidden_from_the_integration_user_is_named_and_nothing_is_written(
    env, sandbox, tmp_path
):
    sandbox.faults.update(hidden_fields={"CS_CTA__c": ["Evidence__c"]})
    config, cli_env = write_config(tmp_path, sandbox, env.store, mappings=env.world.mappings)
    sandbox.calls.clear()

    proc = subprocess.run(
        [*CLI, "sync", "--once", "--json", "--as-of", env.world.anchor, "--config", str(config)],
        capture_output=True,
        text=True,
        env=cli_env,
        cwd=tmp_path,
        timeout=120,
    )

    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "cs_cta.toml:fields.Evidence__c" in lines[0], lines
    assert env.calls() and not sandbox.calls.writes()

    # Hidden while a long-running worker was already started: the stream that reads it fails
    # naming the field, nothing is pushed on a partial pull, and the next cycle completes.
    sandbox.faults.update(hidden_fields={})
    deps = env.deps()
    sandbox.faults.update(hidden_fields={"CS_CTA__c": ["Evidence__c"]})
    sandbox.calls.clear()
    failed = env.cycle(deps)
    assert failed.status == "failed" and failed.pull is not None
    notes = [s.note for s in failed.pull.streams if s.status == "failed"]
    assert len(notes) == 1 and "Evidence__c" in notes[0] and "INVALID_FIELD" in notes[0]
    assert not sandbox.calls.writes()
    sandbox.faults.update(hidden_fields={})
    env.complete(deps)
    env.check_against_reference()
    env.record(
        "field hidden from the integration user (CS_CTA__c.Evidence__c)",
        "hidden at start; hidden mid-run",
        "at start: exit 2, one line naming cs_cta.toml:fields.Evidence__c, nothing written; "
        "mid-run: cycle failed on the cs_cta stream naming the field, nothing pushed; "
        "completed once visible",
    )


# -- Zendesk unavailable during the push -------------------------------------------------------
def zendesk_down(sandbox: Any, path_suffix: str = "", times: int = 10_000) -> Callable[[], None]:
    """503 on Zendesk calls (those ending with ``path_suffix``), ``times`` times, from now."""
    emulator = sandbox.emulators["zendesk"]
    handle, left = emulator.handle, [times]

    def unavailable(ctx: Any) -> Any:
        if ctx.request.path.endswith(path_suffix) and left[0] > 0:
            left[0] -= 1
            return Response(
                json.dumps({"error": "ServiceUnavailable", "description": "down for the test"}),
                status=503,
                content_type="application/json",
            )
        return handle(ctx)

    emulator.handle = unavailable

    def restore() -> None:
        emulator.handle = handle

    return restore


def test_ticket_creates_zendesk_refused_with_503s_are_sent_again_next_cycle(env, sandbox):
    """create_many answers 503 until the client's retries are spent: the tickets were not
    created (a 503 is not acted on), so the next cycle sends them again (DESIGN.md "Push":
    5xx is transient) instead of parking them as if Zendesk had rejected their content."""
    deps = env.deps()
    assert deps.zendesk is not None
    deps.zendesk.backoff_s = 0.05  # the client's retries, without its real pauses
    restore = zendesk_down(sandbox, "/tickets/create_many.json", times=deps.zendesk.max_attempts)
    try:
        first = env.cycle(deps)
    finally:
        restore()
    refused = env.calls("zendesk", 503)
    assert first.status == "completed", first.error
    assert refused == deps.zendesk.max_attempts  # bounded: one call's attempts, then next cycle

    env.complete(deps, limit=2)

    env.record(
        "Zendesk 503 on create_many until retries are spent",
        f"{refused} × 503",
        "completed; tickets sent again next cycle",
    )


def test_a_zendesk_outage_during_the_push_stops_cleanly_and_the_next_cycle_completes(env, sandbox):
    """Zendesk answers nothing but 503 from the first Salesforce write on: the Salesforce
    outputs land, the cycle does not end in an exception, and the next cycle writes the
    tickets (a whole call failing after retries leaves its batch for the next cycle)."""
    deps = env.deps()
    assert deps.zendesk is not None
    deps.zendesk.backoff_s = 0.05
    restore: list[Callable[[], None]] = []
    with OnFirstWrite(sandbox, lambda: restore.append(zendesk_down(sandbox))):
        first = env.cycle(deps)
    for undo in restore:
        undo()
    down = env.calls("zendesk", 503)
    assert first.status in ("completed", "stopped"), first.error
    diff = compare(env.world.outputs, holdings(sandbox))
    assert not [k for k in diff.missing if not k.startswith("ticket ")], diff.brief()

    env.complete(deps, limit=2)

    env.record(
        "Zendesk down (503 on every call) from the first Salesforce write",
        f"{down} × 503",
        f"{first.status} cleanly (Salesforce outputs landed); next cycle wrote the tickets",
    )


def test_a_task_batch_salesforce_refused_with_503s_is_written_next_cycle(env, sandbox):
    """The Task upsert answers 503 until the client's retries are spent: the whole batch waits
    for the next cycle (DESIGN.md "Push"), which must write every one of those tasks —
    including the handoff checklist of ivm_handoff, whose rule stops firing once its milestone
    (written earlier in the same push) is in the CRM."""
    deps = env.deps()
    deps.salesforce._retry = RetryPolicy(sleep=lambda s: None)  # the retries, not the pauses
    emulator = sandbox.emulators["salesforce"]
    handle, left = emulator.handle, [ATTEMPTS]

    def tasks_unavailable(ctx: Any) -> Any:
        if "/composite/sobjects/Task/" in ctx.request.path and left[0] > 0:
            left[0] -= 1
            body = [{"errorCode": "SERVER_UNAVAILABLE", "message": "down for the test"}]
            return Response(json.dumps(body), status=503, content_type="application/json")
        return handle(ctx)

    emulator.handle = tasks_unavailable
    try:
        first = env.cycle(deps)
    finally:
        emulator.handle = handle
    assert first.status == "completed" and first.push is not None
    waiting = first.push.count("task").failed
    assert waiting > 0 and left == [0]
    assert first.push.count("milestone").failed > 0  # the IVM milestone waits for its tasks

    second = env.cycle(deps)

    diff = compare(env.world.outputs, holdings(sandbox))
    env.record(
        "503 on the Task upsert until retries are spent",
        f"{ATTEMPTS} × 503 ({waiting} tasks in the batch)",
        "completed; batch sent next cycle"
        + (f" — FAILED: {len(diff.missing)} never written" if diff.missing else ""),
    )
    assert second.status == "completed"
    assert diff.missing == [], diff.brief()
    env.check_against_reference()
