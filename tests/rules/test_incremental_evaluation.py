"""An incremental evaluation stores what a full one would, on the demo org.

Each step changes the store (rows pulled again, a ticket ageing past a window, an event
starting, an executive sponsor leaving), then runs the same evaluation twice from the same
store: incrementally on the store itself, fully on a copy of it. The desired outputs must be
identical, and so must every contact's persona state (``previous_*`` of a contact the
incremental run did not cover stay as they were: a full run fills them, which changes no
output; ``evaluation_scope._unsettled_personas``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, update

from connector import evaluate as evaluate_module
from connector.bootstrap import Deps, bootstrap
from connector.demo import sandbox_settings
from connector.evaluate import build_context, evaluate
from connector.evaluation_scope import clock_windows
from connector.pull import pull
from connector.rules import all_rules
from connector.rules.model import RuleContext
from connector.rules.params import load_params
from connector.rules.scope import AGES_ASKED
from connector.rules.shared import materialize
from connector.store import make_engine, mirror
from connector.store.schema import desired_outputs, persona_state

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)  # ``pulled_at`` of a row no evaluation must re-read


def pulled_demo(sandbox: Any, url: str) -> tuple[Deps, RuleContext]:
    """The demo org pulled a while ago (not in the second before evaluating), and a context
    at 08:00 on the anchor's day, with hours to go in the same day."""
    deps = bootstrap(sandbox_settings(sandbox, url))
    assert pull(deps.engine, deps.sources, deps.specs, clock=deps.clock).status == "completed"
    with deps.engine.begin() as conn:
        for spec in deps.specs:
            conn.execute(update(mirror.table(spec)).values(pulled_at=LONG_AGO))
    anchor = sandbox.state.demo.anchor
    return deps, context(deps, datetime.combine(anchor.date(), time(8, 0), UTC))


@pytest.fixture
def demo(sandbox, tmp_path: Path) -> Iterator[tuple[Deps, RuleContext, Path]]:
    """On SQLite, whose file the equivalence tests copy."""
    path = tmp_path / "cs.db"
    deps, ctx = pulled_demo(sandbox, f"sqlite:///{path}")
    yield deps, ctx, path
    deps.engine.dispose()


@pytest.fixture
def any_store(sandbox, store_url) -> Iterator[tuple[Deps, RuleContext, None]]:
    """On SQLite and on PostgreSQL."""
    deps, ctx = pulled_demo(sandbox, store_url)
    yield deps, ctx, None
    deps.engine.dispose()


def context(deps: Deps, now: datetime) -> RuleContext:
    return build_context(
        deps.engine,
        deps.specs,
        deps.mappings,
        load_params(deps.settings.mappings_dir / "rules.toml"),
        deps.settings.owners,
        now,
        deps.settings.mappings_dir / "templates",
    )


def at(deps: Deps, ctx: RuleContext, hours: float) -> RuleContext:
    """The context ``hours`` after ``ctx``, on the same day."""
    later = context(deps, ctx.now + timedelta(hours=hours))
    assert later.today == ctx.today
    return later


