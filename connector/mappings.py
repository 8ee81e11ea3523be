"""Read the admin's mapping files into typed streams; every mistake is named by file and key.

``load_mappings`` checks what each file can say on its own (``connector.mapping_files``) and
across files (duplicate streams); ``resolve`` checks the result against the org and the Zendesk
account (``connector.mapping_resolve``) and produces the ``StreamSpec`` list the sources read.
Both collect every problem before raising ``ConfigErrors``, so an admin fixes them in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.errors import ConfigError, ConfigErrors
from connector.mapping_files import Problems, load_file
from connector.mapping_schema import CustomerFilter, FieldRef, StreamMapping
from connector.model import SourceName, StreamSpec

__all__ = [
    "CustomerFilter",
    "FieldRef",
    "MappingSet",
    "StreamMapping",
    "load_mappings",
    "resolve",
]

SOURCES: tuple[SourceName, ...] = ("salesforce", "zendesk", "csv")
# Per-account overrides RULES.md allows: rules setting -> the account column that overrides it.
THRESHOLD_COLUMNS = {
    "support.volume_threshold": "support_volume_threshold",
    "bug.volume_threshold": "bug_volume_threshold",
}


@dataclass(frozen=True)
class MappingSet:
    """Every mapping file: the enabled streams, and the disabled ones (listed, not pulled)."""

    root: Path
    streams: tuple[StreamMapping, ...]
    disabled: tuple[StreamMapping, ...] = ()

    def stream(self, name: str) -> StreamMapping | None:
        return next((s for s in self.streams if s.stream == name), None)

    @property
    def account_stream(self) -> StreamMapping | None:
        """The enabled Salesforce stream of Account (the one with the customer filter)."""
        return next((s for s in self.streams if s.customer_filter is not None), None)

    @property
    def customer_filter(self) -> CustomerFilter | None:
        account = self.account_stream
        return account.customer_filter if account else None

    @property
    def threshold_fields(self) -> dict[str, str]:
        """Rules setting -> account column, for the per-account overrides that are mapped."""
        account = self.account_stream
        mapped = set(account.columns) if account else set()
        return {k: col for k, col in THRESHOLD_COLUMNS.items() if col in mapped}

    def column_for(self, stream: str, source_field: str) -> str | None:
        """The column of ``stream`` that ``source_field`` fills, None when unmapped."""
        found = self.stream(stream)
        return found.column_for(source_field) if found else None


def load_mappings(root: Path) -> MappingSet:
    """Parse and check every ``<root>/{salesforce,zendesk,csv}/*.toml``; raise all problems."""
    if not root.is_dir():
        raise ConfigErrors([ConfigError(str(root), "", "no such mappings folder")])
    root = root.absolute()  # messages name files from the folder that holds mappings/
    problems: list[ConfigError] = []
    loaded: list[StreamMapping] = []
    for source in SOURCES:
        for path in sorted((root / source).glob("*.toml")):
            origin = path.relative_to(root.parent).as_posix()
            errs: Problems = []
            mapping = load_file(path, source, origin, errs, base=root.parent)
            problems.extend(ConfigError(origin, key, reason) for key, reason in errs)
            if mapping is not None:
                loaded.append(mapping)
    problems.extend(_across_files(loaded))
    if problems:
        raise ConfigErrors(problems)
    return MappingSet(
        root=root,
        streams=tuple(m for m in loaded if m.enabled),
        disabled=tuple(m for m in loaded if not m.enabled),
    )


def resolve(
    mappings: MappingSet,
    *,
    salesforce_describe: Callable[[str], Mapping[str, Any] | None] | None,
    zendesk_ticket_fields: Sequence[Mapping[str, Any]] | None,
    salesforce_describe_global: Callable[[], Mapping[str, Any]] | None = None,
) -> list[StreamSpec]:
    """The enabled streams as ``StreamSpec``s, checked against the org and Zendesk.

    ``salesforce_describe(name)`` returns the REST describe JSON of an sObject (None, or a
    ``LookupError``, for an unknown one); ``salesforce_describe_global()`` the Describe Global
    JSON, for "did you mean" on object names. Salesforce column types come from describe, so
    without ``salesforce_describe`` the Salesforce streams are left out (a Zendesk-only check);
    without ``zendesk_ticket_fields`` custom field ids are not checked.
    """
    from connector.mapping_resolve import resolve_streams  # it imports this module

    return resolve_streams(
        mappings, salesforce_describe, zendesk_ticket_fields, salesforce_describe_global
    )


def _across_files(loaded: Iterable[StreamMapping]) -> list[ConfigError]:
    problems: list[ConfigError] = []
    streams: dict[str, str] = {}
    account: str | None = None
    for m in loaded:
        if not m.enabled:
            continue
        if m.stream in streams:
            reason = f"'{m.stream}' is also defined in {streams[m.stream]}"
            problems.append(ConfigError(m.origin, "stream", reason))
        streams.setdefault(m.stream, m.origin)
        if m.customer_filter is not None and account is not None:
            reason = f"a customer filter is also defined in {account}: keep one Account mapping"
            problems.append(ConfigError(m.origin, "customer_filter", reason))
        elif m.customer_filter is not None:
            account = m.origin
    return problems
