"""A corpus of broken mappings, each answered by its exact error lines.

Each folder under ``tests/data/bad_mappings/`` holds files laid over a copy of the shipped
``mappings/`` (same relative paths) and ``expected.txt``: the lines ``check`` prints, where
``{base}`` stands for the folder that holds the copied ``mappings/``.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from connector.errors import ConfigErrors
from connector.mappings import load_mappings, resolve
from connector.sandbox.salesforce.schema import Schema, load_schema
from connector.sandbox.seed import generate

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "bad_mappings"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


@cache
def _schema() -> Schema:
    return load_schema()


@cache
def _ticket_fields() -> tuple[dict[str, Any], ...]:
    demo = generate("S", seed=42, anchor=datetime(2026, 5, 4, 12, tzinfo=UTC))
    return tuple(demo.zendesk["ticket_fields"])


def check(root: Path) -> list[str]:
    """What ``cs-connector check`` reports for ``root``: load, then resolve against the sandbox."""
    try:
        mappings = load_mappings(root)
        resolve(
            mappings,
            salesforce_describe=lambda name: _schema().describe(name, "62.0"),
            salesforce_describe_global=lambda: _schema().describe_global("62.0"),
            zendesk_ticket_fields=list(_ticket_fields()),
        )
    except ConfigErrors as exc:
        return [error.line() for error in exc.errors]
    return []


def overlay(case: Path, base: Path) -> Path:
    root = base / "mappings"
    shutil.copytree(REPO / "mappings", root)
    for path in case.rglob("*"):
        if path.is_file() and path.name != "expected.txt":
            target = root / path.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return root


def test_the_corpus_has_at_least_twenty_broken_mappings() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("name", CASES)
def test_a_broken_mapping_is_answered_by_its_exact_error_lines(name: str, tmp_path: Path) -> None:
    case = CORPUS / name
    root = overlay(case, tmp_path)
    expected = (case / "expected.txt").read_text(encoding="utf-8")
    expected = expected.replace("{base}", str(tmp_path))
    assert check(root) == expected.splitlines()
