"""Email Assist templates: sandboxed, strict, and CRM values are data, never template code."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import ConfigError
from connector.rules.templates import Templates

SHIPPED = Path(__file__).resolve().parents[2] / "mappings" / "templates"


def test_every_shipped_template_renders_with_its_rules_tokens() -> None:
    assert Templates(SHIPPED).check() == []


def test_crm_values_that_look_like_template_code_are_rendered_as_text() -> None:
    draft = Templates(SHIPPED).render(
        "renewal_upcoming",
        account={"name": "{{ 7*7 }}{% raise %}", "renewal_date": "2027-01-31"},
        csm={"name": "{{ config }}"},
    )
    assert "{{ 7*7 }}{% raise %}" in draft and "{{ config }}" in draft
    assert "49" not in draft


def test_an_unknown_token_is_an_error_naming_the_file_and_line(tmp_path) -> None:
    (tmp_path / "ebr_schedule.j2").write_text("Hello\nIt is {{ account.nmae }}\n")
    for name in ("usage_drop", "nps_detractor", "exec_checkin", "renewal_upcoming"):
        (tmp_path / f"{name}.j2").write_text((SHIPPED / f"{name}.j2").read_text())
    (problem,) = Templates(tmp_path, origin="mappings/templates").check()
    assert problem.line().startswith("mappings/templates/ebr_schedule.j2:line 2: ")
    assert "nmae" in problem.line()


def test_the_sandbox_refuses_attribute_tricks(tmp_path) -> None:
    (tmp_path / "usage_drop.j2").write_text("{{ account.__class__.__mro__ }}")
    with pytest.raises(ConfigError):
        Templates(tmp_path).render("usage_drop", account={"name": "x"})


def test_a_syntax_error_names_its_line(tmp_path) -> None:
    (tmp_path / "usage_drop.j2").write_text("ok\n{% if %}\n")
    with pytest.raises(ConfigError) as caught:
        Templates(tmp_path, origin="mappings/templates").render("usage_drop")
    assert caught.value.line().startswith("mappings/templates/usage_drop.j2:line 2: ")