def stored(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Desired outputs and persona state, as compared: everything but ``evaluated_at``."""
    with engine.connect() as conn:
        d = desired_outputs
        outputs = conn.execute(
            select(*(c for c in d.c if c.name not in ("evaluated_at", "run_id"))).order_by(d.c.key)
        ).all()
        ps = persona_state
        personas = conn.execute(
            select(*(c for c in ps.c if c.name != "evaluated_at")).order_by(ps.c.contact_id)
        ).all()
    return [tuple(r) for r in outputs], [tuple(r) for r in personas]


def same_personas(incremental: list[tuple[Any, ...]], full: list[tuple[Any, ...]]) -> None:
    """Equal, except ``previous_*`` the incremental run left null for a contact it did not
    cover (seen for the first time at an earlier evaluation, unchanged since)."""
    assert len(incremental) == len(full)
    for mine, theirs in zip(incremental, full, strict=True):
        if mine[5] is None and mine[6] is None:
            assert mine[:5] == theirs[:5]
        else:
            assert mine == theirs


def reference(path: Path, tmp_path: Path, ctx_now: datetime, deps: Deps) -> Engine:
    """A copy of the store at ``path``, evaluated fully at ``ctx_now``."""
    copy = tmp_path / f"full-{ctx_now:%H%M%S}.db"
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    engine = make_engine(f"sqlite:///{copy}")
    evaluate(engine, context(deps, ctx_now), all_rules(), incremental=False)
    return engine


def incremental_matches_full(deps: Deps, ctx: RuleContext, path: Path, tmp_path: Path) -> Any:
    full = reference(path, tmp_path, ctx.now, deps)
    report, _ = evaluate(deps.engine, ctx, all_rules(), incremental=True)
    mine, theirs = stored(deps.engine), stored(full)
    full.dispose()
    assert mine[0] == theirs[0]
    same_personas(mine[1], theirs[1])
    return report


def test_the_first_evaluation_is_full_and_the_next_with_nothing_changed_covers_no_account(
    any_store,
) -> None:
    deps, ctx, _ = any_store
    first, _ = evaluate(deps.engine, ctx, all_rules(), incremental=True)
    before = stored(deps.engine)
    again, _ = evaluate(deps.engine, ctx, all_rules(), incremental=True)

    assert first.scope == "no earlier evaluation" and first.accounts is None
    assert again.accounts == 0 and again.outputs == first.outputs
    assert stored(deps.engine) == before


def test_a_changed_ticket_an_aged_ticket_a_started_event_and_a_lost_sponsor_match_a_full_run(
    demo, tmp_path
) -> None:
    deps, ctx, path = demo
    evaluate(deps.engine, ctx, all_rules(), incremental=True)
    later = at(deps, ctx, 3)
    t = ctx.tables
    with deps.engine.begin() as conn:
        ticket = conn.execute(
            select(t.zendesk_ticket).where(t.zendesk_ticket.c.organization_id.is_not(None))
        ).first()
        assert ticket is not None
        base = dict(ticket._mapping)
        window = timedelta(days=ctx.params.support.max_age_days)
        # A support ticket pulled long ago that turns 21 days old between the two instants.
        aged = base | {
            "id": "990001",
            "status": "open",
            "priority": "normal",
            "type": "question",
            "tags": [],
            "created_at": ctx.now - window + timedelta(hours=1),
            "pulled_at": LONG_AGO,
        }
        # A high-priority ticket pulled just now.
        fresh = base | {
            "id": "990002",
            "status": "new",
            "priority": "urgent",
            "type": "incident",
            "tags": [],
            "created_at": ctx.now - timedelta(days=5),
            "pulled_at": datetime.now(UTC),
        }
        conn.execute(insert(t.zendesk_ticket), [aged, fresh])
        event = conn.execute(select(t.event).where(t.event.c.what_id.is_not(None))).first()
        assert event is not None
        started = dict(event._mapping) | {
            "id": "00U990000000001AAA",
            "start_at": ctx.now + timedelta(hours=1),
            "sync_key": None,
            "pulled_at": LONG_AGO,
        }
        conn.execute(insert(t.event), [started])
        sponsor = conn.execute(
            select(persona_state.c.contact_id).where(
                persona_state.c.effective == "Executive Sponsor", persona_state.c.active
            )
        ).first()
        assert sponsor is not None
        conn.execute(
            update(t.contact)
            .where(t.contact.c.id == sponsor.contact_id)
            .values(deleted=True, pulled_at=datetime.now(UTC))
        )

    report = incremental_matches_full(deps, later, path, tmp_path)
    assert report.accounts is not None and 0 < report.accounts <= 10, report.scope

    # The sponsor's loss fired once; the next evaluation settles it, as a full one would.
    settled = incremental_matches_full(deps, at(deps, ctx, 4), path, tmp_path)
    assert settled.accounts is not None and settled.accounts >= 1


def test_a_new_day_other_parameters_or_an_earlier_instant_make_a_full_evaluation(demo) -> None:
    deps, ctx, _ = demo
    evaluate(deps.engine, ctx, all_rules(), incremental=True)
    next_day = context(deps, ctx.now + timedelta(days=1))
    earlier = context(deps, ctx.now - timedelta(minutes=1))
    other = context(deps, ctx.now)
    other = replace(other, params=other.params.model_copy(update={"cool_down_days": 3}))

    def scope(of: RuleContext) -> str:
        return evaluate(deps.engine, of, all_rules(), incremental=True)[0].scope

    assert scope(earlier).startswith("an instant before the last")
    assert scope(next_day).startswith("a new day")
    assert scope(next_day).endswith("accounts changed since " + next_day.now.isoformat())
    assert "parameters" in scope(replace(other, now=next_day.now, today=next_day.today))


def test_every_ticket_age_the_rules_compare_is_a_clock_window(demo) -> None:
    deps, ctx, _ = demo
    asked: set[timedelta] = set()
    token = AGES_ASKED.set(asked)
    try:
        with deps.engine.connect() as conn:
            for rule in all_rules():
                rule.select(ctx)
            materialize(conn, ctx)
            conn.invalidate()
    finally:
        AGES_ASKED.reset(token)
    assert asked and asked <= set(clock_windows(ctx)[("zendesk_ticket", "created_at")])


def test_every_output_of_an_incremental_run_belongs_to_an_account_it_covered(
    any_store, monkeypatch
) -> None:
    deps, ctx, _ = any_store
    evaluate(deps.engine, ctx, all_rules(), incremental=True)
    with deps.engine.begin() as conn:
        account = conn.execute(
            select(desired_outputs.c.account_id).where(desired_outputs.c.rule == "support_risk")
        ).scalar()
        assert account is not None
        conn.execute(
            update(ctx.tables.account)
            .where(ctx.tables.account.c.id == account)
            .values(pulled_at=datetime.now(UTC))
        )
    staged: list[str | None] = []
    real_add = evaluate_module._Staging.add
    monkeypatch.setattr(
        evaluate_module._Staging,
        "add",
        lambda self, o: (staged.append(o.account_id), real_add(self, o))[1],
    )
    report, _ = evaluate(deps.engine, at(deps, ctx, 0.01), all_rules(), incremental=True)

    assert report.accounts == 1
    assert staged and set(staged) == {account}
