"""`cs-connector check`: every problem an admin made, each as file:key, in one pass."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from sandbox_config import write_config

from connector.demo import default_mappings_dir

CLI = [sys.executable, "-m", "connector"]


def _mappings(tmp_path: Path) -> Path:
    copy = tmp_path / "mappings"
    shutil.copytree(default_mappings_dir(), copy)
    return copy


def _check(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "check", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_sound_setup_has_no_problems(tmp_path, sandbox) -> None:
    config, env = write_config(
        tmp_path, sandbox, f"sqlite:///{tmp_path / 's.db'}", mappings=_mappings(tmp_path)
    )
    out = _check(config, env)
    assert out.returncode == 0, out.stderr
    assert "No problems found." in out.stdout


def test_five_different_mistakes_are_all_reported_with_file_and_key(tmp_path, sandbox) -> None:
    mappings = _mappings(tmp_path)
    config, env = write_config(
        tmp_path, sandbox, f"sqlite:///{tmp_path / 's.db'}", mappings=mappings
    )
    config.write_text(
        config.read_text()
        .replace("page_size = 2000", 'page_size = "lots"')
        .replace('cco = "cco@demo.cs-connector.dev"\n', "")
    )
    contact = mappings / "salesforce" / "contact.toml"
    contact.write_text(
        contact.read_text().replace(
            'Title = "title"', 'Title = { column = "title", transform = "shout" }'
        )
    )
    (mappings / "rules.toml").write_text("[support]\nvolume_treshold = 10\n")
    (mappings / "templates" / "ebr_schedule.j2").write_text("Hi {{ account.nmae }}\n")

    out = _check(config, env)

    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert "Traceback" not in out.stderr
    assert any(
        line.startswith(f"{config.name}:pull.page_size") or ":pull.page_size:" in line
        for line in lines
    ), lines
    assert any("contact.toml:fields.Title: unknown transform 'shout'" in line for line in lines), (
        lines
    )
    assert any(line.startswith("mappings/rules.toml:support.volume_treshold") for line in lines)
    assert any(line.startswith("mappings/templates/ebr_schedule.j2:line 1") for line in lines)
    assert any("owners.cco" in line for line in lines), lines
    assert len(lines) == 5, lines


def test_a_rule_whose_input_is_unmapped_is_listed_as_disabled(tmp_path, sandbox) -> None:
    mappings = _mappings(tmp_path)
    usage = mappings / "salesforce" / "usage_week.toml"
    usage.write_text("enabled = false\n" + usage.read_text())
    config, env = write_config(
        tmp_path, sandbox, f"sqlite:///{tmp_path / 's.db'}", mappings=mappings
    )
    out = _check(config, env)
    assert "rule usage_drop disabled: unmapped usage_week" in out.stdout


def _check_org(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "check-org", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_check_org_on_the_demo_org_finds_everything_the_connector_needs(tmp_path, sandbox):
    config, env = write_config(tmp_path, sandbox, f"sqlite:///{tmp_path / 's.db'}")
    out = _check_org(config, env)
    assert out.returncode == 0, out.stderr
    assert "every object, field and picklist value" in out.stdout


def test_check_org_names_a_field_the_integration_user_cannot_see(tmp_path, sandbox):
    sandbox.faults.update(hidden_fields={"CS_Milestone__c": ["Notes__c"]})
    config, env = write_config(tmp_path, sandbox, f"sqlite:///{tmp_path / 's.db'}")
    out = _check_org(config, env)
    assert out.returncode == 2
    assert "CS_Milestone__c/fields/Notes__c.field-meta.xml:" in out.stderr
    assert "Traceback" not in out.stderr


def test_setup_zendesk_creates_the_view_once(tmp_path, sandbox):
    config, env = write_config(tmp_path, sandbox, f"sqlite:///{tmp_path / 's.db'}")
    runs = [
        subprocess.run(
            [*CLI, "setup-zendesk", "--json", "--config", str(config)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    first, second = (json.loads(r.stdout) for r in runs)
    assert first["view_id"] == second["view_id"]
    assert (first["view_created"], second["view_created"]) == (True, False)
