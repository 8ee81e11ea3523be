"""mappings/rules.toml: every threshold in one file an admin edits, equal to RULES.md's defaults.

The shipped file must list every key of ``RuleParams`` with its default (so it cannot drift from
the code), a mistake is a ``mappings/rules.toml:<key>: <reason>`` error, and a changed value
changes what the rules decide.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from typing import Any

import pytest
from conftest import NOW

from connector.demo import default_mappings_dir
from connector.errors import ConfigErrors
from connector.rules.deployment import DeploymentExpansion
from connector.rules.params import RuleParams, load_params
from connector.rules.scorecard import HealthScorecard
from connector.rules.support import SupportRisk

SHIPPED = default_mappings_dir() / "rules.toml"


def dotted(tree: dict[str, Any], prefix: str = "") -> set[str]:
    """Every leaf key of a nested mapping as ``section.key``."""
    keys: set[str] = set()
    for name, value in tree.items():
        if isinstance(value, dict) and value:
            keys |= dotted(value, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def errors(tmp_path, text: str) -> list[str]:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigErrors) as caught:
        load_params(path, "mappings/rules.toml")
    return [e.line() for e in caught.value.errors]


def params_from(tmp_path, text: str) -> RuleParams:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return load_params(path, "mappings/rules.toml")


def test_the_shipped_rules_toml_holds_exactly_the_defaults() -> None:
    assert load_params(SHIPPED, "mappings/rules.toml") == RuleParams()


def test_the_shipped_rules_toml_lists_every_key() -> None:
    shipped = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    assert dotted(shipped) == dotted(RuleParams().model_dump())


def test_an_absent_rules_toml_means_every_default(tmp_path) -> None:
    assert load_params(tmp_path / "rules.toml") == RuleParams()


def test_an_unknown_key_is_a_file_and_key_error(tmp_path) -> None:
    assert errors(tmp_path, "[support]\nvolume_treshold = 10\n") == [
        "mappings/rules.toml:support.volume_treshold: extra inputs are not permitted"
    ]


def test_a_wrong_type_is_a_file_and_key_error(tmp_path) -> None:
    (line,) = errors(tmp_path, '[support]\nvolume_threshold = "many"\n')
    assert line.startswith("mappings/rules.toml:support.volume_threshold: input should be")


def test_every_problem_is_reported_at_once(tmp_path) -> None:
    lines = errors(tmp_path, "cool_down_days = 1.5\n[bug]\nmin_volume = 0\n")
    assert [line.split(": ")[0] for line in lines] == [
        "mappings/rules.toml:cool_down_days",
        "mappings/rules.toml:bug.min_volume",
    ]


def test_bands_out_of_order_are_a_file_and_key_error(tmp_path) -> None:
    lines = errors(tmp_path, "[scorecard.nps_bands]\ngreen = 0\nyellow = 30\norange = -30\n")
    assert lines == [
        "mappings/rules.toml:scorecard.nps_bands: lower bounds must fall: green >= yellow >= orange"
    ]


def test_invalid_toml_is_a_file_error(tmp_path) -> None:
    (line,) = errors(tmp_path, "[support\n")
    assert line.startswith("mappings/rules.toml: not valid TOML")


def test_a_lower_support_volume_threshold_makes_support_risk_fire(world, tmp_path) -> None:
    acme = world.customer("Acme")
    for _ in range(5):
        world.ticket(acme, created_at=NOW - timedelta(days=2), status="solved")
    assert world.keys(SupportRisk()) == set()
    lowered = params_from(tmp_path, "[support]\nvolume_threshold = 5\n")
    assert world.keys(SupportRisk(), world.ctx(params=lowered)) == {f"support_risk:{acme}"}


def test_lower_deployment_bands_make_70_percent_green(world, tmp_path) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=70)
    assert world.keys(DeploymentExpansion()) == set()
    text = "[deployment.bands]\ngreen = 0.7\nyellow = 0.5\norange = 0.3\n"
    ctx = world.ctx(params=params_from(tmp_path, text))
    assert world.keys(DeploymentExpansion(), ctx) == {f"deployment_expansion:{acme}"}
    (row,) = world.rows(HealthScorecard(), ctx, account_id=acme)
    (snapshot, _) = HealthScorecard().decide(row, ctx)
    assert snapshot.fields["deployment_color"] == "Green"
    assert "Green >= 0.70, Yellow >= 0.50, Orange >= 0.30" in snapshot.fields["evidence"]


def test_scorecard_points_and_overall_bands_come_from_rules_toml(world, tmp_path) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=70)
    ctx = world.ctx()
    (row,) = world.rows(HealthScorecard(), ctx, account_id=acme)
    (snapshot, _) = HealthScorecard().decide(row, ctx)
    text = "[scorecard.points]\ngreen = 100\nyellow = 100\norange = 100\nred = 100\n"
    generous = world.ctx(params=params_from(tmp_path, text))
    (again, _) = HealthScorecard().decide(row, generous)
    assert snapshot.fields["overall_color"] != "Green"
    assert (again.fields["overall_color"], again.fields["overall_score"]) == ("Green", 100.0)
