"""One measured evaluation, in a process of its own so its memory is its own.

Runs what ``cs-connector evaluate`` runs (bootstrap, ``build_context``, ``evaluate`` with
``write=True``) at a fixed instant, and times each rule inside that very run: every rule is
wrapped so its ``select()`` call marks where the previous rule's work ended (``evaluate`` builds,
executes and decides one rule after another), its ``decide()`` calls are summed, and a last
no-op rule marks where the rules end and the store write begins (every output is staged by then:
a rule's time includes staging its outputs, and uniqueness is the staging table's key). The
per-rule output counts are checked against ``evaluate``'s own report, so a change in how
``evaluate`` runs rules shows up as ``attribution_ok: false`` rather than as wrong numbers.

``python -m connector.bench.evaluate_child CONFIG AS_OF OUT_JSON [PROFILE_TXT] [--incremental]
[--touch]`` (the Zendesk token in ``CS_ZENDESK__API_TOKEN``; ``PROFILE_TXT``: run under
pyinstrument; ``--incremental``: as a cycle evaluates; ``--touch``: some rows pulled again first).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, event, false, literal, select, update
from sqlalchemy.engine import RowMapping

from connector.bench.probe import peak_rss_mb
from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.evaluate import build_context, evaluate
from connector.rules import all_rules
from connector.rules.model import DesiredOutput, Rule, RuleContext
from connector.rules.params import load_params

END = "bench:end"
PERSONAS = "personas (and setup)"
PLANS = 6  # rules whose query plan is recorded, slowest first


@dataclass
class Timeline:
    """Where ``evaluate`` is: the rule whose ``select()`` came last, and when each began."""

    marks: list[tuple[str, float]] = field(default_factory=list)
    statements: dict[str, tuple[str, Any]] = field(default_factory=dict)  # first SELECT per part
    plans: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)  # its EXPLAIN rows

    @property
    def current(self) -> str:
        return self.marks[-1][0] if self.marks else PERSONAS

    def mark(self, part: str) -> None:
        self.marks.append((part, time.perf_counter()))

    def listen(self, engine: Engine) -> None:
        """Keep the first SELECT each part sends, with its parameters, for EXPLAIN QUERY PLAN."""

        def before(_c: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                return
            if self.current in self.statements:
                return
            self.statements[self.current] = (statement, parameters)
            if engine.dialect.name == "sqlite":
                # Explained here, on the evaluation's own connection: the statement may read
                # the temporary tables ``evaluate`` made for the run, gone once it returns.
                explain = cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
                self.plans[self.current] = [tuple(r) for r in explain.fetchall()]

        event.listen(engine, "before_cursor_execute", before)


class TimedRule:
    """A rule as ``evaluate`` sees it, reporting when it starts and what its decide costs."""

    def __init__(self, rule: Rule, timeline: Timeline) -> None:
        self.rule, self.timeline = rule, timeline
        self.id, self.family, self.requires = rule.id, rule.family, rule.requires
        self.rows = self.outputs = 0
        self.decide_s = 0.0

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        self.timeline.mark(self.id)
        return self.rule.select(ctx, account_id)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        started = time.perf_counter()
        made = self.rule.decide(row, ctx)
        self.decide_s += time.perf_counter() - started
        self.rows += 1
        self.outputs += len(made)
        return made


class EndMark:
    """A last rule that reads nothing: its ``select()`` is the end of the rules' work."""

    id, family = END, "bench"
    requires: Mapping[str, Sequence[str]] = {}

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.rss_mb: float | None = None

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        self.timeline.mark(END)
        self.rss_mb = _vm("VmRSS")  # every output decided and staged, none stored yet
        return select(literal(1)).where(false())

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        return []


def _vm(field_name: str) -> float | None:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{field_name}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def _ru_maxrss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def per_rule(
    timed: Sequence[TimedRule], timeline: Timeline, report_outputs: Mapping[str, int]
) -> list[dict[str, Any]]:
    """One row per rule that ran: its interval, SQL (interval less decide), rows, outputs."""
    starts = dict(timeline.marks)
    order = [name for name, _ in timeline.marks]
    by_id = {t.id: t for t in timed}
    rows = []
    for name, following in zip(order, order[1:], strict=False):
        t = by_id[name]
        seconds = starts[following] - starts[name]
        rows.append(
            {
                "rule": name,
                "seconds": round(seconds, 4),
                "sql_s": round(seconds - t.decide_s, 4),
                "decide_s": round(t.decide_s, 4),
                "rows": t.rows,
                "outputs": t.outputs,
                "reported_outputs": report_outputs.get(name),
            }
        )
    return rows


def query_plans(engine: Engine, timeline: Timeline, parts: Sequence[str]) -> dict[str, Any]:
    """EXPLAIN QUERY PLAN of the statement each part sent (SQLite), as an indented tree."""
    if engine.dialect.name != "sqlite":
        return {}
    plans: dict[str, Any] = {}
    for part in parts:
        if part not in timeline.statements or part not in timeline.plans:
            continue
        statement, parameters = timeline.statements[part]
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _unused, detail in timeline.plans[part]:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
        plans[part] = {"sql": statement, "parameters": list(parameters or ()), "plan": lines}
    return plans


# What ``--touch`` marks as pulled again: about one 15-minute cycle of changes in a large org.
TOUCHED = {"zendesk_ticket": 300, "task": 100, "event": 50, "contact": 30, "opportunity": 20}


