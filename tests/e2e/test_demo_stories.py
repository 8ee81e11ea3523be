"""End to end on the demo org: pull → evaluate produces exactly the story table's outputs.

The story table (docs/demo-org.md) lists, for every story account, every output key RULES.md
says it should get; the seed computes it with an independent, plain reading of RULES.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import pytest

from connector.bootstrap import Deps, bootstrap
from connector.demo import sandbox_settings
from connector.evaluate import build_context, evaluate
from connector.pull import pull
from connector.rules import all_rules
from connector.rules.params import load_params


@pytest.fixture
def deps(sandbox, store_url) -> Iterator[Deps]:
    made = bootstrap(sandbox_settings(sandbox, store_url))
    yield made
    made.engine.dispose()


def cycle(deps: Deps, sandbox) -> dict[str, set[str]]:
    """Pull, evaluate at the sandbox's anchor, and group top-level output keys by account."""
    assert pull(deps.engine, deps.sources, deps.specs, clock=deps.clock).status == "completed"
    params = load_params(deps.settings.mappings_dir / "rules.toml")
    ctx = build_context(
        deps.engine,
        deps.specs,
        deps.mappings,
        params,
        deps.settings.owners,
        sandbox.state.demo.anchor,
        deps.settings.mappings_dir / "templates",
    )
    _, outputs = evaluate(deps.engine, ctx, all_rules())
    keys: dict[str, set[str]] = defaultdict(set)
    for o in outputs:
        if o.object != "account_health" and "/" not in o.key:
            keys[o.account_id or ""].add(o.key)
    return keys


def expected(sandbox, act: int) -> dict[str, tuple[str, set[str]]]:
    return {
        s.account_id: (s.account_name, set(s.account_outputs))
        for s in sandbox.state.demo.stories
        if s.act == act
    }


def test_the_first_cycle_produces_every_story_accounts_outputs_and_no_others(deps, sandbox):
    got = cycle(deps, sandbox)
    wrong = {
        name: {
            "missing": sorted(want - got.get(acct, set())),
            "extra": sorted(got.get(acct, set()) - want),
        }
        for acct, (name, want) in expected(sandbox, 0).items()
        if got.get(acct, set()) != want
    }
    assert wrong == {}


@pytest.mark.sqlite_store
def test_the_second_act_fires_sponsor_turnover_for_the_contacts_who_left(deps, sandbox):
    cycle(deps, sandbox)
    sf = sandbox.emulators["salesforce"]
    for edit in sandbox.state.demo.acts:
        if edit["op"] == "delete":
            assert sf.person_delete(edit["id"]).success
        else:
            assert sf.person_update(edit["sobject"], edit["id"], edit["fields"]).success
    got = cycle(deps, sandbox)
    wrong = {
        name: {
            "missing": sorted(want - got.get(acct, set())),
            "extra": sorted(got.get(acct, set()) - want),
        }
        for acct, (name, want) in expected(sandbox, 1).items()
        if got.get(acct, set()) != want
    }
    assert wrong == {}


@pytest.mark.sqlite_store
def test_explain_shows_the_figures_that_fired_a_story_account(deps, sandbox):
    from connector.explain import explain

    cycle(deps, sandbox)
    params = load_params(deps.settings.mappings_dir / "rules.toml")
    ctx = build_context(
        deps.engine,
        deps.specs,
        deps.mappings,
        params,
        deps.settings.owners,
        sandbox.state.demo.anchor,
        deps.settings.mappings_dir / "templates",
    )
    result = explain(deps.engine, ctx, all_rules(), "northwind traders")
    support = next(r for r in result.rules if r.rule == "support_risk")
    assert support.fires and "20 support tickets" in support.evidence
    assert "threshold 20" in support.evidence
    silent = next(r for r in result.rules if r.rule == "bug_risk")
    assert not silent.fires and silent.figures and silent.outputs == []
