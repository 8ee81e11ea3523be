"""Plain data shared by the stages: what a stream is, a row, a page of rows with its checkpoint.

Sources turn API records into ``Row`` values and yield ``Page`` objects; the pull shell writes
each page's rows and its ``state`` in one transaction, so a kill at any moment resumes with no
gap and no duplicate.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

ColumnType = Literal["text", "int", "float", "bool", "date", "datetime", "json"]
SourceName = Literal["salesforce", "zendesk", "csv"]
JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """One store column: where it comes from, its type, and the named transform applied."""

    name: str
    type: ColumnType
    source_field: str
    transform: str | None = None


@dataclass(frozen=True)
class StreamSpec:
    """One stream as the mappings define it, validated against the source's schema."""

    name: str  # the mirror table is mirror_<name>
    source: SourceName
    source_object: str  # "Contact", "tickets", a CSV drop folder
    columns: tuple[Column, ...]
    cursor_field: str | None  # "SystemModstamp", "updated_at"; None: full read each time
    origin: str  # the mapping file, for messages: "mappings/salesforce/contact.toml"
    options: Mapping[str, Any] = field(default_factory=dict)  # source-specific settings

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Row:
    """One source record in store form: its id, its modstamp, deleted or not, its columns."""

    id: str
    modstamp: datetime | None
    deleted: bool
    values: Mapping[str, Any]


@dataclass(frozen=True)
class RecordIssue:
    """A record that was skipped, and why (logged and stored; the rest proceed)."""

    record_id: str
    reason: str
    code: str | None = None


@dataclass(frozen=True)
class Page:
    """Rows to write together with the stream state that is true once they are written."""

    rows: Sequence[Row]
    state: JsonDict  # the stream's sync state after this page (JSON-able)
    api_calls: int = 1
    issues: Sequence[RecordIssue] = ()
    done: bool = False  # the sweep is complete: state holds the new cursor


class Source(Protocol):
    """Reads streams of one API; never touches the store."""

    def read(
        self, stream: StreamSpec, state: JsonDict | None, *, run_start: datetime, full: bool
    ) -> Iterator[Page]:
        """Yield pages from the saved state onward; the last one has ``done=True``."""
        ...

    def all_ids(self, stream: StreamSpec) -> Iterator[Sequence[str]]:
        """Every live id of the stream, in batches (the nightly Id sweep)."""
        ...