def touch(engine: Engine, ctx: RuleContext) -> dict[str, int]:
    """Mark the newest rows of a few streams as pulled now, as a pull that read them again
    would (``pulled_at``), so an incremental evaluation covers their accounts."""
    touched: dict[str, int] = {}
    with engine.begin() as conn:
        for stream, n in TOUCHED.items():
            if not ctx.tables.has(stream):
                continue
            table = ctx.tables[stream]
            newest = select(table.c.id).order_by(table.c.id.desc()).limit(n)
            done = conn.execute(
                update(table)
                .where(table.c.id.in_(newest.scalar_subquery()))
                .values(pulled_at=datetime.now(UTC))
            )
            touched[stream] = done.rowcount
    return touched


def run(
    config: Path,
    as_of: datetime,
    profile_to: Path | None = None,
    *,
    incremental: bool = False,
    touch_rows: bool = False,
) -> dict[str, Any]:
    """Bootstrap, build the context, evaluate every rule with write=True; what it measured.

    ``incremental``: as a cycle does (only the accounts whose inputs changed); ``touch_rows``:
    first mark some rows as pulled again (``touch``)."""
    deps = bootstrap(load_settings(config))
    mappings_dir = deps.settings.mappings_dir
    params = load_params(mappings_dir / "rules.toml", "mappings/rules.toml")
    started = time.perf_counter()
    ctx = build_context(
        deps.engine,
        deps.specs,
        deps.mappings,
        params,
        deps.settings.owners,
        as_of,
        mappings_dir / "templates",
    )
    context_s = time.perf_counter() - started
    touched = touch(deps.engine, ctx) if touch_rows else {}
    timeline = Timeline()
    timeline.listen(deps.engine)
    timed = [TimedRule(rule, timeline) for rule in all_rules()]
    rss_before = _vm("VmRSS")
    profiler = _profiler() if profile_to else None
    started, cpu_started = time.perf_counter(), time.process_time()
    end = EndMark(timeline)
    report, _ = evaluate(
        deps.engine, ctx, [*timed, end], write=True, incremental=incremental, clock=deps.clock
    )
    ended, cpu = time.perf_counter(), time.process_time() - cpu_started
    top: list[dict[str, Any]] = []
    if profiler is not None and profile_to is not None:
        profiler.stop()
        profile_to.write_text(profiler.output_text(unicode=False, color=False), encoding="utf-8")
        top = self_times(profiler.last_session.root_frame())
    report.outputs.pop(END, None)
    rules = per_rule(timed, timeline, report.outputs)
    if not report.scope.startswith(("asked for", "not stored")) and report.accounts is not None:
        # Incremental: ``report.outputs`` are the stored outputs of every account, the rules'
        # own counts those of the accounts evaluated.
        for r in rules:
            r["reported_outputs"] = r["outputs"]
    first_rule = timeline.marks[0][1] if timeline.marks else ended
    end_mark = dict(timeline.marks).get(END, ended)
    slowest = [r["rule"] for r in sorted(rules, key=lambda r: -r["seconds"])[:PLANS]]
    result = {
        "as_of": as_of.isoformat(),
        "build_context_s": round(context_s, 3),
        "evaluate_s": round(ended - started, 3),
        "evaluate_cpu_s": round(cpu, 3),
        "reported_s": report.seconds,
        "parts": {
            # personas and setup, less the shared tables made before the first rule
            "personas_s": round(first_rule - started - report.shared_tables_seconds, 3),
            "shared_tables_s": report.shared_tables_seconds,
            "rules_s": round(end_mark - first_rule, 3),
            "check_and_store_s": round(ended - end_mark, 3),
        },
        "scope": report.scope,
        "accounts": report.accounts,
        "touched": touched,
        "outputs": report.outputs,
        "total_outputs": report.total,
        "disabled": report.disabled,
        "rules": rules,
        "attribution_ok": all(r["outputs"] == r["reported_outputs"] for r in rules)
        and (len(rules) == len(report.outputs) or report.accounts is not None),
        "rss_mb": {
            "before_evaluate": rss_before,
            "after_rules": end.rss_mb,
            "peak_vmhwm": peak_rss_mb(),
            "peak_ru_maxrss": _ru_maxrss_mb(),
        },
        "profile_top": top,
    }
    result["plans"] = query_plans(deps.engine, timeline, [PERSONAS, *slowest])
    deps.engine.dispose()
    return result


def _profiler() -> Any:
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("profiling needs pyinstrument: pip install pyinstrument") from None
    profiler = Profiler(interval=0.001)
    profiler.start()
    return profiler


def self_times(root: Any, n: int = 20) -> list[dict[str, Any]]:
    """The ``n`` functions with the most self time in a pyinstrument frame tree."""
    totals: dict[str, float] = {}
    stack = [root]
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        if not frame.is_synthetic:
            where = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
            totals[where] = totals.get(where, 0.0) + frame.total_self_time
    whole = root.time or 1.0
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:n]
    return [{"function": k, "self_s": round(v, 3), "share": round(v / whole, 3)} for k, v in ranked]


def main() -> None:
    """Run once and write the measurements as JSON."""
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    config, as_of, out, *rest = [a for a in sys.argv[1:] if not a.startswith("--")]
    result = run(
        Path(config),
        datetime.fromisoformat(as_of),
        Path(rest[0]) if rest else None,
        incremental="--incremental" in flags,
        touch_rows="--touch" in flags,
    )
    Path(out).write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
